"""Who is asking: the password store, the identity provider of ``saleslab serve`` and its login pages.

Two modes (the run file's ``serve.identity``, see :mod:`saleslab.serve.params`):

- ``password``: the built-in login. ``saleslab users set-password`` stores an scrypt hash per user of
  the access policy in the ``serve.passwords`` JSON file (mode 0600); a successful login sets a signed
  cookie (HttpOnly, SameSite=Lax; Secure and named ``__Host-saleslab-login`` per
  ``serve.secure_cookies``) that names the user, when it was issued and a tag of the password hash, so
  a changed password ends the sessions signed with the old one. Signing out (a POST with the XSRF
  token) records the time in ``<passwords>-signed-out.json`` beside the passwords file (0600, atomic):
  every cookie of that user issued before it is refused from then on, in every browser.
- ``proxy``: a reverse proxy in front (single sign-on) names the user in ``serve.proxy_header``. The
  header is read only when the request's socket peer is one of ``serve.trusted_proxies`` (the server
  runs with ``xheaders`` off: X-Forwarded-For and X-Real-IP are never believed) **and** the request
  carries the shared secret of ``serve.proxy_secret_file`` in ``serve.proxy_secret_header`` (compared
  in constant time): any local process can connect from 127.0.0.1, only the proxy knows the secret.

Every request's Host header is checked first (:func:`check_host`: ``serve.hostnames``, by default the
address the client connected to, localhost, 127.0.0.1 and ::1): another name gets 400, so a page of
another site that rebinds its DNS name to this server reaches nothing.

Either way only users of the access policy get in, never its service user: anyone else is anonymous
(the login page, no data). The policy file is read again when it changes (a removed user or a role
that lost ``read`` is out at their next request). jupyter-server's Authorizer is not applied to
Voila's pages, so refusing here is what keeps them out; the rows a user sees are then scoped in the
engine from the identity the kernel receives (:mod:`saleslab.serve.app` injects it). Every login,
failed login and sign-out is an audit entry.

The brute-force brake counts an attempt **before** its password is checked (so concurrent guesses
cannot all get through while the first ones are being verified): at most ``MAX_FAILURES_USER`` per
user name and ``MAX_FAILURES_ADDRESS`` per client address in ``WINDOW_SECONDS``. A successful login
withdraws its own count and clears its user name's failures, never the address's. The table of
counts holds at most ``MAX_KEYS`` entries (expired ones are dropped first, then names outside the
policy, then the oldest addresses).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from ..errors import InvalidArgument, ParameterError, SalesLabError
from ..files import atomic_write
from .login_labels import LOGIN_LABELS

#: scrypt cost: n=2**14, r=8, p=1 (16 MiB, ≈ 50 ms a hash here), 16-byte salt, 32-byte key
SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, KEY_BYTES = 2 ** 14, 8, 1, 16, 32
#: login attempts per user name, and per client address (behind a proxy many people share one), in
#: WINDOW_SECONDS before further tries are refused; each failure is answered after FAILURE_DELAY_SECONDS
MAX_FAILURES_USER, MAX_FAILURES_ADDRESS, WINDOW_SECONDS, FAILURE_DELAY_SECONDS = 5, 30, 300, 0.5
#: at most this many user names and addresses are counted at a time (memory stays bounded)
MAX_KEYS = 10_000
COOKIE_NAME = "saleslab-login"
#: the name of a Secure login cookie: browsers take it only with Secure, Path=/ and no Domain
SECURE_COOKIE_NAME = "__Host-" + COOKIE_NAME
TEMPLATES = Path(__file__).parent / "templates"


def label(key: str, lang: str, **values) -> str:
    """A text of the login pages in ``lang`` (zh-CN or en)."""
    zh, en = LOGIN_LABELS[key]
    text = zh if lang == "zh-CN" else en
    return text.format(**values) if values else text


def _warn(message: str) -> None:
    print(f"saleslab serve: {message}", file=sys.stderr, flush=True)


# ---- the password store -----------------------------------------------------------------------
def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$key`` (salt and key base64) of ``password``."""
    salt = os.urandom(SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(key).decode()])


