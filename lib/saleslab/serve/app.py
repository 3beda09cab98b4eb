"""``saleslab serve``: the stakeholder pages on Voila, behind a login, over TLS, each kernel told who
is looking.

:class:`SalesLabVoila` is Voila's standalone app with:

- identity: :mod:`saleslab.serve.auth` (password login or trusted proxy); users outside the access
  policy are anonymous, and anonymous requests get the login page (API and websocket: 403);
- the identity into the kernel: a pre-launch hook inserts, after the notebook's ``parameters`` cell,
  a cell tagged ``injected-parameters`` with ``params_file``, ``user`` (the verified one) and ``lang``;
  nothing the client sends changes them. No Voila preheated kernels (they would render before the
  user is known); instead warm kernels with only the pages' imports run (:mod:`saleslab.serve.pool`),
  which get the user and the request's variables from the same injected cell;
- kernels: a page's kernel belongs to the user who opened it (another user's websocket, kernel
  request or shut-down is refused); a logged-in user cannot execute code (Voila's websocket lets
  only widget messages through, no ``execute_request``); idle kernels are culled after
  ``serve.kernel_idle_seconds`` (a connected page stays), and Voila shuts a kernel down when its page
  closes;
- pages: ``/`` (who you are, the links), ``/voila/render/<page>.ipynb`` for the notebooks directly
  in ``notebooks/pages/`` only, ``/pack/`` (the newest finished report pack this user may see), our
  Voila template ``saleslab`` (Voila's lab template without its CDN links: no request leaves the
  server); the directory tree, contents API and file handlers of Voila are not served;
- transport: TLS with ``--certfile/--keyfile`` (TLS 1.2 at least, 1.3 preferred), ``xheaders`` off
  (the socket's peer is the client address), one port (a port in use is one line, not a retry).
"""

from __future__ import annotations

import errno
import json
import mimetypes
import os
import ssl
import tempfile
from pathlib import Path

from .. import access
from ..config import PROJECT_ROOT, load_params
from ..errors import ParameterError, SalesLabError
from . import auth

PAGES_DIR = PROJECT_ROOT / "notebooks" / "pages"
TEMPLATE_ROOT = Path(__file__).parent / "templates"
TEMPLATE = "saleslab"
#: files of a report pack served under /pack/ (no notebooks, logs, manifests or Parquet)
PACK_FILES = frozenset({".html", ".pdf", ".png", ".svg", ".jpg", ".jpeg", ".css", ".js", ".woff2"})
#: pack files that are exports: only for users with the export right
PACK_EXPORTS = frozenset({".csv", ".xlsx"})
_PAGE_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]*\.ipynb"
#: JupyterLab extensions installed beside Voila that the pages' browsers need not load
UNUSED_EXTENSIONS = ("jupyterlab-plotly", "jupyterlab_pygments", "@voila-dashboards/jupyterlab-preview")


#: one-line pages of the page handler (zh-CN, en)
RENDER_LABELS = {
    "serve_render_busy": ("服务器当前打开的页面过多，请稍后再试。", "The server has too many pages open; please try again in a moment."),
    "serve_render_too_many": ("您打开的页面过多，请先关闭一个页面。", "You have too many pages open; close one first."),
}


def render_label(key: str, lang: str) -> str:
    zh, en = RENDER_LABELS[key]
    return zh if lang == "zh-CN" else en


class ServeError(SalesLabError):
    """The server cannot start (port in use, certificate unreadable). Exit status 2."""

    exit_code = 2


# ---- identity into the kernel -------------------------------------------------------------------
def injected_cell_source(params_file: Path, user: str, lang: str, request_env: dict | None = None) -> str:
    """The source of the ``injected-parameters`` cell (JSON strings are Python string literals).
    ``request_env``: the request's variables Voila gives a kernel it starts for the request
    (``QUERY_STRING``, ``VOILA_REQUEST_URL`` ...), set here too, so that a warm kernel started
    before the request (:mod:`saleslab.serve.pool`) sees the same."""
    lines = [
        "# Injected by saleslab serve: the verified user (nothing the browser sends changes these)",
        f"params_file = {json.dumps(str(params_file))}",
        f"user = {json.dumps(user)}",
        f"lang = {json.dumps(lang)}",
    ]
    if request_env:
        lines += ["import os as _os", f"_os.environ.update({json.dumps(request_env, ensure_ascii=True)})", "del _os"]
    return "\n".join(lines)


