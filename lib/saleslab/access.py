"""Who may see what: the access policy, a user's row scope and the masking of personal data.

The policy file (``parameters/access.yaml``, its path set by the run parameters' ``access_policy``)
names users, their role and scope, and each role's rights::

    service_user: report_service          # the user scheduled runs act for
    audit: {log: ../.audit/audit.jsonl, anchor: ../.audit-anchor/audit.anchor.json,
            key_file: ../.keys/audit.key, retention_days: 1095}
    roles:
      management: {scope: all, export: true, pii: true}
      supervisor: {scope: group, export: true, pii: false}
      rep:        {scope: own, export: false, pii: false, hidden_columns: {products: [unit_cost]}}
    users:
      ceo:      {role: management}
      sup_east: {role: supervisor, regions: [east]}
      S001:     {role: rep, rep_id: S001}

Scopes (domain.md §13), enforced by :class:`saleslab.engine.Engine` on every table it reads:

- ``all``: every row.
- ``own`` (a rep ``R``): the orders R booked and the orders of the customers R owns
  (``customers.owner_rep_id``); the lines and returns of those orders; the customers of those orders
  and the customers R owns, with their contacts; the invoices of those orders (an invoice with no
  order: its customer's) and their payments (one with no invoice: its customer's); R's leads (and the leads of R's customers) with their stage history and follow-ups; R's
  own row of ``reps`` and R's own targets.
- ``group`` (a supervisor with ``regions`` and/or ``teams``): the same for every rep of those
  regions or teams, plus everything of those regions (orders and customers whose region is one of
  them, their distributors) and the team and region targets.

Product master and campaign calendar are reference data every user with a policy entry reads;
company-level tables (channel costs, web traffic, inventory, the ingest's quarantine and merge
logs) are for the ``all`` scope only: a narrower scope reads them empty. A user with no policy entry
reads nothing: :func:`identity` refuses with :class:`AccessDenied`.

Masking (roles without ``pii``): phones keep their last 4 digits, e-mails their first character and
domain, names of people (contacts, customers not known to be companies), tax ids and addresses
become a keyed hash (the same value gives the same hash, so a person stays linkable; the key lives
outside the repository); phone numbers and e-mail addresses inside free-text follow-up notes are
blanked out, and so are the raw values of quarantined rows. Columns a role may not see
(``hidden_columns``) are absent, not blank.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import ibis
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ParameterError, SalesLabError, read_yaml

#: Tables every user with a policy entry reads in full (reference data).
REFERENCE_TABLES = frozenset({"products", "campaigns"})
#: Tables only the ``all`` scope reads; narrower scopes read them empty.
COMPANY_TABLES = frozenset({"channel_costs", "web_traffic", "inventory", "_quarantine", "_merged", "_outliers",
                            "_fills", "customer_review", "_accounting"})
#: Personal data per table and how it is masked for a role without the ``pii`` right.
PII_COLUMNS = {
    "customers": {"phone": "phone", "email": "email", "tax_id": "hash", "name": "person_name", "address": "hash"},
    "contacts": {"phone": "phone", "email": "email", "name": "hash"},
    "followups": {"content": "text"},
    # the ingest's own logs: look-alike customer pairs, raw values of quarantined rows
    "customer_review": {"name": "hash", "other_name": "hash"},
    # raw values are keyed by each source's own headers: no column-wise masking is safe, so blanked
    "_quarantine": {"raw": "redact"},
}


class AccessDenied(SalesLabError):
    """The user may not do this (unknown user, no export right ...). Exit status 8."""

    exit_code = 8


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(_Strict):
    scope: Literal["all", "group", "own"] = Field(description="rows: all, a supervisor's regions/teams, a rep's own")
    read: bool = True
    export: bool = False
    pii: bool = False
    hidden_columns: dict[str, list[str]] = Field(default_factory=dict)


class User(_Strict):
    role: str
    rep_id: str | None = None
    regions: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)


class AuditSettings(_Strict):
    log: Path = Path("../.audit/audit.jsonl")
    anchor: Path | None = None
    retention_days: int = Field(1095, ge=180, description="days an audit entry is kept (at least 180)")
    key_file: Path | None = None


class Policy(_Strict):
    service_user: str
    pii_key_file: Path = Path("../.keys/pii.key")
    audit: AuditSettings = Field(default_factory=AuditSettings)
    roles: dict[str, Role]
    users: dict[str, User]
    #: folder the relative paths above are resolved against (the policy file's folder)
    base: Path = Field(Path("."), exclude=True)

    @model_validator(mode="after")
    def _consistent(self):
        from .schema import REGIONS

        for name, u in self.users.items():
            unknown = [r for r in u.regions if r not in REGIONS]
            if unknown:
                raise ValueError(f"users.{name}.regions: {', '.join(map(repr, unknown))} is not a region; "
                                 f"allowed: {', '.join(REGIONS)}")
            if u.role not in self.roles:
                raise ValueError(f"users.{name}.role: {u.role!r} is not a role; allowed: {', '.join(self.roles)}")
            scope = self.roles[u.role].scope
            if scope == "own" and not u.rep_id:
                raise ValueError(f"users.{name}: role {u.role!r} has scope 'own' and needs a rep_id")
            if scope == "group" and not (u.regions or u.teams):
                raise ValueError(f"users.{name}: role {u.role!r} has scope 'group' and needs regions or teams")
        if self.service_user not in self.users:
            raise ValueError(f"service_user: {self.service_user!r} is not one of the users")
        return self

    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base / p).resolve()

    def pii_key(self) -> bytes:
        """The masking key: ``$SALESLAB_PII_KEY`` or the key file (created, 0600, on first use)."""
        env = os.environ.get("SALESLAB_PII_KEY")
        if env:
            return env.encode()
        return _key_file(self.path(self.pii_key_file))


def _key_file(path: Path, named_by: str = "the access policy names it") -> bytes:
    """The secret in ``path`` (64 hex digits), created with mode 0600 when it does not exist;
    ``named_by`` says in an error where the path came from."""
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it meanwhile
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32))
        key = path.read_text().strip().encode()
    except OSError as e:
        raise ParameterError(f"key file {path}: {e.strerror or e} ({named_by})") from None
    if len(key) < 32:
        raise ParameterError(f"key file {path}: too short ({len(key)} characters; at least 32 expected)")
    return key


def load_policy(path: str | Path) -> Policy:
    """Read and validate an access policy file; errors name the key and what is allowed."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"access policy {path} does not exist")
    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected keys and values at the top level")
    data.pop("base", None)  # not a key of the file: the folder paths are resolved against
    try:
        return Policy(**data, base=path.resolve().parent)
    except ValidationError as e:
        msgs = []
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            msgs.append(f"{path}: {loc + ': ' if loc else ''}{msg}")
        raise ParameterError("; ".join(msgs)) from None