#: verified against when the user has no hash, so that an unknown name costs the same time
_DUMMY = hash_password(secrets.token_hex(16))


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the stored hash (constant time; False for a missing or bad hash)."""
    target = stored or _DUMMY
    try:
        kind, n, r, p, salt, key = target.split("$")
        n, r, p = int(n), int(r), int(p)
        if kind != "scrypt" or n > 2 ** 20 or r > 32 or p > 16:
            raise ValueError
        want = base64.b64decode(key)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=n, r=r, p=p,
                             dklen=len(want), maxmem=2 ** 30)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want) and stored is not None


def hash_tag(stored: str) -> str:
    """A short tag of a stored hash: in the login cookie, so a new password ends older sessions."""
    return hashlib.sha256(stored.encode()).hexdigest()[:12]


def _read_json_map(path: Path, what: str, kind) -> dict:
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError) as e:
        raise ParameterError(f"{what} {path}: cannot be read as JSON ({e})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, kind) and not isinstance(v, bool)
                                             for k, v in data.items()):
        raise ParameterError(f"{what} {path}: expected {{user: {'hash' if kind is str else 'time'}}}")
    return data


def read_passwords(path: Path) -> dict[str, str]:
    """``{user: hash}`` from the passwords file; empty when it does not exist."""
    return _read_json_map(path, "passwords file", str)


def set_password(path: Path, user: str, password: str, policy) -> None:
    """Store ``user``'s password hash (atomic write, mode 0600); a user not in ``policy``, and the
    policy's service user (scheduled runs act for it; nobody signs in as it), are refused."""
    from ..access import AccessDenied

    if user not in policy.users:
        raise AccessDenied(f"user {user!r} has no entry in the access policy: no password set")
    if user == policy.service_user:
        raise AccessDenied(f"user {user!r} is the access policy's service_user (scheduled runs act for it): "
                           f"it cannot sign in, no password set")
    if len(password) < 8:
        raise InvalidArgument("the password must have at least 8 characters")
    data = read_passwords(path)
    data[user] = hash_password(password)
    atomic_write(Path(path), json.dumps(data, indent=1, sort_keys=True).encode("utf-8"), mode=0o600)


def signed_out_path(passwords: Path) -> Path:
    """The file of sign-out times (``{user: epoch seconds}``), beside the passwords file."""
    passwords = Path(passwords)
    return passwords.with_name(passwords.stem + "-signed-out.json")


class _Watched:
    """A file read again when it changes (mtime, size, inode): a password set, a sign-out by another
    server process, or an edited access policy counts at the next request."""

    def __init__(self, path: Path, load, missing=dict):
        self.path, self._load, self._missing = Path(path), load, missing
        self._stamp, self._data, self._lock = (), None, threading.Lock()

    def get(self):
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                # on a failure the stamp stays unknown: read again next time, and the caller refuses
                self._stamp = ()
                self._data = self._load(self.path) if stamp else self._missing()
                self._stamp = stamp
            return self._data


class _Passwords(_Watched):
    def __init__(self, path: Path):
        super().__init__(path, read_passwords)


class _SignedOut(_Watched):
    """``{user: time of the last sign-out}``: cookies issued before it are refused."""

    def __init__(self, path: Path):
        super().__init__(path, lambda p: _read_json_map(p, "sign-out file", (int, float)))
        self._write_lock = threading.Lock()

    def sign_out(self, user: str, when: float) -> None:
        with self._write_lock:
            data = dict(self.get())
            data[user] = max(float(data.get(user, 0)), when)
            atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"), mode=0o600)


def read_proxy_secret(path: Path) -> bytes:
    """The proxy's shared secret (at least 32 characters, surrounding white space dropped)."""
    hint = (f"make one with: python -c 'import secrets; print(secrets.token_hex(32))' > {path}; chmod 600 {path} "
            f"(and have the proxy send it; see docs/serve.md)")
    try:
        key = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ParameterError(f"proxy secret file {path} does not exist (serve.proxy_secret_file): {hint}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ParameterError(f"proxy secret file {path}: {getattr(e, 'strerror', None) or e} "
                             f"(serve.proxy_secret_file)") from None
    if len(key) < 32 or any(c.isspace() or not c.isprintable() for c in key):
        raise ParameterError(f"proxy secret file {path}: expected one line of at least 32 characters without "
                             f"spaces; {hint}")
    return key.encode("utf-8")


