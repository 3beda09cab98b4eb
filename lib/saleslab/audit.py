"""The tamper-evident audit trail: who read, exported or changed what, and when (domain.md §13).

The trail is a file of JSON lines, one entry per action, appended and never edited::

    {"action":"export","file":"out.csv","file_sha256":"…","hash":"…","outcome":"ok","prev":"…",
     "rows":120,"seq":41,"table":"customers","ts":"2026-12-01T23:40:12.123456+00:00","user":"li.wei"}

Every entry carries the hash of the entry before it (``prev``) and its own ``hash`` over all its
other fields, so editing, deleting, duplicating or moving an entry breaks the chain. The chain
alone cannot show that the *last* entries were dropped (or the file cut short), so an **anchor**
file, kept apart from the log, records the head hash and the number of entries; :meth:`verify`
checks both. With a ``key`` the hashes are HMAC-SHA256 and the anchor carries a MAC: someone
without the key cannot recompute the chain after editing it, nor write a matching anchor.

Line format: canonical JSON (keys sorted, no spaces, UTF-8), so any change of a byte of an entry
is caught, also one that leaves the parsed content alone. ``hash`` = SHA-256 (or HMAC-SHA256 with
a key derived from ``key``) of the canonical JSON of the entry without ``hash``. The first entry's
``prev`` is :data:`GENESIS` (or, after pruning, the hash of the last dropped entry).

Anchor (JSON): ``{v, keyed, head, entries, base_seq, base_hash[, salt][, prune_to][, mac]}``:
``base_seq``/``base_hash`` are the seq and hash of the last entry dropped by :meth:`AuditTrail.prune`
(0 and :data:`GENESIS` before any pruning), ``entries`` the number of lines in the log and ``head``
the hash of the last one (``base_hash`` when the log is empty). ``prune_to`` is there only while a
prune is under way (the state after it), so that a prune interrupted between rewriting the log
and the anchor leaves a trail that still verifies. ``salt`` (only without a key) is the random
key of the PII hashes of this trail.

Writers (stage kernels, the CLI) may append at the same time: each :meth:`AuditTrail.record` holds
an exclusive ``flock`` on ``<log>.lock`` (a file never replaced, so pruning does not defeat it)
around reading the last entry, appending and fsyncing the line, and replacing the anchor (temp
file + ``os.replace``). A write that fails is undone (the log is cut back to its previous length)
and raises :class:`AuditError` with one line; the caller's action must then fail.

No raw personal data: the values of filters (and changes and extra fields) on a column of
:data:`PII_COLUMNS` are stored as keyed hashes (:func:`redact`).

Limits (by design): whoever can rewrite the log *and* the anchor together can roll both back to
an earlier genuine state (or, without a key, rewrite everything); keep the anchor on other storage
than the log (or copy its head elsewhere now and then) and use a key held outside the repository.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import hmac
import json
import math
import operator
import os
import secrets
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from .errors import InvalidArgument, ParameterError, SalesLabError
from .files import atomic_write, fsync_dir

#: ``prev`` of the first entry of a trail that was never pruned
GENESIS = "0" * 64
#: the shortest retention allowed: 6 months (domain.md §13)
MIN_RETENTION_DAYS = 180
#: the default retention: 3 years
DEFAULT_RETENTION_DAYS = 1095
#: columns whose filter values are personal data: stored as keyed hashes, never in clear
#: (matched on the column name, also when qualified as ``table.column``; case-insensitive)
PII_COLUMNS = frozenset({
    "phone", "mobile", "telephone", "email", "e_mail", "tax_id", "id_card", "id_number",
    "name", "contact_name", "customer_name", "person_name", "address",
})
#: fields every entry has, set by the trail (an extra field may not take their names)
RESERVED = frozenset({"seq", "ts", "user", "action", "table", "filter", "rows", "file", "file_sha256",
                      "change", "outcome", "prev", "hash"})
#: in a filter or change written as ``{"column": "phone", "value": ...}``, the keys that name the
#: column and those whose values are then hashed
_COLUMN_KEYS = ("column", "col", "field")
_VALUE_KEYS = frozenset({"value", "values", "old", "new", "before", "after", "from", "to", "pattern"})
_ANCHOR_VERSION = 1


class AuditError(SalesLabError):
    """The audit trail could not record an action (or prune): the action must fail. Exit status 9."""

    exit_code = 9


class _Refused(Exception):
    """Internal: why a record or prune cannot go on (turned into one AuditError line)."""


# ---- hashing ------------------------------------------------------------------------------------
def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, b"saleslab audit v1 " + purpose, hashlib.sha256).digest()


def _normalise(value) -> bytes:
    return unicodedata.normalize("NFKC", str(value)).strip().encode("utf-8")


def redact(value, key: bytes | None = None) -> str:
    """The keyed hash that stands for a personal value (phone, e-mail, name ...) in the trail.

    The same value and key give the same text, so entries about one person stay linkable
    (``redact(phone, key)`` finds them) while the value itself is not stored. Values are
    compared after Unicode NFKC normalisation and trimming. Without a key the hash is a plain
    SHA-256, which anyone can recompute for a guessed value (a phone number is guessed in
    seconds): :class:`AuditTrail` therefore always hashes with its key or with a random salt
    of its own (:meth:`AuditTrail.redact`).
    """
    data = _normalise(value)
    if key:
        return "hmac:" + hmac.new(_derive(_key_bytes(key), b"redact"), data, hashlib.sha256).hexdigest()[:24]
    return "sha256:" + hashlib.sha256(b"saleslab audit v1 redact " + data).hexdigest()[:24]


def _key_bytes(key) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)):
        raise InvalidArgument(f"audit key: bytes expected, got a {type(key).__name__}")
    return bytes(key)


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes (for ``file_sha256`` of an export)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _plain(value):
    """``value`` as JSON-able data (tuples and sets as lists, dates as ISO text, numpy scalars
    as numbers, anything else as its text)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        try:
            return _plain(value.item())
        except (TypeError, ValueError):
            pass
    return str(value)