@dataclass(frozen=True)
class Identity:
    """A user with their role's rights: what the engine filters and masks by."""

    user: str
    role: str
    scope: Literal["all", "group", "own"]
    rep_id: str | None
    regions: tuple[str, ...]
    teams: tuple[str, ...]
    export: bool
    pii: bool
    hidden_columns: tuple[tuple[str, tuple[str, ...]], ...]
    pii_key: bytes = field(default=b"", repr=False)

    @property
    def fingerprint(self) -> str:
        """Same for two users who see exactly the same rows and columns (results may be shared)."""
        key = {"scope": self.scope, "rep_id": self.rep_id if self.scope == "own" else None,
               "regions": sorted(self.regions), "teams": sorted(self.teams), "pii": self.pii,
               "hidden": [[t, sorted(c)] for t, c in sorted(self.hidden_columns)]}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def describe(self) -> dict:
        """The scope as recorded in the audit trail and the run manifest."""
        return {"user": self.user, "role": self.role, "scope": self.scope, "rep_id": self.rep_id,
                "regions": list(self.regions), "teams": list(self.teams), "pii": self.pii,
                "fingerprint": self.fingerprint}

    def hidden(self, table: str) -> tuple[str, ...]:
        return dict(self.hidden_columns).get(table, ())


def identity(policy: Policy, user: str | None) -> Identity:
    """The identity of ``user`` (the service user when empty); :class:`AccessDenied` when the
    policy has no entry for them or their role may not read."""
    name = user or policy.service_user
    u = policy.users.get(name)
    if u is None:
        raise AccessDenied(f"user {name!r} has no entry in the access policy: access denied")
    role = policy.roles[u.role]
    if not role.read:
        raise AccessDenied(f"user {name!r} (role {u.role}) may not read data: access denied")
    return Identity(name, u.role, role.scope, u.rep_id, tuple(u.regions), tuple(u.teams), role.export, role.pii,
                    tuple((t, tuple(c)) for t, c in sorted(role.hidden_columns.items())),
                    b"" if role.pii else policy.pii_key())