# ---- the gate: settings, the current policy, the brake on guessing ------------------------------
_ACTIVE: list = []  # the gate of the server running in this process (see current_policy)


class Gate:
    """What the identity provider and the pages need: settings, the access policy (read again when
    its file changes), audit trail, language, the password and sign-out files, the brute-force brake.

    ``policy`` is the policy the server started with; ``policy_path`` its file (default: the run
    file's ``access_policy``). Read :attr:`policy` (or :meth:`current_policy`) at each decision, never
    keep it: it is the file's current content."""

    def __init__(self, settings, policy, trail, lang: str, params_file: Path, passwords_path: Path | None = None,
                 policy_path: Path | None = None, bind_host: str | None = None):
        self.settings, self.trail, self.lang = settings, trail, lang
        self.params_file = Path(params_file)
        self.passwords_path = Path(passwords_path) if passwords_path is not None else None
        self.bind_host = bind_host
        self._passwords = _Passwords(self.passwords_path) if self.passwords_path else None
        self._signed_out = _SignedOut(signed_out_path(self.passwords_path)) if self.passwords_path else None
        run = None
        if policy_path is None or settings.identity == "proxy":
            from ..config import load_params

            run = load_params(self.params_file, check_input=False)
        self.policy_path = Path(policy_path) if policy_path is not None else run.policy_path
        self._started_policy = policy
        self._policy = _Watched(self.policy_path, _load_policy, missing=_no_policy) if self.policy_path else None
        self._policy_problem = None
        self.proxy_secret = (read_proxy_secret(run.path(settings.proxy_secret_file))
                             if settings.identity == "proxy" else None)
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._denied: dict[str, float] = {}
        self._lock = threading.Lock()
        _ACTIVE[:] = [self]

    # -- the access policy, as the file says now
    def current_policy(self):
        """The access policy as its file is now (read again when it changed); :class:`ParameterError`
        while the file is missing or invalid (then nobody signs in: see :meth:`may_sign_in`)."""
        if self._policy is None:
            return self._started_policy
        try:
            policy = self._policy.get()
        except SalesLabError as e:
            if str(e) != self._policy_problem:
                self._policy_problem = str(e)
                _warn(f"the access policy cannot be used, nobody is let in until it is fixed: {e}")
            raise
        if self._policy_problem:
            self._policy_problem = None
            _warn(f"the access policy {self.policy_path} is valid again")
        return policy

    @property
    def policy(self):
        return self.current_policy()

    def identity(self, name: str):
        """:func:`saleslab.access.identity` under the current policy (AccessDenied: see _Page.write_error)."""
        from .. import access

        return access.identity(self.current_policy(), name)

    def passwords(self) -> dict[str, str]:
        return self._passwords.get() if self._passwords else {}

    def may_sign_in(self, name: str) -> bool:
        """Whether ``name`` is a user of the (current) access policy, not its service user, whose role
        may read. False while the policy file cannot be read."""
        try:
            policy = self.current_policy()
        except SalesLabError:
            return False
        u = policy.users.get(name)
        return u is not None and name != policy.service_user and policy.roles[u.role].read

    # -- sessions ended by signing out
    def signed_out_at(self, name: str) -> float:
        if self._signed_out is None:
            return 0.0
        try:
            return float(self._signed_out.get().get(name, 0.0))
        except SalesLabError as e:
            _warn(str(e))
            return float("inf")  # unreadable: refuse every cookie rather than revive ended sessions

    def sign_out(self, name: str, when: float | None = None) -> None:
        """End every session of ``name`` issued until now (persisted: survives a restart)."""
        if self._signed_out is not None:
            self._signed_out.sign_out(name, time.time() if when is None else when)

    # -- the brake on guessing
    @staticmethod
    def _limit(key) -> int:
        return MAX_FAILURES_ADDRESS if key[0] == "ip" else MAX_FAILURES_USER

    def begin_attempt(self, address: str, name: str):
        """Count a login attempt **before** its password is checked. None when the address or the
        user name has used up its attempts (nothing is counted then); otherwise a token for
        :meth:`end_attempt`."""
        now = time.monotonic()
        keys = (("ip", address), ("user", name))
        with self._lock:
            for k in keys:
                live = [t for t in self._failures.get(k, ()) if now - t < WINDOW_SECONDS]
                if live:
                    self._failures[k] = live
                else:
                    self._failures.pop(k, None)  # nothing is inserted by looking
            if any(len(self._failures.get(k, ())) >= self._limit(k) for k in keys):
                return None
            for k in keys:
                self._failures.setdefault(k, []).append(now)
            if len(self._failures) > MAX_KEYS:
                self._shrink(now)
            return keys, now

    def end_attempt(self, token, ok: bool) -> None:
        """A failed attempt stays counted. A successful one withdraws its own count from the address
        (the address's other failures stay: one valid account must not reset the brake for the
        guesses made from that address) and clears its user name's failures."""
        if not ok:
            return
        (ip_key, user_key), when = token
        with self._lock:
            times = self._failures.get(ip_key)
            if times and when in times:
                times.remove(when)
                if not times:
                    del self._failures[ip_key]
            self._failures.pop(user_key, None)

    def _shrink(self, now: float) -> None:
        """Keep the table under MAX_KEYS: drop expired entries, then names outside the policy, then
        the oldest addresses (a flood of random names cannot grow memory nor push out a real user)."""
        for k in [k for k, ts in self._failures.items() if not ts or now - ts[-1] >= WINDOW_SECONDS]:
            del self._failures[k]
        excess = len(self._failures) - int(MAX_KEYS * 0.9)
        if excess <= 0:
            return
        try:
            known = set(self.current_policy().users)
        except SalesLabError:
            known = set()
        order = sorted(self._failures, key=lambda k: (k[0] == "user" and k[1] in known, k[0] == "ip", self._failures[k][-1]))
        for k in order[:excess]:
            del self._failures[k]

    def attempts(self, kind: str, value: str) -> int:
        """How many attempts of the window are counted for ``("ip"|"user", value)``."""
        now = time.monotonic()
        with self._lock:
            return sum(1 for t in self._failures.get((kind, value), ()) if now - t < WINDOW_SECONDS)

    def record(self, user: str, action: str, **what) -> None:
        self.trail.record(user or "-", action, **what)

    def deny_once(self, user: str, reason: str, address: str) -> None:
        """Audit a refused identity at most once a minute per user (every request would flood the trail)."""
        now = time.monotonic()
        if len(self._denied) > MAX_KEYS:
            self._denied = {k: t for k, t in self._denied.items() if now - t <= 60}
        if now - self._denied.get(user, -1e9) > 60:
            self._denied[user] = now
            self.record(user[:64], "deny", outcome="denied", reason=reason, ip=address)


