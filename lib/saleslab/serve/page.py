"""Kernel side of a stakeholder page: who is viewing, the engine that reads for them, the audit trail.

A page notebook (``notebooks/pages/``) holds ``params_file``, ``user`` and ``lang`` in its
``parameters`` cell; ``saleslab serve`` injects them after the login (the verified user; nothing the
browser sends changes them). Then::

    from saleslab.serve import page
    pg = page.open_page(params_file, user, "dashboard", lang)

gives a :class:`Page`: an engine (:func:`saleslab.engine.connect`) for that user under the run file's
access policy (scope, masking and audit in the engine), on the warehouse version the newest run read,
with ``run_dir`` = ``<reports>/latest`` resolved (its precomputed cubes, :mod:`saleslab.serve.cube`).
An empty or unknown user, a run file without an access policy, or no finished run give a
:class:`Refusal` instead: one line on the page, and nothing read. Every page view is an audit
entry (``page_view``); the pages record their filters, drill-downs, searches and opened customers.

View as (:meth:`Page.view_as`): management only, and "management" is defined by the role's rights,
not its name: a viewer whose role has scope ``all`` AND the right to personal data (``pii``) AND the
export right. (An auditor or the service user, scope all without pii or export, may not.) Such a
viewer may look at the page as another user of the policy, with that user's scope, but only when
that user's rights lie within the viewer's (personal data, hidden columns). The other user's
engine records its reads under the viewer's name with the other user's scope; the switch itself
is recorded (``view_as``).

Page kernels are many and long-lived (one per open page): their DuckDB gets
:data:`PAGE_DUCKDB` (512 MB, one thread, a spill folder of its own under the run file's DuckDB
temp folder) instead of the run's settings. Widget callbacks go through :func:`guarded`: a
failure shows one line on the page, its traceback goes to the kernel process's stderr (the
server's log), never to the browser.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .. import access
from ..errors import SalesLabError
from ..report import i18n

PAGES = ("dashboard", "customer360")
#: DuckDB settings of a page kernel (many kernels, small aggregates): the spill folder is
#: ``<run file's duckdb temp_directory>/pages/<pid>``. Not yet a run file setting.
PAGE_DUCKDB = {"memory_limit": "512MB", "threads": 1, "max_temp_directory_size": "2GB"}


def _lang(lang: str | None, fallback: str = "zh-CN") -> str:
    return lang if lang in i18n.LANGUAGES else fallback


@dataclass
class Refusal:
    """A page that shows one line and reads nothing (not signed in, unknown user, no run ...)."""

    text: str
    lang: str = "zh-CN"
    reason: str = ""

    def widget(self):
        import html

        import ipywidgets as w

        box = w.VBox([w.HTML(f'<p class="sl-refused-text">{html.escape(self.text)}</p>')])
        box.add_class("sl-page")
        box.add_class("sl-refused")
        return box

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())

    def close(self) -> None:
        pass


@dataclass
class Page:
    """An open page for a verified user: ``engine`` reads for ``identity`` (or, viewing as someone,
    for that user's scope), ``run_dir`` is the newest finished run, ``lang`` the page's language."""

    kind: str
    params: object
    policy: access.Policy
    identity: access.Identity
    trail: object
    engine: object
    run_dir: Path
    lang: str
    manifest: dict
    #: viewing as someone: the identity of the management user who looks (None: looking as oneself)
    viewer: access.Identity | None = None
    _children: list = field(default_factory=list)

    @property
    def user(self) -> str:
        """The user whose data the page shows."""
        return self.target_user or self.identity.user

    target_user: str | None = None

    def t(self, key: str, **values) -> str:
        return i18n.say(key, self.lang, **values) if values else i18n.t(key, self.lang)

    def audit(self, action: str, **what) -> None:
        """Record ``action`` (page_view, filter, drill, search, open_customer, ...) by the page's user."""
        self.engine.audit(action, page=self.kind, **({"viewing_as": self.target_user} if self.viewer else {}), **what)

    @property
    def can_view_as(self) -> bool:
        """Management only (:func:`is_management`: scope all, pii and export), and not already
        viewing as someone."""
        return self.viewer is None and is_management(self.identity)

    def users(self) -> list[str]:
        """Users the policy names (for the view-as list): the viewer first."""
        return [self.identity.user] + sorted(u for u in self.policy.users if u != self.identity.user)

    def who(self) -> str:
        """The line saying who is viewing (and as whom)."""
        if self.viewer is not None:
            return self.t("serve_viewing_as", viewer=self.viewer.user, user=self.target_user,
                          role=self.policy.users[self.target_user].role)
        return self.t("serve_user", user=self.identity.user, role=self.identity.role)

    def view_as(self, target: str) -> "Page":
        """This page as user ``target`` sees it (a new :class:`Page` with ``target``'s scope); the
        viewer's own page when ``target`` is the viewer. Raises :class:`access.AccessDenied` (recorded)
        unless the viewer's scope is all and ``target``'s rights lie within the viewer's."""
        if target == self.identity.user and self.viewer is None:
            return self
        reason = None
        if not self.can_view_as:
            reason = self.t("serve_view_as_not_management")
        elif target not in self.policy.users:
            reason = self.t("serve_view_as_unknown")
        if reason is None:
            try:
                other = access.identity(self.policy, target)
            except access.AccessDenied as e:
                reason = str(e)
            else:
                if not within(other, self.identity):
                    reason = self.t("serve_view_as_wider")
        if reason is not None:
            self.trail.record(self.identity.user, "view_as", target=target, outcome="denied", reason=reason,
                              page=self.kind)
            raise access.AccessDenied(self.t("serve_view_as_refused", user=target, reason=reason))
        # the other user's scope, recorded under the viewer's name
        seen = dataclasses.replace(other, user=self.identity.user)
        self.trail.record(self.identity.user, "view_as", target=target, page=self.kind, filter=other.describe())
        eng = _connect(self.params, self.run_dir, self.manifest, seen, self.trail)
        page = Page(self.kind, self.params, self.policy, seen, self.trail, eng, self.run_dir, self.lang,
                    self.manifest, viewer=self.identity, target_user=target)
        self._children.append(page)
        page.audit("page_view")
        return page

    def close(self) -> None:
        for c in self._children:
            c.close()
        self._children.clear()
        self.engine.close()
        if self.viewer is None and self.params.engine == "duckdb":
            try:  # the kernel's spill folder, when DuckDB left it empty (view-as pages share it)
                os.rmdir(page_duckdb(self.params)["temp_directory"])
            except OSError:
                pass


def is_management(ident: access.Identity) -> bool:
    """Whether ``ident`` counts as management for the pages (may view as others): a role with scope
    ``all`` and both the right to personal data and the export right."""
    return ident.scope == "all" and bool(ident.pii) and bool(ident.export)


def within(other: access.Identity, viewer: access.Identity) -> bool:
    """Whether ``other``'s rights on a page lie within ``viewer``'s: the viewer's scope is all (every
    row), ``other`` sees personal data only if the viewer does, and hides at least the columns the
    viewer hides. (The export right does not matter: the pages export nothing.)"""
    if viewer.scope != "all":
        return False
    if other.pii and not viewer.pii:
        return False
    for table, cols in viewer.hidden_columns:
        if not set(cols) <= set(other.hidden(table)):
            return False
    return True


def _connect(params, run_dir: Path, manifest: dict, ident: access.Identity, trail):
    from ..engine import connect
    from .cube import run_warehouse

    spark = params.spark_config() if params.engine != "duckdb" else {}
    return connect(run_warehouse(params, manifest), params.engine, page_duckdb(params), run_dir=run_dir,
                   identity=ident, trail=trail, keyring=params.keyring(), **spark)


def page_duckdb(params) -> dict:
    """The DuckDB settings of a page kernel: :data:`PAGE_DUCKDB`, spilling into a folder of this
    process under the run file's DuckDB temp folder (kernels never share spill files)."""
    temp = Path(params.duckdb_config()["temp_directory"]) / "pages" / str(os.getpid())
    return {**PAGE_DUCKDB, "temp_directory": str(temp)}


def open_page(params_file: str, user: str, page: str, lang: str = "") -> Page | Refusal:
    """The page ``page`` (:data:`PAGES`) for the verified ``user`` under the run file ``params_file``.

    Returns a :class:`Page`, or a :class:`Refusal` (one line, nothing read) when ``user`` is empty
    (not signed in) or unknown to the access policy (recorded as denied), the run file has no access
    policy, or there is no finished run (``<reports>/latest``). ``lang``: the page's language (empty:
    the run file's)."""
    if page not in PAGES:
        raise SalesLabError(f"unknown page {page!r}; allowed: {', '.join(PAGES)}")
    if not (user or "").strip():
        return Refusal(i18n.t("serve_not_signed_in", _lang(lang)), _lang(lang), "not signed in")
    from ..config import load_params

    try:
        params = load_params(params_file, check_input=False)
    except SalesLabError as e:
        return Refusal(i18n.say("serve_error", _lang(lang), reason=str(e).splitlines()[0]), _lang(lang), str(e))
    lang = _lang(lang, params.language)
    if params.policy_path is None:
        return Refusal(i18n.t("serve_no_policy", lang), lang, "no access policy")
    try:
        ident, trail = access.governed(params.policy_path, user)
    except access.AccessDenied as e:
        return Refusal(i18n.say("serve_denied", lang, reason=str(e)), lang, str(e))
    latest = params.reports_path / "latest"
    run_dir = latest.resolve() if latest.exists() else None
    manifest = {}
    if run_dir is not None:
        try:
            manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run_dir = None
    if run_dir is None:
        trail.record(ident.user, "page_view", page=page, outcome="failed", reason="no finished run")
        return Refusal(i18n.t("serve_no_pack", lang), lang, "no finished run")
    try:
        eng = _connect(params, run_dir, manifest, ident, trail)
    except SalesLabError as e:
        trail.record(ident.user, "page_view", page=page, outcome="failed", reason=str(e).splitlines()[0])
        return Refusal(i18n.say("serve_error", lang, reason=str(e).splitlines()[0]), lang, str(e))
    pg = Page(page, params, access.load_policy(params.policy_path), ident, trail, eng, run_dir, lang, manifest)
    pg.audit("page_view", run=run_dir.name)
    return pg


def one_line(e: BaseException, lang: str) -> str:
    """The line a page shows for a failure: an error of ours by its first line, anything else as
    "something went wrong" (the details are in the server's log)."""
    if isinstance(e, SalesLabError) and str(e):
        return i18n.say("serve_error", lang, reason=str(e).splitlines()[0])
    return i18n.t("serve_failed", lang)


def log_failure(where: str) -> None:
    """The current exception's traceback on the kernel process's own stderr (Voila's server log),
    never on the page's output (``sys.stderr`` of a kernel is sent to the browser)."""
    try:
        print(f"saleslab page: {where} failed:", file=sys.__stderr__)
        traceback.print_exc(file=sys.__stderr__)
        sys.__stderr__.flush()
    except (OSError, ValueError, AttributeError):  # no stderr at all: nothing to log to
        pass


def guarded(callback, show, lang: str = "zh-CN"):
    """``callback`` for a widget (``on_click`` / ``observe``) that never lets an exception reach
    the browser: it calls ``show(one line)`` (e.g. into the page's message widget) and logs the
    traceback with :func:`log_failure`."""

    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 — every failure of a callback becomes one line
            log_failure(getattr(callback, "__qualname__", "a widget callback"))
            try:
                show(one_line(e, lang))
            except Exception:  # noqa: BLE001 — the page's message widget itself failed
                log_failure("showing a failure")
            return None

    return run


def view_as_dropdown(pg, top, on_change):
    """The management's "view as" control of a page (``.sl-view-as``): the viewer first (themselves),
    then every other user of the policy; ``on_change(change)`` is called with the chosen user."""
    import ipywidgets as w

    t = pg.t
    dd = w.Dropdown(options=[(t("serve_myself"), "")] + [(u, u) for u in top.users()[1:]],
                    value="" if pg is top else pg.target_user, description=t("serve_view_as"))
    dd.add_class("sl-view-as")
    dd.observe(on_change, names="value")
    return dd


def switch_view(view, user: str) -> None:
    """Switch a page object (dashboard or 360 page: ``root_page``, ``pg``, ``message``, ``_open``) to
    "view as" ``user`` ("": the viewer themselves) through :meth:`Page.view_as`; a refusal is one
    line in its message. The view-as page it leaves is closed."""
    import html

    root = view.root_page
    try:
        pg = root.view_as(user or root.identity.user)
    except access.AccessDenied as e:
        view.message.value = f'<p class="sl-refused">{html.escape(str(e), quote=True)}</p>'
        return
    if view.pg is not root and view.pg is not pg:
        view.pg.close()
        root._children.remove(view.pg)
    view._open(pg)


def close_widgets(*widgets) -> int:
    """Close ``widgets`` and every widget they hold (children, layouts, styles ...): ipywidgets'
    ``close()`` closes one widget only, and a page kernel lives as long as the page. Returns how
    many were closed."""
    from ipywidgets import Widget

    seen: set[int] = set()
    stack = list(widgets)
    n = 0
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
            continue
        if not isinstance(x, Widget) or id(x) in seen:
            continue
        seen.add(id(x))
        for v in x._trait_values.values():  # the traits' values, not properties
            if isinstance(v, Widget) or (isinstance(v, (list, tuple)) and any(isinstance(i, Widget) for i in v)):
                stack.append(v)
        if x.comm is not None:
            x.close()
            n += 1
    return n


def shown(pg, build):
    """``build(pg).widget``, or one line instead of a traceback: a :class:`Refusal` as it is, and an
    error of ours (:class:`~saleslab.errors.SalesLabError`, e.g. a run without cubes) as its first line."""
    if isinstance(pg, Refusal):
        return pg.widget()
    try:
        return build(pg).widget
    except SalesLabError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return Refusal(i18n.say("serve_error", pg.lang, reason=first), pg.lang, str(e)).widget()
    except Exception as e:  # noqa: BLE001 — one line on the page, the traceback in the server's log
        log_failure(f"page {pg.kind}")
        return Refusal(one_line(e, pg.lang), pg.lang, repr(e)).widget()


def warm_up() -> None:
    """Import what a page's first render needs (a warm kernel's only code, :mod:`saleslab.serve.pool`):
    the pages, the run file's models, the engine's DuckDB backend, the chart widget. Reads nothing."""
    import ibis
    import pyarrow.dataset  # noqa: F401 — the cubes' reader (0.1 s)
    import yaml  # noqa: F401

    from .. import audit, config, crypto, files  # noqa: F401 — the run file's models, the audit trail (0.15 s)
    from . import charts, customer, dashboard  # noqa: F401

    ibis.duckdb  # noqa: B018 — loads the backend (sqlglot's dialect included): 0.3 s
    charts._chart_class()