def users(policy: Policy) -> list[dict]:
    """``[{user, role, rep_id, regions, teams, export, pii}]`` for every user of the policy."""
    out = []
    for name, u in policy.users.items():
        r = policy.roles[u.role]
        out.append({"user": name, "role": u.role, "rep_id": u.rep_id, "regions": list(u.regions),
                    "teams": list(u.teams), "export": r.export and r.read, "pii": r.pii})
    return out


# ---- row scope, as Ibis expressions over the raw tables -----------------------------------------
def _none(t: ibis.Table) -> ibis.Table:
    return t.filter(ibis.literal(False))


class Scope:
    """The scoped version of every warehouse table for one identity. ``raw(name)`` gives the
    unfiltered table and ``has(name)`` whether the warehouse holds it."""

    def __init__(self, ident: Identity, raw: Callable[[str], ibis.Table], has: Callable[[str], bool]):
        self.ident, self.raw, self.has = ident, raw, has

    # the sets everything else follows from
    def _reps(self):
        r = self.raw("reps")
        i = self.ident
        if i.scope == "own":
            return r.filter(r.rep_id == i.rep_id).select("rep_id", "team")
        cond = ibis.literal(False)
        if i.regions:
            cond = cond | r.region.isin(list(i.regions))
        if i.teams:
            cond = cond | r.team.isin(list(i.teams))
        return r.filter(cond).select("rep_id", "team")

    def _rep_ids(self):
        if self.ident.scope == "own":
            return [self.ident.rep_id]
        return self._reps().rep_id if self.has("reps") else []

    def _isin(self, col, values):
        return col.isin(values) if not isinstance(values, list) or values else ibis.literal(False)

    def _canonical(self, source_ids):
        """Canonical customer ids of the source customer ids ``source_ids`` (a column expression)."""
        if self.has("customer_map"):
            m = self.raw("customer_map")
            return m.filter(m.customer_id.isin(source_ids)).canonical_id
        return source_ids

    def _any_id(self, canonical):
        """The canonical ids ``canonical`` and every source id mapped to them: tables other than
        orders keep the customer id their system exported."""
        if isinstance(canonical, list) or not self.has("customer_map"):
            return canonical
        m = self.raw("customer_map")
        return m.filter(m.canonical_id.isin(canonical)).customer_id

    def _owned(self):
        """Canonical ids of the customers owned by the scope's reps (or lying in its regions)."""
        if not self.has("customers"):
            return []
        c = self.raw("customers")
        cond = self._isin(c.owner_rep_id, self._rep_ids())
        if self.ident.scope == "group" and self.ident.regions:
            cond = cond | c.region.isin(list(self.ident.regions))
        return self._canonical(c.filter(cond).customer_id)

    def order_predicate(self, t: ibis.Table):
        """THE row scope of an order, as a boolean expression over ``t``, any table carrying an
        order's ``rep_id``, ``customer_id`` (canonical) and ``region``: the orders themselves, and
        aggregates keyed by those three (the stakeholder pages' precomputed cubes,
        :meth:`saleslab.engine.Engine.serving_table`), so an aggregate row is in scope exactly when
        its orders are. ``all``: every row; ``own``: orders the rep booked or of customers the rep
        owns; ``group``: the same for every rep of the regions/teams, plus orders of those regions."""
        if self.ident.scope == "all":
            return ibis.literal(True)
        cond = self._isin(t.rep_id, self._rep_ids()) | self._isin(t.customer_id, self._owned())
        if self.ident.scope == "group" and self.ident.regions:
            cond = cond | t.region.isin(list(self.ident.regions))
        return cond

    def orders(self):
        o = self.raw("orders")
        return o.filter(self.order_predicate(o))

    def order_rows(self, t: ibis.Table) -> ibis.Table:
        """``t`` (rows keyed by an order's rep_id, customer_id and region) limited to the scope's rows:
        :meth:`order_predicate`, the same predicate :meth:`orders` applies."""
        return t if self.ident.scope == "all" else t.filter(self.order_predicate(t))

    def customer_ids(self):
        """Canonical ids of the scope's customers (owned ones and those of its orders), as a column
        expression; every customer for the ``all`` scope is not listed (None)."""
        return None if self.ident.scope == "all" else self._customers()

    def _order_ids(self):
        return self.orders().order_id

    def _customers(self):
        """Canonical ids of the scope's customers: owned ones and those of its orders."""
        return self.orders().select(cid=ibis._.customer_id).filter(ibis._.cid.notnull()).union(
            self._owned_table(), distinct=True).cid

    def _owned_table(self):
        owned = self._owned()
        if isinstance(owned, list):
            return self.orders().select(cid=ibis._.customer_id).filter(ibis.literal(False))
        return owned.name("cid").as_table()

    def _distributors(self):
        o = self.orders()
        ids = o.filter(o.distributor_id.notnull()).select(did=o.distributor_id)
        if self.ident.scope == "group" and self.ident.regions and self.has("distributors"):
            d = self.raw("distributors")
            ids = ids.union(d.filter(d.region.isin(list(self.ident.regions))).select(did=d.distributor_id),
                            distinct=True)
        return ids.did

    def _leads(self):
        lead = self.raw("leads")
        return lead.filter(self._isin(lead.rep_id, self._rep_ids())
                           | self._isin(lead.customer_id, self._any_id(self._owned())))

    def _invoices(self):
        """Invoices of the scope's orders; an invoice with no order belongs to its customer (or,
        for a supervisor, to a distributor of their regions)."""
        inv = self.raw("invoices")
        loose = inv.order_id.isnull()
        cond = inv.order_id.isin(self._order_ids()) | (loose & inv.customer_id.isin(self._any_id(self._customers())))
        if self.ident.scope == "group" and self.ident.regions:
            cond = cond | (loose & inv.distributor_id.isin(self._distributors()))
        return inv.filter(cond)

    def table(self, name: str) -> ibis.Table:
        """Table ``name`` filtered to the identity's rows (before masking)."""
        t = self.raw(name)
        i = self.ident
        if i.scope == "all" or name in REFERENCE_TABLES:
            return t
        if name in COMPANY_TABLES:
            return _none(t)
        if name == "orders":
            return self.orders()
        if name in ("order_lines", "returns"):
            return t.filter(t.order_id.isin(self._order_ids()))
        if name == "customers":
            return t.filter(t.customer_id.isin(self._source_customers()))
        if name == "contacts":
            return t.filter(t.customer_id.isin(self._source_customers()))
        if name == "customer_map":
            return t.filter(t.canonical_id.isin(self._customers()))
        if name == "invoices":
            return self._invoices()
        if name == "payments":
            # a payment belongs to its invoice; one without an invoice to its customer
            cond = t.invoice_id.isin(self._invoices().invoice_id) | (
                t.invoice_id.isnull() & t.customer_id.isin(self._any_id(self._customers())))
            return t.filter(cond)
        if name == "leads":
            return self._leads()
        if name == "lead_stages":
            return t.filter(t.lead_id.isin(self._leads().lead_id))
        if name == "followups":
            cond = self._isin(t.rep_id, self._rep_ids()) | self._isin(t.customer_id, self._any_id(self._owned()))
            if self.has("leads"):
                cond = cond | t.lead_id.isin(self._leads().lead_id)
            return t.filter(cond)
        if name == "reps":
            return t.filter(self._isin(t.rep_id, self._rep_ids()))
        if name == "distributors":
            return t.filter(t.distributor_id.isin(self._distributors()))
        if name == "targets":
            cond = (t.level == "rep") & self._isin(t.level_id, self._rep_ids())
            if i.scope == "group":
                teams = self._reps().team if self.has("reps") else []
                cond = cond | ((t.level == "team") & (self._isin(t.level_id, teams) | t.level_id.isin(list(i.teams) or [""])))
                if i.regions:
                    cond = cond | ((t.level == "region") & t.level_id.isin(list(i.regions)))
            return t.filter(cond)
        # a table this policy does not know: nothing (never everything)
        return _none(t)

    def _source_customers(self):
        """Source customer ids (as ``customers`` and ``contacts`` hold them) of the scope's customers."""
        if self.has("customer_map"):
            m = self.raw("customer_map")
            return m.filter(m.canonical_id.isin(self._customers())).customer_id
        return self._customers()