def _load_policy(path: Path):
    from .. import access

    return access.load_policy(path)


def _no_policy():
    raise ParameterError("the access policy file does not exist any more")


def current_policy(gate: Gate | None = None):
    """The access policy as its file is now: of ``gate``, or of the server running in this process."""
    gate = gate or (_ACTIVE[0] if _ACTIVE else None)
    if gate is None:
        raise RuntimeError("no saleslab serve gate in this process")
    return gate.current_policy()


# ---- the Host header ----------------------------------------------------------------------------
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.%a-zA-Z0-9]+\]|[^:\[\]]*)(?::(\d+))?$")


def _plain_ip(text: str) -> str:
    text = (text or "").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text.lower()
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return str(ip)


def allowed_hosts(handler, gate: Gate | None = None) -> set[str]:
    """The names the Host header may carry: ``serve.hostnames``, or (default) the bind address, the
    address the client connected to, localhost, 127.0.0.1 and ::1."""
    gate = gate or handler.settings.get("saleslab_gate")
    names = list(gate.settings.hostnames) if gate is not None else []
    if names:
        return {_plain_ip(n) for n in names}
    out = {"localhost", "127.0.0.1", "::1"}
    if gate is not None and gate.bind_host and gate.bind_host not in ("0.0.0.0", "::", ""):
        out.add(_plain_ip(gate.bind_host))
    try:
        out.add(_plain_ip(handler.request.connection.stream.socket.getsockname()[0]))
    except (AttributeError, OSError, IndexError, TypeError):
        pass
    return out


