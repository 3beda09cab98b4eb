"""E-mail delivery of the report pack (``saleslab run --notify``).

- On success the ``notify.recipients`` get the executive summary (the pack's front page,
  ``index.html``, as HTML with a plain-text alternative) and the PDF of the pack attached.
- On failure they get the failing stage and its one-line error (and the run folder).
- ``delivery:`` in the run file: each recipient gets the pack of their own scope — a run as their
  access-policy user (``reports/<id>-<user>``, reusing the warehouse the main run just ingested), so a
  rep's pack and PDF hold only their customers. A recipient's failing run is reported to
  ``notify.recipients`` and the others still get theirs.

Sending goes through the SMTP server of ``notify:`` (starttls, ssl or none; the password from the
environment variable ``password_env``, never from the file). Temporary failures (connection refused
or dropped, time-outs, 4xx replies) are retried ``retries`` times, waiting ``backoff_seconds * 2**(n-1)``
before retry n; permanent ones (5xx, a refused login, STARTTLS missing) are not retried.
"""

from __future__ import annotations

import html
import mimetypes
import os
import re
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

from .config import NotifySettings, RunParams
from .errors import ParameterError, SalesLabError

LABELS = {
    "mail_subject_ok": ("{title}：{period}（{who}）", "{title}: {period} ({who})"),
    "mail_subject_failed": ("【运行失败】{title}：{period}，阶段 {stage}", "[run failed] {title}: {period}, stage {stage}"),
    "mail_failed_body": ("运行 {run_id} 在阶段 {stage} 失败：\n\n{error}\n\n运行目录：{run_dir}\n请查看该阶段的日志与已部分执行的笔记本。",
                         "Run {run_id} failed at stage {stage}:\n\n{error}\n\nRun folder: {run_dir}\n"
                         "See the stage's log and the partially executed notebook there."),
    "mail_pdf_attached": ("附件为完整报告的 PDF。", "The whole pack is attached as a PDF."),
    "mail_no_pdf": ("本次没有 PDF（{reason}）；完整报告见：{run_dir}", "No PDF this time ({reason}); the pack is at {run_dir}"),
    "mail_pack_at": ("完整报告：{run_dir}", "The whole pack: {run_dir}"),
    "mail_all": ("全部数据", "all data"),
    "report_title_fallback": ("销售分析报告", "Sales analysis report"),
}


class DeliveryFailed(SalesLabError):
    """A message could not be sent (after the retries), or a recipient's pack failed."""

    exit_code = 8


def _t(key: str, lang: str, **values) -> str:
    zh, en = LABELS[key]
    return (zh if lang == "zh-CN" else en).format(**values)


def _title(lang: str) -> str:
    try:
        from .report import i18n

        return i18n.t("report_title", lang)
    except Exception:  # noqa: BLE001 — a label lookup must not stop a mail
        return _t("report_title_fallback", lang)