def mask(t: ibis.Table, name: str, ident: Identity) -> ibis.Table:
    """``t`` with the identity's hidden columns removed and, without the ``pii`` right, personal
    data masked (see the module docstring)."""
    hidden = [c for c in ident.hidden(name) if c in t.columns]
    if hidden:
        t = t.drop(*hidden)
    if ident.pii:
        return t
    key = ident.pii_key.decode()
    changes, drops = {}, []
    for col, how in PII_COLUMNS.get(name, {}).items():
        if col not in t.columns:
            continue
        c = t[col].cast("string")
        if how == "phone":
            changes[col] = ibis.ifelse(c.length() > 4, ibis.literal("****") + c.right(4), ibis.literal("****"))
        elif how == "email":
            changes[col] = c.left(1) + "***@" + c.re_extract(r"@(.*)$", 1)
        elif how == "hash":
            changes[col] = ibis.literal("H-") + (ibis.literal(key) + c).hexdigest("sha256").left(12)
        elif how == "person_name":
            hashed = ibis.literal("H-") + (ibis.literal(key) + c).hexdigest("sha256").left(12)
            # fail closed: only a name known to be a company's stays readable
            changes[col] = (ibis.ifelse(t.customer_type.fill_null("") == "company", c, hashed)
                            if "customer_type" in t.columns else hashed)
        elif how == "text":  # free text: phone numbers and e-mail addresses inside it
            changes[col] = (c.re_replace(r"\+?(86)?[ -]?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}", "****")
                            .re_replace(r"0[0-9]{2,3}-?[0-9]{7,8}", "****")
                            .re_replace(r"[A-Za-z0-9._%+-]+@", "***@"))
        elif how == "redact":
            changes[col] = ibis.ifelse(c.isnull(), c, ibis.literal("***"))
        elif how == "drop":
            drops.append(col)
    if changes:
        t = t.mutate(**changes)
    if drops:
        t = t.drop(*drops)
    return t