def check_host(handler, gate: Gate | None = None) -> None:
    """Refuse (HTTP 400) a request whose Host header is not one of :func:`allowed_hosts` (DNS
    rebinding: a page of another site whose name now points here). Called for every request that
    asks who the user is (the identity provider), so every page, API call and websocket."""
    m = _HOST.match((handler.request.headers.get("Host") or "").strip())
    host = _plain_ip(m.group(1).strip("[]")) if m else None
    if host is None or host not in allowed_hosts(handler, gate):
        raise _http(400, f"Host {str(handler.request.headers.get('Host'))[:100]!r} is not one of serve.hostnames")


# ---- the identity provider ----------------------------------------------------------------------
def _refused_class():
    from tornado.web import HTTPError

    class Refused(HTTPError):
        """A signed-in user the access policy no longer lets in (403; our pages show one line)."""

        def __init__(self):
            super().__init__(403, "refused by the access policy")

    return Refused


def Refused():  # noqa: N802 — builds the HTTPError subclass without importing tornado at import time
    if "refused" not in _CLASSES:
        _CLASSES["refused"] = _refused_class()
    return _CLASSES["refused"]()


def cookie_name(settings, protocol: str) -> str:
    """``__Host-saleslab-login`` when the cookie is Secure (``serve.secure_cookies``), else ``saleslab-login``."""
    return SECURE_COOKIE_NAME if settings.secure(protocol) else COOKIE_NAME


def _identity_provider_class():
    from jupyter_server.auth import IdentityProvider, User

    class SalesLabIdentityProvider(IdentityProvider):
        """Users of the access policy only: the signed login cookie (password mode) or the trusted
        proxy's header with its secret (proxy mode); anyone else is anonymous (None). A Host header
        not in ``serve.hostnames`` is refused first (400)."""

        @property
        def gate(self) -> Gate:
            return self.parent.saleslab_gate

        @property
        def auth_enabled(self) -> bool:
            return True

        @property
        def login_available(self) -> bool:
            return True

        def get_handlers(self):
            _page, login, logout = handler_classes()
            return [(r"/login", login), (r"/logout", logout)]

        def _user(self, name: str):
            return User(username=name, name=name, display_name=name, initials=name[:2].upper())

        def get_user(self, handler):
            gate = self.gate
            check_host(handler, gate)
            if gate.settings.identity == "proxy":
                name = self._proxy_user(handler, gate)
            else:
                name = self._cookie_user(handler, gate)
            return self._user(name) if name else None

        def _proxy_user(self, handler, gate) -> str | None:
            address = handler.request.remote_ip  # the socket's peer: xheaders is off
            if not gate.settings.trusts(address):
                return None
            sent = (handler.request.headers.get(gate.settings.proxy_secret_header) or "").strip().encode("utf-8")
            name = (handler.request.headers.get(gate.settings.proxy_header) or "").strip()
            if not hmac.compare_digest(sent, gate.proxy_secret):
                if name:
                    gate.deny_once(name, f"{gate.settings.proxy_secret_header} missing or wrong", address)
                return None
            if not name:
                return None
            if not gate.may_sign_in(name):
                gate.deny_once(name, "not in the access policy (or may not read, or the service user)", address)
                return None
            return name

        def _cookie_user(self, handler, gate) -> str | None:
            raw = handler.get_secure_cookie(cookie_name(gate.settings, handler.request.protocol),
                                            max_age_days=gate.settings.session_hours / 24 + 1 / 24)
            if not raw:
                return None
            try:
                c = json.loads(raw.decode())
                name, issued, tag = c["u"], float(c["t"]), c["h"]
            except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
                return None
            if not isinstance(name, str) or time.time() - issued > gate.settings.session_hours * 3600:
                return None
            if issued <= gate.signed_out_at(name):
                return None  # signed out since this cookie was issued
            stored = gate.passwords().get(name)
            if stored is None or not hmac.compare_digest(hash_tag(stored), str(tag)):
                return None  # password removed or changed since the login
            if not gate.may_sign_in(name):
                # a valid session of a user the (edited) policy no longer lets in: no data, and a one-line
                # 403 page saying so (the login and sign-out pages stay reachable)
                gate.deny_once(name, "not in the access policy any more (or may not read)", handler.request.remote_ip or "-")
                if handler.request.path not in ("/login", "/logout"):
                    raise Refused()
                return None
            return name

    return SalesLabIdentityProvider