# ---- messages ----------------------------------------------------------------------------------
class _Text(HTMLParser):
    """The text of an HTML page, one line per block (for the plain-text alternative)."""

    BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "li", "tr", "br", "table", "section", "header", "footer", "main",
             "details", "summary", "ul", "ol", "dt", "dd"}
    SKIP = {"style", "script", "head", "nav"}  # the pack's top bar links pages a mail does not carry

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("  ")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n")
        elif tag == "span":  # figures side by side in a cell
            self.parts.append("  ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = [re.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in "".join(self.parts).splitlines()]
        return "\n".join(ln for ln in lines if ln)


def html_to_text(page: str) -> str:
    p = _Text()
    p.feed(page)
    p.close()
    return p.text()


_REL_LINK = re.compile(r'<a\b[^>]*href="(?!https?:|mailto:)[^"]*"[^>]*>(.*?)</a>', re.S | re.I)
_IMG = re.compile(r'<img\b[^>]*src="(?!https?:|data:|cid:)([^"]+)"[^>]*>', re.I)


def _mail_html(page: str, run_dir: Path, msg_images: dict[str, Path]) -> str:
    """The front page for a mail client: links into the pack (relative, dead in a mail) become text;
    local images become inline parts (cid:)."""
    page = _REL_LINK.sub(r"\1", page)

    def image(m):
        path = (run_dir / html.unescape(m.group(1))).resolve()
        if not path.is_file() or run_dir.resolve() not in path.parents:
            return ""
        cid = make_msgid(domain="saleslab")[1:-1]
        msg_images[cid] = path
        return m.group(0).replace(m.group(1), f"cid:{cid}")
    return _IMG.sub(image, page)


def pack_pdf(run_dir: Path, params: RunParams | None = None) -> tuple[Path | None, str]:
    """The pack's PDF (made now with :func:`saleslab.report.pdf.write_pdf` when the run has none),
    or (None, why not)."""
    existing = sorted(Path(run_dir).glob("*.pdf"))
    if existing:
        return existing[0], ""
    try:
        from .report.pdf import write_pdf
    except ImportError:
        return None, "the PDF writer is not installed in this version"
    try:
        return Path(write_pdf(run_dir)), ""
    except Exception as e:  # noqa: BLE001 — the summary still goes out, saying why there is no PDF
        return None, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".strip(": ")


def success_message(run_dir: Path, manifest: dict, params: RunParams, to: list[str]) -> EmailMessage:
    """The summary mail of a finished run: subject, the front page (HTML + text), the PDF attached."""
    lang = params.language
    run_dir = Path(run_dir)
    who = (manifest.get("access") or {}).get("user") or params.user or _t("mail_all", lang)
    msg = _envelope(params.notify, to, _t("mail_subject_ok", lang, title=_title(lang),
                                          period=f"{params.period.start} – {params.period.end}", who=who))
    index = run_dir / "index.html"
    page = index.read_text(encoding="utf-8") if index.exists() else f"<p>{html.escape(str(run_dir))}</p>"
    pdf, why = pack_pdf(run_dir, params)
    note = _t("mail_pdf_attached", lang) if pdf else _t("mail_no_pdf", lang, reason=why, run_dir=run_dir)
    text = html_to_text(page) + "\n\n" + note + "\n" + _t("mail_pack_at", lang, run_dir=run_dir)
    msg.set_content(text)
    images: dict[str, Path] = {}
    body = _mail_html(page, run_dir, images)
    body = body.replace("</body>", f"<p>{html.escape(note)}</p></body>") if "</body>" in body else body + note
    msg.add_alternative(body, subtype="html")
    html_part = msg.get_payload()[-1]
    for cid, path in images.items():
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        html_part.add_related(path.read_bytes(), *ctype.split("/", 1), cid=f"<{cid}>", filename=path.name)
    if pdf:
        msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf",
                           filename=f"{manifest.get('run_id', run_dir.name)}.pdf")
    return msg


def failure_message(params: RunParams, to: list[str], stage: str, error: str, run_id: str = "",
                    run_dir: Path | str = "") -> EmailMessage:
    """The failure mail: the failing stage and its one-line error."""
    lang = params.language
    msg = _envelope(params.notify, to, _t("mail_subject_failed", lang, title=_title(lang), stage=stage,
                                          period=f"{params.period.start} – {params.period.end}"))
    msg.set_content(_t("mail_failed_body", lang, run_id=run_id or "—", stage=stage, error=error,
                       run_dir=run_dir or "—"))
    return msg


def _envelope(settings: NotifySettings, to: list[str], subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = settings.sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    return msg


# ---- sending -----------------------------------------------------------------------------------
def _password(settings: NotifySettings) -> str | None:
    if not settings.username:
        return None
    value = os.environ.get(settings.password_env or "")
    if not value:
        raise ParameterError(f"notify.password_env: the environment variable {settings.password_env} is not set "
                             f"(it holds the SMTP password of {settings.username})")
    return value


def _temporary(e: BaseException) -> bool:
    if isinstance(e, smtplib.SMTPResponseException):
        return 400 <= e.smtp_code < 500
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in e.recipients.values())
    if isinstance(e, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(e, smtplib.SMTPException):  # a subclass of OSError: e.g. "no suitable authentication method"
        return False
    return isinstance(e, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError,
                          socket.timeout, TimeoutError, OSError)) and not isinstance(
        e, (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError))


def _describe(e: BaseException) -> str:
    if isinstance(e, smtplib.SMTPResponseException):
        err = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return f"{e.smtp_code} {err}"
    return f"{type(e).__name__}: {e}"