def _is_pii(column) -> bool:
    return str(column).rsplit(".", 1)[-1].strip().lower() in PII_COLUMNS


def _hash_all(value, key):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _hash_all(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_hash_all(v, key) for v in value]
    return redact(value, key)


def scrub(value, key: bytes | None):
    """``value`` (plain JSON data) with every value under a PII key hashed: ``{"phone": x}``,
    ``{"customers.name": [x, y]}`` and ``{"column": "phone", "value": x}`` (or ``old``/``new``)
    alike."""
    if isinstance(value, list):
        return [scrub(v, key) for v in value]
    if not isinstance(value, dict):
        return value
    named = any(isinstance(value.get(k), str) and _is_pii(value[k]) for k in _COLUMN_KEYS)
    out = {}
    for k, v in value.items():
        if _is_pii(k) or (named and k in _VALUE_KEYS):
            out[k] = _hash_all(v, key)
        else:
            out[k] = scrub(v, key)
    return out


# ---- the trail ----------------------------------------------------------------------------------
class _State:
    """What the anchor says (one of its states), and what the log holds at its end."""

    __slots__ = ("base_seq", "base_hash", "entries", "head")

    def __init__(self, base_seq: int, base_hash: str, entries: int, head: str):
        self.base_seq, self.base_hash, self.entries, self.head = base_seq, base_hash, entries, head

    @property
    def last_seq(self) -> int:
        return self.base_seq + self.entries

    def as_dict(self) -> dict:
        return {"base_seq": self.base_seq, "base_hash": self.base_hash, "entries": self.entries}