def set_login_cookie(handler, name: str, stored: str, settings=None) -> None:
    settings = settings or handler.settings["saleslab_gate"].settings
    secure = settings.secure(handler.request.protocol)
    value = json.dumps({"u": name, "t": time.time(), "h": hash_tag(stored)})
    # a session cookie (gone when the browser closes); its age is also checked against session_hours
    handler.set_secure_cookie(cookie_name(settings, handler.request.protocol), value, expires_days=None,
                              httponly=True, samesite="Lax", secure=secure, path="/")


def clear_login_cookies(handler) -> None:
    handler.clear_cookie(COOKIE_NAME, path="/")
    handler.clear_cookie(SECURE_COOKIE_NAME, path="/", secure=True)


def safe_next(nxt: str | None) -> str:
    """Where to go after the login: a path on this server only (never another host)."""
    nxt = (nxt or "/").strip()
    parts = urllib.parse.urlsplit(nxt)
    if parts.scheme or parts.netloc or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
        return "/"
    return nxt


def render(name: str, **ns) -> str:
    """One of our own HTML pages (templates/<name>), autoescaped."""
    return _env().get_template(name).render(**ns)


_ENV = None


def _env():
    global _ENV
    if _ENV is None:
        import jinja2

        _ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    return _ENV


_CLASSES: dict = {}


def handler_classes():
    """``(Page, Login, Logout)``: the base of our pages and the login / sign-out handlers (built on
    first use, so that importing this module does not import jupyter-server)."""
    if not _CLASSES.get("handlers"):
        _CLASSES["handlers"] = _handler_classes()
    return _CLASSES["handlers"]


def identity_provider_class():
    """The :class:`jupyter_server.auth.IdentityProvider` of ``saleslab serve``."""
    if "provider" not in _CLASSES:
        _CLASSES["provider"] = _identity_provider_class()
    return _CLASSES["provider"]