def mask_value(how: str, value: str | None, key: bytes) -> str | None:
    """The masked form of one value, as :func:`mask` computes it in the engine (for tests and
    for values that never pass through the engine)."""
    if value is None:
        return None
    v = str(value)
    if how == "phone":
        return "****" + v[-4:] if len(v) > 4 else "****"
    if how == "email":
        return v[:1] + "***@" + (v.split("@", 1)[1] if "@" in v else "")
    return "H-" + hashlib.sha256(key + v.encode()).hexdigest()[:12]


# ---- opening a governed session ---------------------------------------------------------------
def open_trail(policy: Policy):
    """The policy's audit trail (:class:`saleslab.audit.AuditTrail`)."""
    from .audit import AuditTrail

    a = policy.audit
    key = _key_file(policy.path(a.key_file)) if a.key_file else None
    log = policy.path(a.log)
    return AuditTrail(log, policy.path(a.anchor) if a.anchor else None, retention_days=a.retention_days, key=key)


def governed(policy_path: str | Path, user: str | None) -> tuple[Identity, object]:
    """``(identity, trail)`` for ``user`` under the policy file; a refused user is recorded in the
    trail as denied before :class:`AccessDenied` is raised."""
    policy = load_policy(policy_path)
    trail = open_trail(policy)
    try:
        ident = identity(policy, user)
    except AccessDenied as e:
        trail.record(user or policy.service_user, "deny", outcome="denied", reason=str(e))
        raise
    return ident, trail


def require_export(ident: Identity, trail, table: str) -> None:
    """Refuse (and record) an export by a user whose role has no export right."""
    if not ident.export:
        trail.record(ident.user, "deny", table=table, outcome="denied", reason="no export right")
        raise AccessDenied(f"user {ident.user!r} (role {ident.role}) may not export: access denied")