class AuditTrail:
    """The audit trail in ``log`` with its anchor (default ``<log>.anchor``).

    ``retention_days``: how long entries are kept by :meth:`prune` (at least 180).
    ``key``: HMAC key of the chain, the anchor and the PII hashes (at least 16 bytes; text is
    taken as UTF-8); without it the chain is plain SHA-256 and the PII hashes use a random salt
    kept in the anchor. ``lock_wait``: seconds a writer waits for another one.
    """

    def __init__(self, log: Path, anchor: Path | None = None, retention_days: int = DEFAULT_RETENTION_DAYS,
                 key: bytes | None = None, *, lock_wait: float = 30.0):
        self.log = Path(log)
        self.anchor = Path(anchor) if anchor is not None else self.log.with_name(self.log.name + ".anchor")
        self.lock_path = self.log.with_name(self.log.name + ".lock")
        if isinstance(retention_days, bool) or not isinstance(retention_days, int):
            raise ParameterError(f"audit retention_days: a whole number of days expected "
                                 f"(got {retention_days!r}); at least {MIN_RETENTION_DAYS}")
        if retention_days < MIN_RETENTION_DAYS:
            raise ParameterError(f"audit retention_days: {retention_days} is below the minimum of "
                                 f"{MIN_RETENTION_DAYS} days (entries are kept at least 6 months, "
                                 f"domain.md §13); the default is {DEFAULT_RETENTION_DAYS}")
        self.retention_days = retention_days
        if key is not None:
            key = _key_bytes(key)
            if len(key) < 16:
                raise InvalidArgument(f"audit key: {len(key)} bytes; at least 16 expected")
        self._key = key or None
        self._chain_key = _derive(key, b"chain") if key else None
        self.lock_wait = float(lock_wait)

    def __repr__(self) -> str:
        return f"AuditTrail({str(self.log)!r}, keyed={self._key is not None})"

    # -- hashing ---------------------------------------------------------------------------------
    def _hash(self, data: bytes) -> str:
        if self._chain_key:
            return hmac.new(self._chain_key, data, hashlib.sha256).hexdigest()
        return hashlib.sha256(data).hexdigest()

    def entry_hash(self, entry: dict) -> str:
        """The hash an entry must carry (over all its fields but ``hash``)."""
        return self._hash(_canonical({k: v for k, v in entry.items() if k != "hash"}).encode("utf-8"))

    def _anchor_mac(self, anchor: dict) -> str:
        body = _canonical({k: v for k, v in anchor.items() if k != "mac"}).encode("utf-8")
        return hmac.new(self._chain_key, b"anchor\0" + body, hashlib.sha256).hexdigest()

    def redact(self, value) -> str:
        """The hash this trail stores for a personal value (to look up entries about it)."""
        return redact(value, self._pii_key(self._read_anchor()))

    def _pii_key(self, anchor: dict | None) -> bytes | None:
        if self._key:
            return self._key
        salt = (anchor or {}).get("salt")
        return bytes.fromhex(salt) if isinstance(salt, str) and salt else None

    # -- files -----------------------------------------------------------------------------------
    @contextmanager
    def _locked(self, shared: bool = False, required: bool = True):
        """Hold the trail's lock (exclusive for writers). ``required=False``: go on without it
        when the lock file cannot be opened (a read-only copy being verified)."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o640)
        except OSError as e:
            if required:
                raise _Refused(f"cannot open the lock {self.lock_path} ({e.strerror})") from None
            fd = None
        if fd is None:
            yield
            return
        try:
            deadline = time.monotonic() + self.lock_wait
            pause = 0.001
            while True:
                try:
                    fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise _Refused(f"the lock {self.lock_path} stayed busy for {self.lock_wait:g} s") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.005)
            yield
        finally:
            os.close(fd)  # releases the flock

    def _read_anchor(self) -> dict | None:
        """The anchor's content (None when there is none); _Refused when it is unreadable,
        malformed or (with a key) its MAC does not match."""
        try:
            text = self.anchor.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            raise _Refused(f"the anchor {self.anchor} cannot be read ({getattr(e, 'strerror', None) or e})") from None
        try:
            a = json.loads(text)
        except ValueError:
            raise _Refused(f"the anchor {self.anchor} is not valid JSON") from None
        if not isinstance(a, dict):
            raise _Refused(f"the anchor {self.anchor} is not a JSON object")
        for name in ("head", "base_hash"):
            if not isinstance(a.get(name), str):
                raise _Refused(f"the anchor {self.anchor} has no valid {name!r}")
        for name in ("entries", "base_seq"):
            if isinstance(a.get(name), bool) or not isinstance(a.get(name), int) or a[name] < 0:
                raise _Refused(f"the anchor {self.anchor} has no valid {name!r}")
        if self._chain_key:
            if not a.get("keyed") or not isinstance(a.get("mac"), str):
                raise _Refused(f"the anchor {self.anchor} was not written with a key (replaced?)")
            if not _same(a["mac"], self._anchor_mac(a)):
                raise _Refused(f"the anchor {self.anchor} does not carry a valid MAC (altered, or "
                               "written with another key)")
        elif a.get("keyed"):
            raise _Refused("the trail was written with a key: verifying it needs the key")
        pt = a.get("prune_to")
        if pt is not None and not (isinstance(pt, dict) and isinstance(pt.get("base_hash"), str)
                                   and all(isinstance(pt.get(k), int) and not isinstance(pt.get(k), bool)
                                           for k in ("base_seq", "entries"))):
            raise _Refused(f"the anchor {self.anchor} has a malformed 'prune_to'")
        return a

    def _states(self, a: dict) -> list[_State]:
        states = [_State(a["base_seq"], a["base_hash"], a["entries"], a["head"])]
        pt = a.get("prune_to")
        if pt:
            states.append(_State(pt["base_seq"], pt["base_hash"], pt["entries"], a["head"]))
        return states

    def _write_anchor(self, state: _State, salt: str | None, prune_to: _State | None = None) -> None:
        a = {"v": _ANCHOR_VERSION, "keyed": self._chain_key is not None, "head": state.head,
             **state.as_dict()}
        if salt and not self._chain_key:
            a["salt"] = salt
        if prune_to is not None:
            a["prune_to"] = prune_to.as_dict()
        if self._chain_key:
            a["mac"] = self._anchor_mac(a)
        atomic_write(self.anchor, (_canonical(a) + "\n").encode("utf-8"), mode=0o640)

    def _first_and_last(self) -> tuple[int, dict | None, dict | None]:
        """(size of the log, its first entry, its last entry); _Refused when the log ends with a
        partial line or an end line is not an entry."""
        try:
            fh = open(self.log, "rb")
        except FileNotFoundError:
            return 0, None, None
        with fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return 0, None, None
            first = fh.readline()
            fh.seek(size - 1)
            if fh.read(1) != b"\n":
                raise _Refused("the log ends with a partial line (cut off)")
            pos, chunk = size - 1, b""  # chunk: the bytes from pos to the final newline (excluded)
            while pos > 0:
                step = min(4096, pos)
                pos -= step
                fh.seek(pos)
                chunk = fh.read(step) + chunk
                if b"\n" in chunk:
                    break
            last = chunk.rsplit(b"\n", 1)[-1]
        return size, _entry(first), _entry(last)

    def _current(self, a: dict | None) -> tuple[_State, int]:
        """The state the anchor and the end of the log agree on, and the log's size."""
        size, first, last = self._first_and_last()
        if a is None:
            if size:
                raise _Refused(f"the anchor {self.anchor} is missing but the log holds entries")
            return _State(0, GENESIS, 0, GENESIS), 0
        states = self._states(a)
        state = states[0]
        if len(states) > 1 and first is not None and first.get("seq") == states[1].base_seq + 1:
            state = states[1]
        if size == 0:
            if state.entries != 0:
                raise _Refused(f"the log is missing or empty but the anchor records {state.entries} entries")
            return state, 0
        if first is None or last is None:
            raise _Refused("the first or last line of the log is not an entry")
        if last.get("seq") != state.last_seq or last.get("hash") != state.head:
            raise _Refused(f"the log's last entry (seq {last.get('seq')!r}) does not match its anchor "
                           f"(seq {state.last_seq}); run 'saleslab audit verify'")
        return state, size

    # -- recording -------------------------------------------------------------------------------
    def record(self, user: str, action: str, *, table: str | None = None, filter: dict | None = None,
               rows: int | None = None, file: str | None = None, file_sha256: str | None = None,
               change: dict | None = None, outcome: str = "ok", **extra) -> dict:
        """Append one entry and return it. ``action``: ``read``, ``query``, ``export``, ``change``,
        ``deny``, ``login``, ``run`` ...; ``filter``: the rows asked for (values of PII columns
        are hashed); ``rows``: rows read or written; ``file``/``file_sha256``: an export;
        ``change``: what was changed; ``outcome``: ``ok``, ``denied``, ``failed``; ``extra``:
        further fields (JSON-able). Raises :class:`AuditError` (one line) when the entry cannot
        be written durably; nothing is left half-written then.
        """
        for name, value in (("user", user), ("action", action), ("outcome", outcome)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidArgument(f"audit record: {name!r} must be non-empty text (got {value!r})")
        if rows is not None:
            try:
                rows = None if isinstance(rows, bool) else operator.index(rows)
            except TypeError:
                rows = None
            if rows is None or rows < 0:
                raise InvalidArgument("audit record: 'rows' must be a whole number >= 0")
        if file_sha256 is not None and not (isinstance(file_sha256, str) and len(file_sha256) == 64
                                            and all(c in "0123456789abcdef" for c in file_sha256.lower())):
            raise InvalidArgument("audit record: 'file_sha256' must be 64 hexadecimal digits")
        clash = sorted(RESERVED & set(extra))
        if clash:
            raise InvalidArgument(f"audit record: {', '.join(clash)} are set by the trail, not by the caller")
        fields = {"user": user, "action": action, "outcome": outcome, "table": table, "filter": filter,
                  "rows": rows, "file": file, "file_sha256": file_sha256, "change": change, **extra}
        fields = {k: _plain(v) for k, v in fields.items() if v is not None}
        try:
            with self._locked():
                a = self._read_anchor()
                state, size = self._current(a)
                salt = (a or {}).get("salt") or (None if self._key else secrets.token_hex(32))
                key = self._key or bytes.fromhex(salt)
                entry = {k: (v if k in ("user", "action", "outcome", "table", "rows", "file", "file_sha256")
                             else scrub({k: v}, key)[k]) for k, v in fields.items()}
                entry.update(seq=state.last_seq + 1,
                             ts=dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
                             prev=state.head)
                entry["hash"] = self.entry_hash(entry)
                line = (_canonical(entry) + "\n").encode("utf-8")
                self._append(line, size)
                try:
                    self._write_anchor(_State(state.base_seq, state.base_hash, state.entries + 1, entry["hash"]),
                                       salt)
                except BaseException:
                    self._cut(size)
                    raise
                return entry
        except _Refused as e:
            raise AuditError(f"audit log {self.log}: could not record {action!r} by {user!r}: {e}") from None
        except (OSError, ValueError, TypeError) as e:
            raise AuditError(f"audit log {self.log}: could not record {action!r} by {user!r}: "
                             f"{_why(e)}") from None

    def _append(self, line: bytes, size: int) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        new = not self.log.exists()
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if os.fstat(fd).st_size != size:
                raise _Refused("the log changed while it was locked")
            try:
                view = memoryview(line)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            except BaseException:
                _truncate(fd, size)
                raise
        finally:
            os.close(fd)
        if new:
            fsync_dir(self.log.parent)

    def _cut(self, size: int) -> None:
        """Undo an append whose anchor could not be written (best effort)."""
        try:
            fd = os.open(self.log, os.O_WRONLY)
        except OSError:
            return
        try:
            _truncate(fd, size)
        finally:
            os.close(fd)

    # -- verifying -------------------------------------------------------------------------------
    def verify(self) -> dict:
        """Check the whole trail: ``{"log", "entries", "ok", "first_bad", "line", "reason"}``.

        ``entries``: lines in the log; ``first_bad``: the seq of the first bad entry (its line
        number when it has no readable seq; None when the trail is fine or the anchor itself is
        bad); ``line``: its line number. Every line must be a canonical JSON entry whose seq is
        one more than the one before, whose ``prev`` is the hash of the one before and whose
        ``hash`` recomputes; the first follows the anchor's base and the last is the anchor's
        head, after as many entries as the anchor records.
        """
        try:
            with self._locked(shared=True, required=False):
                return self._verify()
        except _Refused as e:
            raise AuditError(f"audit log {self.log}: could not verify: {e}") from None
        except OSError as e:
            raise AuditError(f"audit log {self.log}: could not verify: {_why(e)}") from None

    def _verify(self) -> dict:
        out = {"log": str(self.log), "entries": 0, "ok": False, "first_bad": None, "line": None, "reason": ""}
        try:
            a = self._read_anchor()
        except _Refused as e:
            out["entries"] = _count_lines(self.log)
            return {**out, "reason": str(e)}
        try:
            fh = open(self.log, "rb")
        except FileNotFoundError:
            fh = None
        except OSError as e:
            return {**out, "reason": f"the log cannot be read ({e.strerror})"}
        if a is None:
            n = _count_lines(self.log) if fh else 0
            if fh:
                fh.close()
            if n or (fh and self.log.stat().st_size):
                return {**out, "entries": n, "reason": f"the anchor {self.anchor} is missing but the log holds entries"}
            return {**out, "ok": True, "reason": "empty trail"}
        states = self._states(a)
        state, bad, n, prev, seq_expected = states[0], None, 0, None, None
        with (fh or open(os.devnull, "rb")) as f:
            for n, raw in enumerate(f, start=1):
                if bad is not None:
                    continue
                entry = _entry(raw.rstrip(b"\n")) if raw.endswith(b"\n") else None
                if n == 1:
                    if len(states) > 1 and entry is not None and entry.get("seq") == states[1].base_seq + 1:
                        state = states[1]
                    prev, seq_expected = state.base_hash, state.base_seq + 1
                bad = self._check_line(raw, entry, n, seq_expected, prev)
                if bad is None:
                    prev, seq_expected = entry["hash"], seq_expected + 1
        out["entries"] = n
        if bad is not None:
            first_bad, line, reason = bad
            return {**out, "first_bad": first_bad, "line": line, "reason": reason}
        if n == 0:
            prev = state.base_hash
        if n < state.entries:
            return {**out, "first_bad": state.base_seq + n + 1, "line": n + 1,
                    "reason": f"the log ends after {n} entries but its anchor records {state.entries} "
                              "(the last entries were dropped or the file was cut short)"}
        if n > state.entries:
            return {**out, "first_bad": state.base_seq + state.entries + 1, "line": state.entries + 1,
                    "reason": f"the log holds {n - state.entries} entries after the anchor's head "
                              "(appended without the trail, or the anchor is an old one)"}
        if prev != state.head:
            return {**out, "first_bad": state.last_seq, "line": n,
                    "reason": "the last entry is not the anchor's head (the log was rewritten)"}
        return {**out, "ok": True, "reason": "ok"}

    def _check_line(self, raw: bytes, entry: dict | None, n: int, seq: int, prev: str):
        """None when line ``n`` is the right next entry, else (first_bad, line, reason)."""
        if not raw.endswith(b"\n"):
            return n, n, f"line {n} is cut off (the file was truncated or a write interrupted)"
        if entry is None:
            return n, n, f"line {n} is not a JSON entry"
        s = entry.get("seq")
        if isinstance(s, bool) or not isinstance(s, int):
            return n, n, f"line {n} has no valid seq"
        if raw.decode("utf-8") != _canonical(entry) + "\n":
            return s, n, f"entry seq {s} (line {n}) was rewritten (not in canonical form)"
        if s != seq:
            return s, n, (f"entry seq {s} (line {n}) where seq {seq} was expected (an entry was deleted, "
                       "duplicated or moved)")
        if entry.get("prev") != prev:
            return s, n, f"entry seq {s} (line {n}): prev is not the hash of the entry before it"
        if not isinstance(entry.get("hash"), str) or not _same(entry["hash"], self.entry_hash(entry)):
            return s, n, f"entry seq {s} (line {n}): its hash does not match its content (edited)"
        return None

    # -- pruning ---------------------------------------------------------------------------------
    def prune(self, now: dt.datetime | None = None) -> int:
        """Drop the entries older than ``retention_days`` (before ``now`` minus the retention;
        ``now`` naive is taken as UTC) and return how many were dropped.

        Only a leading run of old entries is dropped (an entry kept is never followed by a
        dropped one), so every entry within the retention stays. The trail must verify first
        (pruning never hides a tampering); the anchor then records the seq and hash of the last
        dropped entry, so that the rest still verifies. The log is rewritten atomically; an
        interruption leaves either the old or the new trail, both verifiable.
        """
        now = now or dt.datetime.now(dt.timezone.utc)
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.timezone.utc)
        cutoff = now - dt.timedelta(days=self.retention_days)
        try:
            with self._locked():
                check = self._verify()
                if not check["ok"] and check["reason"] != "empty trail":
                    raise _Refused(f"the trail does not verify ({check['reason']}); nothing was dropped")
                a = self._read_anchor()
                if a is None:
                    return 0
                state, _ = self._current(a)
                dropped, offset, last = 0, 0, None
                with open(self.log, "rb") as fh:
                    for raw in fh:
                        e = json.loads(raw)
                        if _parse_ts(e.get("ts")) >= cutoff:
                            break
                        dropped, offset, last = dropped + 1, offset + len(raw), e
                    if dropped == 0:
                        if a.get("prune_to"):
                            self._write_anchor(state, a.get("salt"))
                        return 0
                    fh.seek(offset)
                    rest = fh.read()
                new = _State(last["seq"], last["hash"], state.entries - dropped, state.head)
                self._write_anchor(state, a.get("salt"), prune_to=new)
                atomic_write(self.log, rest, mode=0o640)
                self._write_anchor(new, a.get("salt"))
                return dropped
        except _Refused as e:
            raise AuditError(f"audit log {self.log}: could not prune: {e}") from None
        except (OSError, ValueError, TypeError) as e:
            raise AuditError(f"audit log {self.log}: could not prune: {_why(e)}") from None


# ---- helpers ------------------------------------------------------------------------------------
def _entry(raw: bytes) -> dict | None:
    try:
        e = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return e if isinstance(e, dict) else None


def _same(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes (any text: a forged one may not be ASCII)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 0


def _parse_ts(ts) -> dt.datetime:
    t = dt.datetime.fromisoformat(ts)
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _why(e: Exception) -> str:
    if isinstance(e, OSError):
        name = f" ({e.filename})" if e.filename else ""
        text = e.strerror or errno.errorcode.get(e.errno or 0, "") or str(e)
        return f"{text}{name}"
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def _truncate(fd: int, size: int) -> None:
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    except OSError:
        pass