def _handler_classes():
    from jupyter_server.auth.decorator import allow_unauthenticated
    from jupyter_server.base.handlers import JupyterHandler

    from ..access import AccessDenied

    class _Page(JupyterHandler):
        """Our own pages: HTML from templates/, in the run's language, no request leaving the server.
        A user refused by the access policy meanwhile (AccessDenied) gets a one-line 403 page."""

        @property
        def gate(self) -> Gate:
            return self.settings["saleslab_gate"]

        @property
        def content_security_policy(self) -> str:
            return ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                    "form-action 'self'; frame-ancestors 'self'; base-uri 'none'")

        def set_default_headers(self):
            super().set_default_headers()
            if self.request.protocol == "https":
                self.set_header("Strict-Transport-Security", "max-age=31536000")

        def page(self, name: str, status: int = 200, **ns) -> None:
            lang = self.gate.lang
            self.set_status(status)
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(render(name, lang=lang, html_lang="zh-CN" if lang == "zh-CN" else "en",
                               L=lambda k, **v: label(k, lang, **v), **ns))

        def log_exception(self, typ, value, tb):
            if isinstance(value, AccessDenied):
                self.log.warning("saleslab serve: %s %s refused: %s", self.request.method, self.request.path, value)
                return
            super().log_exception(typ, value, tb)

        def write_error(self, status_code, **kwargs):
            exc = (kwargs.get("exc_info") or (None, None, None))[1]
            if isinstance(exc, AccessDenied) or type(exc).__name__ == "Refused":
                if isinstance(exc, AccessDenied):  # (a Refused user was audited by the identity provider)
                    user = getattr(self.current_user, "username", "") if self.current_user else ""
                    try:
                        self.gate.record(user, "deny", outcome="denied", reason=str(exc)[:200],
                                         page=self.request.path[:200])
                    except SalesLabError:
                        pass  # the refusal page goes out even when the trail cannot be written
                self.page("message.html", status=403, user="", message=label("serve_gate_no_access", self.gate.lang),
                          note=None)
                return
            # any other error: our page (jupyter-server's error template needs a static_path this app has not,
            # so its write_error itself failed and the browser got an empty page)
            self.page("message.html", status=status_code, user="",
                      message=label("serve_gate_not_found" if status_code == 404 else "serve_gate_error", self.gate.lang,
                                    status=status_code), note=None)

    class Login(_Page):
        """GET: the form (or, in proxy mode, where to sign in); POST: check the password."""

        @allow_unauthenticated
        def get(self):
            if self.gate.settings.identity == "proxy":
                self.page("login.html", proxy=True, form=False, error=None)
                return
            self.page("login.html", proxy=False, form=True, error=None, username="",
                      next=safe_next(self.get_argument("next", "/")), xsrf=self.xsrf_form_html())

        @allow_unauthenticated
        async def post(self):
            gate = self.gate
            if gate.settings.identity == "proxy":
                raise _http(404)
            name = self.get_argument("username", "").strip()[:128]
            password = self.get_argument("password", "", strip=False)
            nxt = safe_next(self.get_argument("next", "/"))
            address = self.request.remote_ip or "-"
            # counted before the (slow, threaded) check: concurrent guesses cannot outrun the brake
            attempt = gate.begin_attempt(address, name)
            if attempt is None:
                gate.record(name, "login", outcome="denied", reason="too many failed logins", ip=address)
                self.page("login.html", status=429, proxy=False, form=True, error=label("serve_gate_too_many", gate.lang),
                          username=name, next=nxt, xsrf=self.xsrf_form_html())
                return
            ok, stored = False, None
            try:
                stored = gate.passwords().get(name) if gate.may_sign_in(name) else None
                ok = await asyncio.get_running_loop().run_in_executor(None, verify_password, password, stored)
            finally:
                gate.end_attempt(attempt, ok)
            if not ok:
                gate.record(name, "login", outcome="denied", reason="wrong user name or password", ip=address)
                await asyncio.sleep(FAILURE_DELAY_SECONDS)
                # the same words whether the user or the password was wrong: no user enumeration
                self.page("login.html", status=403, proxy=False, form=True, error=label("serve_gate_wrong_login", gate.lang),
                          username=name, next=nxt, xsrf=self.xsrf_form_html())
                return
            gate.record(name, "login", ip=address)
            set_login_cookie(self, name, stored, gate.settings)
            self.redirect(nxt)

    class Logout(_Page):
        """GET: a sign-out button (a POST with the XSRF token: a link or an image elsewhere cannot sign
        anyone out); POST: end every session of the user (persisted) and clear the cookie."""

        @allow_unauthenticated
        def get(self):
            proxy = self.gate.settings.identity == "proxy"
            user = self.current_user
            self.page("logout.html", proxy=proxy, signed_in=user is not None and not proxy,
                      user=user.username if user is not None else "", xsrf=self.xsrf_form_html())

        @allow_unauthenticated
        def post(self):  # the _xsrf token is checked by JupyterHandler.prepare before this runs
            gate = self.gate
            proxy = gate.settings.identity == "proxy"
            user = self.current_user
            if user is not None and not proxy:
                gate.sign_out(user.username)
                gate.record(user.username, "logout", ip=self.request.remote_ip or "-")
            clear_login_cookies(self)
            self.page("logout.html", proxy=proxy, signed_in=False, user="", xsrf="")

    return _Page, Login, Logout


def _http(code: int, message: str | None = None):
    from tornado.web import HTTPError

    return HTTPError(code, message)
