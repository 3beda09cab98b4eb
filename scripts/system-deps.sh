#!/usr/bin/env bash
# Install what SalesLab needs outside Python, where the platform allows (Debian/Ubuntu with apt).
#   font  a CJK font so Chinese labels in charts render (fonts-wqy-microhei, ~5 MB)
#   java  a Java development kit for the PySpark engine and its parity tests (default-jdk-headless:
#         javac compiles the small key-service class Spark's Parquet decryption of the warehouse needs)
#   browser  headless Chromium for the pack's PDF and the browser tests (chromium; Playwright for
#         Python drives it, never `playwright install`), pdftotext (poppler-utils) and a CJK font for
#         the pages (fonts-noto-cjk)
# Without apt or root rights it prints what to install and carries on.
set -u
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(font)
pkgs=()
for w in "${want[@]}"; do
  case "$w" in
    font)
      if ! ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 \
         && ! fc-list :lang=zh 2>/dev/null | grep -q .; then pkgs+=(fonts-wqy-microhei); fi ;;
    java)
      { command -v java && command -v javac; } >/dev/null 2>&1 || pkgs+=(default-jdk-headless) ;;
    browser)
      [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
      command -v pdftotext >/dev/null 2>&1 || pkgs+=(poppler-utils)
      ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || pkgs+=(fonts-noto-cjk) ;;
    *) echo "system-deps: unknown item '$w' (known: font java browser)" >&2; exit 2 ;;
  esac
done
[ ${#pkgs[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      echo "system-deps: please install: ${pkgs[*]} (e.g. sudo apt-get install ${pkgs[*]})" >&2; exit 0; fi
  fi
  echo "system-deps: installing ${pkgs[*]}"
  $SUDO apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
    || echo "system-deps: could not install ${pkgs[*]}; please install them by hand" >&2
else
  echo "system-deps: no apt-get here; please install: ${pkgs[*]}" >&2
fi
exit 0