def send(msg: EmailMessage, settings: NotifySettings, progress: Callable[[str], None] = print,
         sleep: Callable[[float], None] = time.sleep) -> int:
    """Send ``msg`` through ``settings``' server, retrying temporary failures; return the attempts used.
    Raise :class:`DeliveryFailed` (one line) when it cannot be sent."""
    password = _password(settings)
    recipients = [a.strip() for a in msg["To"].split(",") if a.strip()]
    attempts = settings.retries + 1
    for n in range(1, attempts + 1):
        try:
            if settings.security == "ssl":
                server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds,
                                          context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds)
            with server:
                if settings.security == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if settings.username:
                    server.login(settings.username, password)
                refused = server.send_message(msg, settings.sender, recipients)
            if refused:  # accepted for some recipients only: the others did not get it
                raise DeliveryFailed(f"mail {msg['Subject']!r} refused for {', '.join(sorted(refused))} by "
                                     f"{settings.smtp_host}:{settings.smtp_port} (sent to the others)")
            progress(f"      mail sent to {', '.join(recipients)}: {msg['Subject']}"
                     + (f" (attempt {n})" if n > 1 else ""))
            return n
        except (smtplib.SMTPException, OSError) as e:
            if not _temporary(e) or n == attempts:
                raise DeliveryFailed(f"mail to {', '.join(recipients)} via {settings.smtp_host}:{settings.smtp_port} "
                                     f"not sent after {n} attempt(s): {_describe(e)}") from None
            wait = settings.backoff_seconds * 2 ** (n - 1)
            progress(f"      mail attempt {n} of {attempts} failed ({_describe(e)}); retrying in {wait:g}s")
            sleep(wait)
    raise AssertionError("unreachable")


# ---- a run with notices ----------------------------------------------------------------------------
def run_and_notify(params: RunParams, progress: Callable[[str], None] = print, run_id: str | None = None,
                   sleep: Callable[[float], None] = time.sleep):
    """``saleslab run --notify``: the run, its summary or failure mail, then the delivery list.

    Returns the main run's :class:`saleslab.pipeline.RunResult`; re-raises the run's error after the
    failure mail; raises :class:`DeliveryFailed` at the end when a recipient's pack failed."""
    from .pipeline import one_line_error, run

    settings = params.notify
    if settings is None:
        raise ParameterError("--notify: the run parameter file has no notify: section (smtp_host, sender, "
                             "recipients ...)")
    _password(settings)  # a missing password is found before the run, not after it
    admins = settings.recipients
    try:
        res = run(params, progress=progress, run_id=run_id)
    except Exception as e:  # noqa: BLE001 — whatever stopped the run is mailed, then raised as it was
        if admins:
            stage, run_dir = _failure_where(e)
            try:
                send(failure_message(params, admins, stage, one_line_error(e), getattr(run_dir, "name", ""),
                                     run_dir or ""), settings, progress, sleep)
            except DeliveryFailed as d:  # the run's own error is the one to report
                progress(f"      {d}")
        raise
    failed = []
    if admins:
        try:
            send(success_message(res.run_dir, res.manifest, params, admins), settings, progress, sleep)
        except DeliveryFailed as d:  # the delivery list still gets its packs; the failure is reported at the end
            progress(f"      {d}")
            failed.append(f"summary mail: {d}")
    for rec in params.delivery:
        p = params.model_copy(update={"user": rec.user, "ingest": False})  # the warehouse was just ingested
        progress(f"delivery: the pack of {rec.user} for {rec.email}")
        try:
            r = run(p, progress=progress)
        except Exception as e:  # noqa: BLE001 — one recipient's failing pack does not stop the others
            stage, run_dir = _failure_where(e)
            failed.append(f"{rec.user}: {stage}: {one_line_error(e)}")
            if admins:
                try:
                    send(failure_message(p, admins, stage, one_line_error(e), getattr(run_dir, "name", ""),
                                         run_dir or ""), settings, progress, sleep)
                except DeliveryFailed as d:
                    failed.append(str(d))
            continue
        try:
            send(success_message(r.run_dir, r.manifest, p, [rec.email]), settings, progress, sleep)
        except DeliveryFailed as e:
            failed.append(f"{rec.user}: {e}")
    if failed:
        total = len(params.delivery) + bool(admins)  # the summary mail to the admins is a delivery too
        raise DeliveryFailed(f"{len(failed)} of {total} deliveries failed: " + "; ".join(failed))
    return res


def _failure_where(e: BaseException) -> tuple[str, Path | None]:
    """(failing stage, run folder) of a failed run."""
    import json

    run_dir = getattr(e, "run_dir", None)
    stage = getattr(e, "stage", None)
    if stage is None and run_dir is not None and (Path(run_dir) / "manifest.json").exists():
        stage = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8")).get("failed_stage")
    return stage or "run", run_dir