def request_env(request) -> dict:
    """The per-request kernel variables of Voila's render handler (CGI style) for ``request``."""
    from tornado.httputil import split_host_and_port

    host, port = split_host_and_port(request.host.lower())
    return {"SCRIPT_NAME": request.path, "PATH_INFO": "", "QUERY_STRING": str(request.query),
            "SERVER_NAME": host, "SERVER_PORT": str(port) if port else "", "VOILA_REQUEST_URL": request.full_url()}


def make_prelaunch_hook(params_file: Path, lang: str):
    """Voila's pre-launch hook: the notebook with the verified user injected after its parameters cell."""
    import nbformat
    from tornado.web import HTTPError

    def hook(req_handler, notebook, cwd):
        user = req_handler.current_user
        if user is None or not getattr(user, "username", ""):
            raise HTTPError(403)  # never reached through @authenticated; refuse rather than run without a user
        cells = [c for c in notebook.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
        at = next((i + 1 for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
        if at is None:  # a page without a parameters cell would run without the verified user: refuse
            raise HTTPError(500, "page notebook without a cell tagged parameters: not rendered")
        cell = nbformat.v4.new_code_cell(injected_cell_source(params_file, user.username, lang,
                                                              request_env(req_handler.request)),
                                         metadata={"tags": ["injected-parameters"]})
        cells.insert(at, cell)
        notebook.cells = cells
        return notebook

    return hook


# ---- which report pack a user may see -----------------------------------------------------------
def pack_for(reports: Path, ident) -> Path | None:
    """The newest finished full report pack in ``reports`` this identity may see: one made for
    exactly their scope (manifest ``access.fingerprint``), or one made for scope ``all`` without
    personal data when the user's scope is ``all`` with no hidden columns. None when there is none (an ungoverned pack, with
    no ``access`` in its manifest, is never shown)."""
    best, best_key = None, ""
    try:
        runs = [p for p in Path(reports).iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")]
    except OSError:
        return None
    for run in runs:
        try:
            m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        a = m.get("access") if isinstance(m, dict) else None
        if m.get("status") != "ok" or not m.get("full", True) or not isinstance(a, dict):
            continue
        mine = a.get("fingerprint") == ident.fingerprint
        # the scheduled pack (every row, no personal data) for users who see every row and every column
        shared = a.get("scope") == "all" and not a.get("pii") and ident.scope == "all" and not ident.hidden_columns
        key = str(m.get("finished") or "")
        if (mine or shared) and (run / "index.html").is_file() and key > best_key:
            best, best_key = run, key
    return best


def pack_file(run_dir: Path, rel: str, may_export: bool) -> Path | None:
    """The file ``rel`` of the pack, or None when it is outside the run folder, hidden, or not a
    pack page (only pages, figures and the PDF; CSV/XLSX exports for users with the export right)."""
    rel = rel or "index.html"
    if "\x00" in rel or "\\" in rel:
        return None
    parts = [p for p in rel.split("/") if p]
    if not parts or any(p in (".", "..") or p.startswith(".") for p in parts):
        return None
    root = run_dir.resolve()
    path = (root / Path(*parts)).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    suffix = path.suffix.lower()
    if suffix in PACK_FILES or (may_export and suffix in PACK_EXPORTS):
        return path
    return None


def scope_text(ident, lang: str) -> str:
    if ident.scope == "all":
        return auth.label("serve_gate_scope_all", lang)
    if ident.scope == "own":
        return auth.label("serve_gate_scope_own", lang, rep_id=ident.rep_id)
    parts = []
    if ident.regions:
        from ..report.i18n import t

        parts.append(f"{auth.label('serve_gate_scope_regions', lang)}: {', '.join(t(r, lang) for r in ident.regions)}")
    if ident.teams:
        parts.append(f"{auth.label('serve_gate_scope_teams', lang)}: {', '.join(ident.teams)}")
    return "; ".join(parts)


# ---- the handlers ------------------------------------------------------------------------------
_TASKS: set = set()


def _background(awaitable) -> None:
    """Run a kernel manager's call (coroutine or plain result) beside the request; a failure (the
    kernel already gone) is dropped. The task is kept referenced until done."""
    import asyncio
    import inspect

    if not inspect.isawaitable(awaitable):
        return

    async def run():
        try:
            await awaitable
        except Exception:  # noqa: BLE001 — already gone
            pass

    task = asyncio.ensure_future(run())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


def _handlers():
    from jupyter_core.utils import ensure_async
    from jupyter_server.auth.authorizer import Authorizer
    from tornado import web
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.static_file_handler import TemplateStaticFileHandler
    from voila.tornado.handler import TornadoVoilaHandler

    Page, _login, _logout = auth.handler_classes()

    class Landing(Page):
        @web.authenticated
        def get(self):
            gate = self.gate
            ident = access.identity(gate.policy, self.current_user.username)
            gate.record(ident.user, "page_view", page="landing")
            self.page("landing.html", user=ident.user, role=ident.role, scope=ident.scope,
                      scope_text=scope_text(ident, gate.lang))

    class Pack(Page):
        """The report pack this user may see (see :func:`pack_for`), file by file."""

        @web.authenticated
        def get(self, rel=""):
            if not rel and not self.request.path.endswith("/"):
                self.redirect("/pack/")  # the pack's pages link to each other relatively
                return
            gate = self.gate
            ident = access.identity(gate.policy, self.current_user.username)
            run = pack_for(self.settings["saleslab_reports"], ident)
            if run is None:
                if not rel:
                    gate.record(ident.user, "pack_view", outcome="denied", reason="no pack for this scope")
                    self.page("message.html", user=ident.user, message=auth.label("serve_gate_no_pack", gate.lang),
                              note=auth.label("serve_gate_no_pack_note", gate.lang, params=gate.params_file, user=ident.user))
                    return
                raise web.HTTPError(404)
            path = pack_file(run, rel, ident.export)
            if path is None:
                gate.record(ident.user, "pack_view", file=rel[:200], outcome="denied", reason="not a file of the pack")
                raise web.HTTPError(404)
            gate.record(ident.user, "pack_view", file=str(path.relative_to(run.resolve())), run_id=run.name)
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            self.set_header("Content-Type", kind + ("; charset=UTF-8" if kind.startswith("text/") else ""))
            self.set_header("Cache-Control", "no-store")
            self.set_header("X-Content-Type-Options", "nosniff")
            if path.suffix.lower() in PACK_EXPORTS:
                self.set_header("Content-Disposition", f'attachment; filename="{path.name}"')
            self.finish(path.read_bytes())

        @property
        def content_security_policy(self) -> str:
            # the pack's pages are self-contained: scripts and styles inline, nothing from another host
            # sandboxed (no allow-same-origin): the pack's scripts run in an opaque origin, without the
            # app's cookies, websocket or API; its links and pop-ups still work
            return ("default-src 'self' 'unsafe-inline' data: blob:; connect-src 'self'; "
                    "frame-ancestors 'self'; form-action 'self'; base-uri 'self'; "
                    "sandbox allow-scripts allow-popups allow-popups-to-escape-sandbox")

    class ChartBundle(Page):
        """plotly.js (:func:`saleslab.serve.charts.bundle_path`: the partial bundle, else the full one of
        plotly's wheel) as one cacheable file: the pages' charts load it by URL
        (:data:`saleslab.serve.charts.BUNDLE_ENV`) instead of carrying it in every chart's widget state
        (megabytes through the websocket and parsed again per chart, per page). The URL names the bundle
        and its version, so the browser keeps it (``immutable``)."""

        _cache: dict = {}

        @web.authenticated
        def get(self, name):
            from . import charts

            if name != charts.bundle_name():
                raise web.HTTPError(404)
            body = self._cache.get(name)
            if body is None:
                body = self._cache[name] = charts.bundle_path().read_bytes()
            self.set_header("Content-Type", "text/javascript; charset=UTF-8")
            self.set_header("Cache-Control", "private, max-age=31536000, immutable")
            self.set_header("X-Content-Type-Options", "nosniff")
            self.finish(body)

    class OwnedKernels:
        """Voila's kernel manager as the render handler sees it: the kernels it starts are recorded as
        belonging to the signed-in user."""

        def __init__(self, km, owners: dict, user: str, pool=None):
            self._km, self._owners, self._user, self._pool = km, owners, user, pool

        def __getattr__(self, name):
            return getattr(self._km, name)

        async def start_kernel(self, *args, **kwargs):
            pool = self._pool
            kernel_id = pool.take(kwargs.get("kernel_name"), kwargs.get("path")) if pool is not None else None
            if kernel_id is None:
                kernel_id = await ensure_async(self._km.start_kernel(*args, **kwargs))
            if pool is not None:
                pool.fill_later()  # the next visitor's, once this page is drawn
            live = set(self._km.list_kernel_ids())
            for k in [k for k in self._owners if k not in live]:
                del self._owners[k]
            self._owners[kernel_id] = self._user
            return kernel_id

    class Render(TornadoVoilaHandler):
        """A page notebook of notebooks/pages/, its kernel owned by the signed-in user."""

        @property
        def kernel_manager(self):
            km = self.settings["kernel_manager"]
            user = self.current_user
            return (OwnedKernels(km, self.settings["saleslab_kernel_owners"], user.username,
                                 self.settings.get("saleslab_pool")) if user else km)

        @web.authenticated
        async def get(self, path=None):
            root = Path(self.settings["saleslab_root_dir"])
            if not path or not (root / path).is_file():
                raise web.HTTPError(404)
            user = self.current_user.username
            km, owners = self.settings["kernel_manager"], self.settings["saleslab_kernel_owners"]
            pending = self.settings["saleslab_pending"]
            live = set(km.list_kernel_ids())
            for k in [k for k in owners if k not in live]:
                del owners[k]
            limits = self.settings["saleslab_limits"]
            if len(owners) + sum(pending.values()) >= limits["max_kernels"]:
                self.settings["saleslab_gate"].record(user, "page_view", page=path, outcome="refused",
                                                      reason="server kernel limit")
                self._one_line(503, "busy")
                return
            mine = [k for k, u in owners.items() if u == user]  # oldest first (insertion order)
            while mine and len(mine) + pending.get(user, 0) >= limits["max_kernels_per_user"]:
                # the oldest page goes: unowned at once (refused to everyone), shut down beside this
                # render instead of before it (waiting for it cost this page about 1 s)
                oldest = mine.pop(0)
                owners.pop(oldest, None)
                _background(km.shutdown_kernel(oldest, now=True))
            if len(mine) + pending.get(user, 0) >= limits["max_kernels_per_user"]:
                self._one_line(429, "too_many")
                return
            self.xsrf_token  # noqa: B018 — sets the _xsrf cookie the page sends back to shut its kernel down on close
            pending[user] = pending.get(user, 0) + 1
            try:
                await super().get(path)
            finally:
                pending[user] -= 1
                if not pending[user]:
                    del pending[user]

        def _one_line(self, status: int, key: str) -> None:
            lang = self.settings["saleslab_gate"].lang
            self.set_status(status)
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(auth.render("message.html", lang=lang, html_lang="zh-CN" if lang == "zh-CN" else "en",
                                    L=lambda k, **v: auth.label(k, lang, **v), user=self.current_user.username,
                                    message=render_label("serve_render_" + key, lang), note=None))

    class KernelOwner(Authorizer):
        """Kernels (websocket, kernel API) only for the user whose page started them; nothing else of
        jupyter-server's API is served."""

        def is_authorized(self, handler, user, action, resource) -> bool:
            if resource != "kernels" or user is None:
                return False
            kernel_id = getattr(handler, "kernel_id", None) or handler.path_kwargs.get("kernel_id")
            return bool(kernel_id) and handler.settings["saleslab_kernel_owners"].get(kernel_id) == user.username

    class Shutdown(VoilaShutdownKernelHandler):
        @web.authenticated
        async def post(self, kernel_id):
            if self.settings["saleslab_kernel_owners"].get(kernel_id) != self.current_user.username:
                raise web.HTTPError(403)
            await super().post(kernel_id)

    class TemplateFiles(TemplateStaticFileHandler):
        """Voila's template static files; a malformed path is a 404 (Voila's own handler fails with a 500)."""

        def parse_url_path(self, path):
            if len(path.split("/", 2)) < 3 or path.split("/", 2)[1] != "static":
                raise web.HTTPError(404)
            return super().parse_url_path(path)

    return Landing, Pack, Render, KernelOwner, Shutdown, TemplateFiles, ChartBundle


def _voila_class():
    import tornado.httpserver
    import tornado.ioloop
    import tornado.netutil
    from traitlets import Any, Unicode
    from voila.app import Voila

    Landing, Pack, Render, KernelOwner, Shutdown, TemplateFiles, ChartBundle = _handlers()

    class SalesLabVoila(Voila):
        """Voila with our identity provider, handlers, TLS and kernel rules (see the module docstring)."""

        name = "saleslab-serve"
        saleslab_gate = Any(None)
        saleslab_reports = Any(None)
        saleslab_limits = Any(None)
        certfile = Unicode("")
        keyfile = Unicode("")
        server = Any(None)

        def init_settings(self):
            settings = super().init_settings()
            settings.update(saleslab_gate=self.saleslab_gate, saleslab_reports=self.saleslab_reports,
                            saleslab_kernel_owners={}, saleslab_root_dir=self.root_dir, xsrf_cookies=False,
                            saleslab_pending={}, saleslab_limits=dict(self.saleslab_limits),
                            xsrf_cookie_kwargs={"httponly": False, "samesite": "Lax",
                                                "secure": bool(self.certfile)})
            settings["saleslab_pool"] = self._warm_pool(settings)
            return settings

        def _warm_pool(self, settings):
            """Warm kernels for the page notebooks (kernel python3, folder = the pages' root)."""
            from .pool import WarmPool

            owners, pending, limits = (settings["saleslab_kernel_owners"], settings["saleslab_pending"],
                                       settings["saleslab_limits"])
            km = self.kernel_manager

            def room() -> int:
                live = set(km.list_kernel_ids())
                owned = sum(1 for k in owners if k in live)
                return limits["max_kernels"] - owned - sum(pending.values())

            # the per-server variables Voila gives a page kernel; the per-request ones come with the
            # injected cell (request_env)
            env = {**os.environ, "VOILA_PREHEAT": "False", "VOILA_BASE_URL": self.base_url,
                   "VOILA_SERVER_URL": self.server_url or self.base_url, "VOILA_APP_PORT": str(self.port)}
            return WarmPool(km, limits.get("warm_kernels", 0), "python3", "", env, room)

        def init_handlers(self):
            keep = []
            for h in super().init_handlers():
                pattern = h[0]
                # not served: the directory tree, the contents API, raw files, the generic render
                # route (ours below takes the page notebooks only) and Voila's own shut-down route
                if (pattern in ("/", self.server_url) or "/voila/tree" in pattern or "/voila/api/contents" in pattern
                        or "/voila/files/" in pattern or "/voila/render/" in pattern
                        or "/voila/api/shutdown/" in pattern or "/voila/templates/" in pattern):
                    continue
                keep.append(h)
            conf = {"template_paths": self.template_paths, "config": self.config,
                    "voila_configuration": self.voila_configuration}
            ours = [
                (r"/", Landing),
                (r"/pack/?", Pack),
                (r"/pack/(.+)", Pack),
                (rf"/voila/render/({_PAGE_NAME})", Render, conf),
                (r"/voila/api/shutdown/(.*)", Shutdown),
                (r"/voila/templates/(.*)", TemplateFiles),
                (r"/saleslab-static/(plotly-[0-9A-Za-z.+-]+)\.js", ChartBundle),
            ]
            return ours + keep

        @property
        def connection_url(self):
            return self._url(self.ip or "127.0.0.1")

        def _url(self, ip):
            host = f"[{ip}]" if ":" in ip else ip
            return f"{'https' if self.certfile else 'http'}://{host}:{self.port}{self.base_url}"

        @property
        def display_url(self):
            return self._url(self.ip)

        def ssl_context(self) -> ssl.SSLContext | None:
            if not self.certfile:
                return None
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 negotiated when the client has it
            ctx.options |= ssl.OP_NO_COMPRESSION
            try:
                ctx.load_cert_chain(self.certfile, self.keyfile or None)
            except (OSError, ssl.SSLError) as e:
                raise ServeError(f"--certfile {self.certfile} / --keyfile {self.keyfile}: cannot be used "
                                 f"({getattr(e, 'strerror', None) or e})") from None
            return ctx

        def bind(self):
            """Listen on ip:port (port 0: a free one) before anything else starts; a port in use is one line."""
            try:
                sockets = tornado.netutil.bind_sockets(self.port, address=self.ip)
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    raise ServeError(f"port {self.port} on {self.ip} is in use: stop what listens there or "
                                     f"give another --port") from None
                raise ServeError(f"cannot listen on {self.ip}:{self.port}: {e.strerror or e}") from None
            self.port = sockets[0].getsockname()[1]
            return sockets

        def start(self):
            import tempfile

            import tornado.web

            ctx = self.ssl_context()
            sockets = self.bind()
            self.connection_dir = tempfile.mkdtemp(prefix="voila_", dir=self.connection_dir_root)
            self.app = tornado.web.Application(**self.init_settings())
            self.app.settings.update(self.tornado_settings)
            self.app.add_handlers(".*$", self.init_handlers())
            self.server = tornado.httpserver.HTTPServer(self.app, ssl_options=ctx, xheaders=False)
            self.server.add_sockets(sockets)
            pool = self.app.settings["saleslab_pool"]
            if pool.size > 0:
                from .pool import REFILL_SECONDS

                tornado.ioloop.IOLoop.current().add_callback(pool.fill)
                self._refill = tornado.ioloop.PeriodicCallback(pool.fill, REFILL_SECONDS * 1000)
                self._refill.start()
            self.listen()

        def listen(self):
            gate = self.saleslab_gate
            s = gate.settings
            print(f"saleslab serve: {self.display_url}  (identity: {s.identity}"
                  + (f", header {s.proxy_header} from {', '.join(s.trusted_proxies)}" if s.identity == "proxy" else "")
                  + f"; kernels culled after {s.kernel_idle_seconds} s idle; TLS: "
                  + ("on" if self.certfile else "off") + ")", flush=True)
            self.ioloop = tornado.ioloop.IOLoop.current()
            try:
                self.ioloop.start()
            except KeyboardInterrupt:
                self.log.info("Stopping...")
            finally:
                self.stop()

    SalesLabVoila.authorizer_class = KernelOwner
    SalesLabVoila.identity_provider_class = auth.identity_provider_class()
    return SalesLabVoila


def gate_for(params_file: str | Path):
    """The :class:`saleslab.serve.auth.Gate` of a run file, or a one-line refusal: no ``serve:``
    section, no access policy, password mode without any password set."""
    params_file = Path(params_file).resolve()
    p = load_params(params_file, check_input=False)
    if p.serve is None:
        raise ParameterError(f"{params_file}: no serve: section: say who may sign in (serve: {{identity: password}} "
                             f"or {{identity: proxy, trusted_proxies: [...]}}; see docs/serve.md)")
    if not p.policy_path:
        raise ParameterError(f"{params_file}: no access_policy: saleslab serve shows each person their own data "
                             f"and needs the users, roles and scopes")
    policy = access.load_policy(p.policy_path)
    s = p.serve
    pw_path = p.path(s.passwords) if s.identity == "password" else None
    gate = auth.Gate(settings=s, policy=policy, trail=access.open_trail(policy), lang=p.language,
                     params_file=params_file, passwords_path=pw_path)
    if s.identity == "password" and not any(u in policy.users for u in gate.passwords()):
        raise ParameterError(f"no passwords set: run saleslab users set-password --params {params_file} USER "
                             f"(serve.passwords: {pw_path})")
    return p, gate


def build_app(params_file: str | Path, *, host: str = "127.0.0.1", port: int = 8866, certfile: str | None = None,
              keyfile: str | None = None, reports: str | Path | None = None, root_dir: str | Path | None = None,
              max_kernels_per_user: int | None = None, max_kernels: int | None = None,
              warm_kernels: int | None = None):
    """The configured, initialised (not started) :class:`SalesLabVoila` for a run file.

    ``root_dir``: the folder of page notebooks (default ``notebooks/pages/``); ``reports``: the
    reports folder /pack/ serves from (default the run file's ``reports_dir``); ``max_kernels_per_user``
    / ``max_kernels``: page kernels a user may hold (opening one more shuts their oldest) and the server
    holds (then a one-line 503 page), ``warm_kernels``: kernels kept ready with the pages' libraries
    imported (:mod:`saleslab.serve.pool`); defaults: the ``serve:`` section's."""
    from traitlets.config import Config

    p, gate = gate_for(params_file)
    root = Path(root_dir or PAGES_DIR).resolve()
    if not root.is_dir():
        raise ParameterError(f"page notebooks folder {root} does not exist")
    if keyfile and not certfile:
        raise ParameterError("--keyfile needs --certfile (the certificate chain it belongs to)")
    s = p.serve
    # our template (Voila's lab without CDN links) is found on the Jupyter data path
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(TEMPLATE_ROOT)] + [x for x in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if x])
    # page kernels: one BLAS thread each (2 cores shared by every viewer), state out of $HOME
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(k, "1")
    # the page kernels' charts load plotly.js from this server (ChartBundle), not from their widget state
    from . import charts

    os.environ[charts.BUNDLE_ENV] = f"/saleslab-static/{charts.bundle_name()}.js"
    c = Config()
    c.Voila.config_file_paths = []  # no voila.json from the working folder or the home: this is the config
    c.Voila.root_dir = str(root)
    c.Voila.ip = host
    c.Voila.port = int(port)
    c.Voila.port_retries = 0
    c.Voila.open_browser = False
    c.Voila.connection_dir_root = tempfile.gettempdir()  # a private (0700) folder per server is made inside
    c.Voila.cookie_secret = access._key_file(p.path(s.cookie_secret_file), "serve.cookie_secret_file")
    c.Voila.tornado_settings = {"headers": {"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "same-origin",
                                            "X-Content-Type-Options": "nosniff"}}
    c.VoilaConfiguration.template = TEMPLATE
    # our template starts loading plotly.js at the page's first cell (charts.py then finds it loading)
    c.VoilaConfiguration.resources = {"saleslab": {"plotly": os.environ[charts.BUNDLE_ENV]}}
    c.VoilaConfiguration.preheat_kernel = False  # a preheated kernel would render before the user is known
    c.VoilaConfiguration.prelaunch_hook = make_prelaunch_hook(gate.params_file, p.language)
    c.VoilaConfiguration.show_tracebacks = False
    # nbclient waits only 4 s (iopub_timeout) for a cell's outputs after the kernel's reply and then
    # sends the cell without them, silently: with 20 pages rendering on 2 cores the outputs came later
    # than that and pages arrived empty. A page's outputs are waited for as long as its cell may run.
    c.VoilaExecutor.iopub_timeout = 120
    c.VoilaExecutor.raise_on_iopub_timeout = True
    c.VoilaConfiguration.strip_sources = True
    c.VoilaConfiguration.allow_template_override = "NO"
    c.VoilaConfiguration.allow_theme_override = "NO"
    c.VoilaConfiguration.http_header_envs = []  # no request header reaches the kernel
    # JupyterLab extensions the pages do not use are not loaded by the browser: jupyterlab-plotly is
    # plotly's renderer for fig.show() outputs (4.8 MB of JavaScript; the pages' charts load their own
    # plotly.js, ChartBundle), jupyterlab_pygments a theme of code cells (no code shown)
    c.VoilaConfiguration.extension_denylist = list(UNUSED_EXTENSIONS)
    # no notebook-signing key or database written into $HOME (the page notebooks carry no outputs)
    c.NotebookNotary.db_file = ":memory:"
    c.NotebookNotary.secret = os.urandom(32)
    # kernels talk to the server over Unix sockets in Voila's private connection folder, not over TCP
    c.KernelManager.transport = "ipc"
    from .pool import page_kernel_manager_class

    c.VoilaConfiguration.multi_kernel_manager_class = page_kernel_manager_class()  # warm kernels never culled
    for km in ("MappingKernelManager", "AsyncMappingKernelManager"):
        c[km].cull_idle_timeout = s.kernel_idle_seconds
        c[km].cull_interval = 60
        c[km].cull_connected = False
        c[km].cull_busy = False
    cls = _voila_class()
    app = cls(config=c)
    app.saleslab_gate = gate
    app.saleslab_reports = Path(reports).resolve() if reports else p.reports_path
    app.saleslab_limits = {
        "max_kernels_per_user": int(max_kernels_per_user or s.max_kernels_per_user),
        "max_kernels": int(max_kernels or s.max_kernels),
        "warm_kernels": int(s.warm_kernels if warm_kernels is None else warm_kernels)}
    app.certfile = str(certfile or "")
    app.keyfile = str(keyfile or "")
    app.initialize([])
    return app


def serve(params_file: str | Path, **kwargs) -> None:
    """Build and run the server until interrupted (see :func:`build_app`)."""
    app = build_app(params_file, **kwargs)
    app.start()
