"""The run file's ``serve:`` section: how ``saleslab serve`` knows who is asking (see docs/serve.md).

::

    serve:
      identity: password                # password (built-in login) | proxy (a trusted proxy's header)
      passwords: .auth/passwords.json   # password mode: {user: scrypt hash}, mode 0600 (saleslab users set-password)
      proxy_header: X-Forwarded-User    # proxy mode: the header carrying the signed-in user
      trusted_proxies: [127.0.0.1]      # proxy mode: the header is read only from these peer addresses
      proxy_secret_file: .keys/serve-proxy.secret   # proxy mode (required): the secret the proxy sends in
      proxy_secret_header: X-SalesLab-Proxy-Secret  #   this header on every request (constant-time compare)
      hostnames: [sales.example.com]    # the Host names the server answers to (default: the bind address,
                                        # localhost, 127.0.0.1, ::1); any other Host header gets 400
      secure_cookies: auto              # auto: Secure (and the __Host- name) when the request is https;
                                        # true behind a TLS-terminating proxy; false never
      cookie_secret_file: .keys/serve-cookie.secret   # signs the login cookie; created 0600 on first use
      kernel_idle_seconds: 600          # a page's kernel idle this long (and not connected) is shut down
      max_kernels_per_user: 3           # page kernels one user holds (opening one more shuts their oldest)
      max_kernels: 40                   # page kernels the server holds (then a one-line "busy" page)
      warm_kernels: 1                   # kernels kept ready with the pages' libraries imported (0: off)
      session_hours: 12                 # a login lasts this long

Relative paths are resolved against the project folder, like the run file's other paths.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class ServeSettings(BaseModel):
    """Identity, cookies and kernels of the stakeholder pages (``saleslab serve``)."""

    model_config = ConfigDict(extra="forbid")

    #: password: the built-in login against the hashes in ``passwords``; proxy: a reverse proxy in front
    #: (single sign-on) authenticates and names the user in ``proxy_header``
    identity: Literal["password", "proxy"] = "password"
    passwords: Path = Path(".auth/passwords.json")
    proxy_header: str = Field("X-Forwarded-User", pattern=r"^[A-Za-z0-9-]+$")
    #: peer addresses (or networks, e.g. 10.0.0.0/24) the proxy header is accepted from: the socket's
    #: peer, never X-Forwarded-For
    trusted_proxies: list[str] = Field(default_factory=list)
    #: proxy mode: a file holding the secret (at least 32 characters) the proxy sends in
    #: ``proxy_secret_header`` with every request; a request without it is anonymous even from a trusted
    #: peer (any local process can connect from 127.0.0.1; only the proxy knows the secret)
    proxy_secret_file: Path | None = None
    proxy_secret_header: str = Field("X-SalesLab-Proxy-Secret", pattern=r"^[A-Za-z0-9-]+$")
    #: the names the server answers to in the Host header (DNS rebinding); empty: the address the
    #: client connected to, localhost, 127.0.0.1 and ::1
    hostnames: list[str] = Field(default_factory=list)
    #: the login cookie's Secure flag: auto = when the request came over https (served with --certfile);
    #: true behind a proxy that terminates TLS (the server itself sees http); a Secure cookie is named
    #: ``__Host-saleslab-login``
    secure_cookies: Literal["auto", "true", "false"] = "auto"
    cookie_secret_file: Path = Path(".keys/serve-cookie.secret")
    kernel_idle_seconds: int = Field(600, ge=30, le=86_400)
    session_hours: float = Field(12, gt=0, le=24 * 30)
    #: page kernels (≈300 MB each for the dashboard) one user may hold / the whole server may hold
    max_kernels_per_user: int = Field(3, ge=1, le=50)
    max_kernels: int = Field(40, ge=1, le=1000)
    #: kernels kept ready with the pages' libraries imported and nothing read (saleslab.serve.pool):
    #: a page's first render skips the kernel start and the imports (about 2.5 s); ~200 MB each
    warm_kernels: int = Field(1, ge=0, le=20)

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, v):
        for a in v:
            try:
                ipaddress.ip_network(a, strict=False)
            except ValueError:
                raise ValueError(f"{a!r} is not an IP address or network") from None
        return v

    @field_validator("secure_cookies", mode="before")
    @classmethod
    def _yes_no(cls, v):
        return {True: "true", False: "false"}.get(v, v) if isinstance(v, bool) else v

    @field_validator("hostnames")
    @classmethod
    def _names(cls, v):
        out = []
        for h in v:
            h = str(h).strip().lower().removeprefix("[").removesuffix("]")
            if not h or any(c in h for c in "/ :@") and not _is_ip(h):
                raise ValueError(f"{h!r} is not a host name (no scheme, port or path: e.g. sales.example.com)")
            out.append(h)
        return out

    @model_validator(mode="after")
    def _proxy(self):
        if self.identity == "proxy" and not self.trusted_proxies:
            raise ValueError("identity proxy needs trusted_proxies (the addresses of the proxy that sets "
                             f"{self.proxy_header}); without them anyone could send the header")
        if self.identity == "proxy" and self.proxy_secret_file is None:
            raise ValueError(f"identity proxy needs proxy_secret_file (a secret the proxy sends in "
                             f"{self.proxy_secret_header}); without it any process on a trusted address could "
                             f"name any user")
        return self

    def secure(self, protocol: str) -> bool:
        """Whether the login cookie is Secure for a request that came over ``protocol``."""
        return self.secure_cookies == "true" or (self.secure_cookies == "auto" and protocol == "https")

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (a socket peer) is one of the trusted proxies."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        return any(ip in ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies)
