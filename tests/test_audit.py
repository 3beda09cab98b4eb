"""The tamper-evident audit trail (issue 12 item 5, domain.md §13): random tamperings are all
caught, concurrent writers lose nothing, a failed write fails the action, pruning keeps the
chain verifiable, and no personal data is stored in clear."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saleslab.audit import GENESIS, PII_COLUMNS, AuditError, AuditTrail, redact
from saleslab.errors import InvalidArgument, ParameterError, SalesLabError

KEY = b"audit-test-key-0123456789abcdef!"


def canonical(obj) -> str:
    """The line format, written out independently of the module: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def plain_hash(entry: dict) -> str:
    """What a forger without the key computes: SHA-256 of the entry without its hash."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"}).encode()).hexdigest()


def fill(trail: AuditTrail, n: int, tag: str = "", start: int = 0) -> list[dict]:
    """``n`` varied entries (reads, exports, changes, denials; unicode; PII filters)."""
    out = []
    for i in range(start, start + n):
        kind = i % 4
        if kind == 0:
            out.append(trail.record(f"rep{i}{tag}", "read", table="orders", rows=i * 7,
                                    filter={"region": "EC", "rep_id": f"R{i}"}))
        elif kind == 1:
            out.append(trail.record("王经理", "export", table="customers", rows=12, file=f"out{i}.csv",
                                    file_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                                    filter={"phone": f"1380013{i:04d}"}))
        elif kind == 2:
            out.append(trail.record("admin", "change", change={"table": "reps", "column": "team",
                                                                "old": "A", "new": "B"}, note="重新分配"))
        else:
            out.append(trail.record("nobody", "deny", outcome="denied", reason="no policy entry"))
    return out


@dataclass
class Base:
    """An untouched trail: its log lines, its anchor and the anchors it had before."""

    name: str
    key: bytes | None
    lines: list[bytes]
    anchor: bytes
    old_anchors: list[bytes]

    @property
    def log(self) -> bytes:
        return b"".join(self.lines)


def _build(folder: Path, key, n: int, prune_first: int = 0) -> Base:
    trail = AuditTrail(folder / "audit.jsonl", key=key, retention_days=180)
    anchors = []
    entries = []
    for i in range(n):
        if i % 2:
            entries += fill(trail, 1, tag=str(i), start=i // 2)
        else:
            entries.append(trail.record("u", "run", stage=f"0{i}_x", i=i))
        anchors.append(trail.anchor.read_bytes())
        time.sleep(0.001)  # distinct timestamps, so that pruning has a cut-off between entries
    if prune_first:
        cut = dt.datetime.fromisoformat(entries[prune_first]["ts"])
        assert trail.prune(now=cut + dt.timedelta(days=180)) == prune_first
        anchors.append(trail.anchor.read_bytes())
        for i in range(3):
            fill(trail, 1, tag=f"p{i}", start=i + 1)
            anchors.append(trail.anchor.read_bytes())
    final = trail.anchor.read_bytes()
    lines = trail.log.read_bytes().splitlines(keepends=True)
    return Base(f"{'key' if key else 'nokey'}-{n}{'-pruned' if prune_first else ''}", key, lines, final,
                [a for a in anchors if a != final])


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> list[Base]:
    out = []
    for key in (None, KEY):
        for n in (1, 2, 5, 9):
            out.append(_build(tmp_path_factory.mktemp("base"), key, n))
        out.append(_build(tmp_path_factory.mktemp("base"), key, 6, prune_first=3))
    return out


@pytest.fixture()
def scratch(tmp_path):
    """A folder for the thousand tampered copies: in memory when the machine has /dev/shm (ext4
    takes ~5 ms to rewrite a file here, tmpfs 0.1 ms)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(dir=shm, prefix="saleslab-audit-") as d:
            yield Path(d)
    else:
        yield tmp_path


def check(folder: Path, key, log: bytes | None, anchor: bytes | None) -> dict:
    """Write a (tampered) trail into ``folder`` and verify it with a fresh AuditTrail."""
    folder.mkdir(parents=True, exist_ok=True)
    lp, ap = folder / "audit.jsonl", folder / "audit.jsonl.anchor"
    for path, data in ((lp, log), (ap, anchor)):
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(data)
    return AuditTrail(lp, key=key).verify()


# ---- the tamperings ---------------------------------------------------------------------------
values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                   st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def _edited(base: Base, data, rehashed: bool = False) -> tuple[int, dict]:
    i = data.draw(st.integers(0, len(base.lines) - 1), label="entry")
    e = json.loads(base.lines[i])
    fields = [f for f in sorted(e) if not (rehashed and f in ("hash", "prev"))]  # those are recomputed then
    field = data.draw(st.sampled_from(fields + ["new_field"]), label="field")
    new = data.draw(values, label="value")
    if field in e and new == e[field] and type(new) is type(e[field]):
        new = [new]  # always a change
    e[field] = new
    return i, e


def t_edit(base, data):
    """Edit one field of an entry (cleanly, in canonical form)."""
    i, e = _edited(base, data)
    lines = list(base.lines)
    lines[i] = (canonical(e) + "\n").encode()
    return b"".join(lines), base.anchor


def t_edit_rehash(base, data):
    """Edit an entry and give it a correct plain SHA-256."""
    i, e = _edited(base, data, rehashed=True)
    e["hash"] = plain_hash(e)
    lines = list(base.lines)
    lines[i] = (canonical(e) + "\n").encode()
    return b"".join(lines), base.anchor


def t_rehash_chain(base, data):
    """Edit an entry and recompute the whole chain after it (plain SHA-256), anchor untouched."""
    i, e = _edited(base, data, rehashed=True)
    entries = [json.loads(x) for x in base.lines]
    entries[i] = e
    for j in range(i, len(entries)):
        if j:
            entries[j]["prev"] = entries[j - 1]["hash"]
        entries[j]["hash"] = plain_hash(entries[j])
    return "".join(canonical(x) + "\n" for x in entries).encode(), base.anchor


def t_flip_byte(base, data):
    log = bytearray(base.log)
    pos = data.draw(st.integers(0, len(log) - 1), label="pos")
    log[pos] = data.draw(st.integers(0, 255).filter(lambda b: b != log[pos]), label="byte")
    return bytes(log), base.anchor


def _position(base, data, label):
    n = len(base.lines)
    where = data.draw(st.sampled_from(["first", "middle", "last", "any"]), label=label)
    return {"first": 0, "last": n - 1, "middle": n // 2}.get(where) if where != "any" else \
        data.draw(st.integers(0, n - 1), label=label + "_index")


def t_delete(base, data):
    i = _position(base, data, "delete")
    return b"".join(x for j, x in enumerate(base.lines) if j != i), base.anchor


def t_swap(base, data):
    n = len(base.lines)
    i = data.draw(st.integers(0, n - 2), label="i")
    j = data.draw(st.integers(i + 1, n - 1), label="j")
    lines = list(base.lines)
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines), base.anchor


def t_duplicate(base, data):
    i = data.draw(st.integers(0, len(base.lines) - 1), label="copy")
    at = data.draw(st.integers(0, len(base.lines)), label="at")
    lines = list(base.lines)
    lines.insert(at, base.lines[i])
    return b"".join(lines), base.anchor


def t_truncate(base, data):
    log = base.log
    return log[:data.draw(st.integers(0, len(log) - 1), label="length")], base.anchor


def _forged(base, data) -> dict:
    last = json.loads(base.lines[-1])
    e = {"seq": last["seq"] + 1, "prev": last["hash"], "ts": last["ts"],
         "user": data.draw(st.text(min_size=1, max_size=8)),
         "action": data.draw(st.sampled_from(["read", "export", "change"])), "outcome": "ok",
         "table": "customers", "rows": data.draw(st.integers(0, 10**6))}
    e["hash"] = plain_hash(e)
    return e


def t_append_forged(base, data):
    """Append an entry with a correct seq, prev and plain SHA-256 (anchor untouched)."""
    return base.log + (canonical(_forged(base, data)) + "\n").encode(), base.anchor


def t_append_forged_anchor(base, data):
    """Append a forged entry and forge the anchor to match (only a key can catch this one)."""
    e = _forged(base, data)
    anchor = json.loads(base.anchor)
    anchor.update(head=e["hash"], entries=anchor["entries"] + 1)
    if data.draw(st.booleans(), label="drop_mac"):
        anchor.pop("mac", None)
        anchor["keyed"] = False
    return base.log + (canonical(e) + "\n").encode(), (canonical(anchor) + "\n").encode()


def t_old_anchor(base, data):
    return base.log, data.draw(st.sampled_from(base.old_anchors), label="anchor")


def t_no_anchor(base, data):
    return base.log, None


TAMPERINGS = {f.__name__[2:]: f for f in (t_edit, t_edit_rehash, t_rehash_chain, t_flip_byte, t_delete, t_swap,
                                          t_duplicate, t_truncate, t_append_forged, t_append_forged_anchor,
                                          t_old_anchor, t_no_anchor)}


def applicable(base: Base) -> list[str]:
    out = [k for k in TAMPERINGS if k not in ("swap", "old_anchor", "append_forged_anchor")]
    if len(base.lines) >= 2:
        out.append("swap")
    if base.old_anchors:
        out.append("old_anchor")
    if base.key:  # without a key, whoever rewrites log and anchor together rewrites history (documented)
        out.append("append_forged_anchor")
    return out


@pytest.mark.parametrize("keyed", [False, True], ids=["plain", "hmac"])
def test_random_tamperings_are_all_caught(bases, scratch, keyed):
    counts, missed = Counter(), []
    mine = [b for b in bases if bool(b.key) == keyed]

    @settings(max_examples=500, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(data=st.data())
    def run(data):
        base = data.draw(st.sampled_from(mine), label="base")
        kind = data.draw(st.sampled_from(applicable(base)), label="tampering")
        log, anchor = TAMPERINGS[kind](base, data)
        assert (log, anchor) != (base.log, base.anchor)
        result = check(scratch, base.key, log, anchor)
        counts[kind] += 1
        if result["ok"]:
            missed.append((base.name, kind))
        assert not result["ok"], f"{kind} on {base.name} not caught"
        assert result["reason"]

    run()
    print(f"\n{'hmac' if keyed else 'plain'}: {sum(counts.values())} tamperings, {len(missed)} missed: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    assert not missed
    assert sum(counts.values()) >= 500
    assert set(counts) == {k for b in mine for k in applicable(b)}  # every kind was tried


def test_every_deletion_swap_truncation_and_old_anchor_is_caught(bases, scratch):
    """The systematic companion: every position, not a sample."""
    tried = 0
    for base in bases:
        n, lines = len(base.lines), base.lines
        cases = []
        for i in range(n):  # first, middle and last alike
            cases.append(("delete", b"".join(lines[:i] + lines[i + 1:]), base.anchor))
            cases.append(("duplicate", b"".join(lines[:i + 1] + lines[i:]), base.anchor))
            for j in range(i + 1, n):
                swapped = list(lines)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                cases.append(("swap", b"".join(swapped), base.anchor))
        offset = 0
        for line in lines:  # at every line boundary, and inside every line (mid-line, just before "\n")
            for cut in (offset, offset + 1, offset + len(line) // 2, offset + len(line) - 1):
                cases.append(("truncate", base.log[:cut], base.anchor))
            offset += len(line)
        cases += [("old_anchor", base.log, a) for a in base.old_anchors]
        for kind, log, anchor in cases:
            result = check(scratch, base.key, log, anchor)
            assert not result["ok"], (base.name, kind)
            tried += 1
    print(f"\nsystematic: {tried} tamperings, 0 missed")
    assert tried > 300


def test_untouched_trails_verify(bases, tmp_path):
    for base in bases:
        result = check(tmp_path / base.name, base.key, base.log, base.anchor)
        assert result == {"log": str(tmp_path / base.name / "audit.jsonl"), "entries": len(base.lines), "ok": True,
                          "first_bad": None, "line": None, "reason": "ok"}, base.name


def test_verify_names_the_first_bad_entry(bases, tmp_path):
    base = next(b for b in bases if b.name == "nokey-9")
    lines = list(base.lines)
    e = json.loads(lines[4])
    e["rows"] = 10**6
    lines[4] = (canonical(e) + "\n").encode()
    r = check(tmp_path / "a", None, b"".join(lines), base.anchor)
    assert (r["ok"], r["first_bad"], r["line"], r["entries"]) == (False, 5, 5, 9)
    assert "edited" in r["reason"]
    r = check(tmp_path / "b", None, b"".join(base.lines[:-1]), base.anchor)  # the last entry dropped
    assert (r["ok"], r["first_bad"], r["entries"]) == (False, 9, 8) and "dropped" in r["reason"]
    r = check(tmp_path / "c", None, base.log[:-40], base.anchor)  # cut mid-line
    assert (r["ok"], r["first_bad"], r["line"]) == (False, 9, 9) and "cut off" in r["reason"]


def test_a_keyed_trail_needs_its_key(bases, tmp_path):
    base = next(b for b in bases if b.name == "key-5")
    assert check(tmp_path / "a", KEY, base.log, base.anchor)["ok"]
    r = check(tmp_path / "b", None, base.log, base.anchor)
    assert not r["ok"] and "key" in r["reason"]
    assert not check(tmp_path / "c", b"another-key-0123456789abcdef", base.log, base.anchor)["ok"]
    plain = next(b for b in bases if b.name == "nokey-5")
    assert not check(tmp_path / "d", KEY, plain.log, plain.anchor)["ok"]  # a plain trail passed off as keyed


def test_the_format_is_what_the_docstring_says(tmp_path):
    """An outside auditor can recompute an unkeyed chain with hashlib and json alone."""
    trail = AuditTrail(tmp_path / "a.jsonl")
    entries = fill(trail, 6)
    lines = trail.log.read_text(encoding="utf-8").splitlines()
    prev = GENESIS
    for seq, (line, entry) in enumerate(zip(lines, entries), start=1):
        parsed = json.loads(line)
        assert parsed == entry and line == canonical(parsed)
        assert parsed["seq"] == seq and parsed["prev"] == prev and parsed["hash"] == plain_hash(parsed)
        assert dt.datetime.fromisoformat(parsed["ts"]).utcoffset() == dt.timedelta(0)
        prev = parsed["hash"]
    anchor = json.loads(trail.anchor.read_text())
    assert (anchor["head"], anchor["entries"], anchor["base_seq"], anchor["base_hash"]) == (prev, 6, 0, GENESIS)
    assert trail.anchor == tmp_path / "a.jsonl.anchor"
    assert entries[1]["file_sha256"] and entries[2]["change"]["old"] == "A" and entries[0]["rows"] == 0
    assert "file" not in entries[0]  # fields not given are left out


def test_anchor_can_live_elsewhere(tmp_path):
    trail = AuditTrail(tmp_path / "logs" / "audit.jsonl", anchor=tmp_path / "vault" / "head.json", key=KEY)
    fill(trail, 3)
    assert (tmp_path / "vault" / "head.json").is_file() and not (tmp_path / "logs" / "audit.jsonl.anchor").exists()
    assert trail.verify()["ok"]
    assert not AuditTrail(tmp_path / "logs" / "audit.jsonl", key=KEY).verify()["ok"]  # anchor not found


def test_record_refuses_to_extend_a_tampered_tail(tmp_path):
    """A dropped last entry must not be 'healed' by the next record."""
    trail = AuditTrail(tmp_path / "a.jsonl")
    fill(trail, 4)
    lines = trail.log.read_bytes().splitlines(keepends=True)
    trail.log.write_bytes(b"".join(lines[:-1]))
    with pytest.raises(AuditError, match=r"could not record 'read' by 'eve'.*anchor"):
        trail.record("eve", "read", table="orders")
    assert trail.log.read_bytes() == b"".join(lines[:-1])
    assert not trail.verify()["ok"]
    trail.log.write_bytes(b"".join(lines) + b'{"seq": 5')  # a torn last line
    with pytest.raises(AuditError, match="partial line"):
        trail.record("eve", "read")
    trail.anchor.unlink()
    trail.log.write_bytes(b"".join(lines))
    with pytest.raises(AuditError, match="anchor .* is missing"):
        trail.record("eve", "read")


def test_an_empty_trail(tmp_path):
    trail = AuditTrail(tmp_path / "none" / "a.jsonl")
    assert trail.verify() == {"log": str(trail.log), "entries": 0, "ok": True, "first_bad": None, "line": None,
                              "reason": "empty trail"}
    e = trail.record("u", "login")
    assert (e["seq"], e["prev"]) == (1, GENESIS) and trail.verify()["ok"]


# ---- several writers at once ------------------------------------------------------------------
def test_concurrent_writers_keep_a_valid_chain(tmp_path):
    """Several processes (spawned, like stage kernels and the CLI) append at once."""
    log, procs, n, key = tmp_path / "audit.jsonl", 4, 60, KEY
    write = partial(AuditTrail(log, key=key).record, table="orders", rows=1)  # pickled into each process
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool:
        done = pool.starmap(write, [(f"user{i % 7}", f"query-{i}") for i in range(n)], chunksize=3)
    AuditTrail(log, key=key).record("parent", "run")
    result = AuditTrail(log, key=key).verify()
    assert result["ok"], result
    assert result["entries"] == n + 1
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, n + 2))
    assert Counter(e["action"] for e in entries[:-1]) == Counter(f"query-{i}" for i in range(n))  # none lost or doubled
    assert sorted(e["seq"] for e in done) == list(range(1, n + 1))


# ---- failed writes fail the action ------------------------------------------------------------
def _one_line(err: AuditError, log) -> str:
    text = str(err)
    assert "\n" not in text and text.startswith(f"audit log {log}: could not record")
    return text


def test_a_log_that_cannot_be_written_raises(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    trail = AuditTrail(blocker / "audit.jsonl")
    with pytest.raises(AuditError) as err:
        trail.record("u", "export", table="customers")
    _one_line(err.value, trail.log)
    assert isinstance(err.value, SalesLabError)
    proc = AuditTrail(Path("/proc/saleslab-audit-test/audit.jsonl"))  # read-only even for root
    with pytest.raises(AuditError) as err:
        proc.record("u", "read")
    _one_line(err.value, proc.log)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders (the /proc case covers it)")
def test_a_read_only_folder_raises(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    trail = AuditTrail(folder / "audit.jsonl")
    trail.record("u", "read")
    folder.chmod(0o500)
    try:
        with pytest.raises(AuditError):
            trail.record("u", "read")
    finally:
        folder.chmod(0o700)


def test_an_anchor_that_cannot_be_written_undoes_the_append(tmp_path):
    trail = AuditTrail(tmp_path / "audit.jsonl", anchor=Path("/proc/saleslab-audit-test.anchor"))
    with pytest.raises(AuditError) as err:
        trail.record("u", "export", table="orders", rows=3)
    _one_line(err.value, trail.log)
    assert trail.log.read_bytes() == b""  # no entry without its anchor


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from saleslab.audit import AuditError, AuditTrail
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit then fail with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    AuditTrail(Path(sys.argv[1])).record("u", "export", table="orders", note="x" * 4000)
except AuditError as e:
    print(e)
    sys.exit(9)
"""


def test_a_full_disk_raises_and_leaves_nothing_half_written(tmp_path):
    """The file size limited (as a full disk would) so that only part of the entry fits."""
    trail = AuditTrail(tmp_path / "audit.jsonl")
    fill(trail, 8)
    before_log, before_anchor = trail.log.read_bytes(), trail.anchor.read_bytes()
    limit = len(before_log) + 500
    run = subprocess.run([sys.executable, "-c", FULL_DISK, str(trail.log), str(limit)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 9, run.stderr
    message = run.stdout.strip()
    assert message.startswith(f"audit log {trail.log}: could not record 'export' by 'u'") and "\n" not in message
    assert "large" in message  # EFBIG: "File too large"
    assert trail.log.read_bytes() == before_log and trail.anchor.read_bytes() == before_anchor
    e = trail.record("u", "read")
    assert e["seq"] == 9 and trail.verify()["ok"]


def test_a_busy_lock_raises(tmp_path):
    trail = AuditTrail(tmp_path / "audit.jsonl", lock_wait=0.1)
    trail.record("u", "read")
    size = trail.log.stat().st_size
    with open(trail.lock_path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        t0 = time.monotonic()
        with pytest.raises(AuditError, match="lock .* busy"):
            trail.record("u", "read")
        assert time.monotonic() - t0 < 2
    assert trail.log.stat().st_size == size
    trail.record("u", "read")
    assert trail.verify()["ok"]


def test_bad_arguments_are_refused(tmp_path):
    trail = AuditTrail(tmp_path / "a.jsonl")
    for kwargs in ({"seq": 3}, {"hash": "x"}, {"rows": -1}, {"rows": 1.5}, {"rows": True},
                   {"file_sha256": "abc"}):
        with pytest.raises(InvalidArgument):
            trail.record("u", "read", **kwargs)
    for user, action in (("", "read"), ("u", ""), (None, "read")):
        with pytest.raises(InvalidArgument):
            trail.record(user, action)
    with pytest.raises(InvalidArgument, match="16"):
        AuditTrail(tmp_path / "b.jsonl", key=b"short")
    assert not trail.log.exists()


# ---- retention ------------------------------------------------------------------------------
def test_retention_below_six_months_is_refused(tmp_path):
    for days in (0, 90, 179):
        with pytest.raises(ParameterError, match=r"retention_days: .* minimum of 180"):
            AuditTrail(tmp_path / "a.jsonl", retention_days=days)
    for days in ("365", 200.0, True):
        with pytest.raises(ParameterError, match="retention_days"):
            AuditTrail(tmp_path / "a.jsonl", retention_days=days)
    assert AuditTrail(tmp_path / "a.jsonl", retention_days=180).retention_days == 180
    assert AuditTrail(tmp_path / "a.jsonl").retention_days == 1095


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "hmac"])
def test_prune_keeps_the_retention_and_the_chain(tmp_path, key):
    trail = AuditTrail(tmp_path / "audit.jsonl", key=key, retention_days=200)
    entries = []
    for i in range(8):
        entries += fill(trail, 1, start=i)
        time.sleep(0.002)
    ts = [dt.datetime.fromisoformat(e["ts"]) for e in entries]
    now = ts[5] + dt.timedelta(days=200)  # cut-off: the 6th entry's time
    assert trail.prune(now=now) == 5
    kept = [json.loads(x) for x in trail.log.read_text().splitlines()]
    assert [e["seq"] for e in kept] == [6, 7, 8]
    assert kept == entries[5:]  # kept entries unchanged
    assert all(dt.datetime.fromisoformat(e["ts"]) >= now - dt.timedelta(days=200) for e in kept)
    assert all(t < now - dt.timedelta(days=200) for t in ts[:5])
    anchor = json.loads(trail.anchor.read_text())
    assert (anchor["base_seq"], anchor["base_hash"], anchor["entries"]) == (5, entries[4]["hash"], 3)
    assert trail.verify() == {"log": str(trail.log), "entries": 3, "ok": True, "first_bad": None, "line": None,
                              "reason": "ok"}
    assert trail.prune(now=now) == 0
    e = trail.record("u", "read")
    assert e["seq"] == 9 and e["prev"] == entries[-1]["hash"] and trail.verify()["ok"]
    # tampering after pruning is caught: the first kept entry deleted, or the dropped ones put back
    good = trail.log.read_bytes()
    lines = good.splitlines(keepends=True)
    trail.log.write_bytes(b"".join(lines[1:]))
    assert not trail.verify()["ok"]
    trail.log.write_bytes(b"".join((canonical(x) + "\n").encode() for x in entries[:5]) + good)
    assert not trail.verify()["ok"]
    trail.log.write_bytes(good)
    assert trail.verify()["ok"]
    # a prune naive 'now' is UTC; dropping everything leaves an empty, verifiable trail that goes on
    assert trail.prune(now=(ts[-1] + dt.timedelta(days=400)).replace(tzinfo=None)) == 4
    assert trail.log.read_bytes() == b"" and trail.verify()["ok"]
    assert trail.record("u", "read")["seq"] == 10 and trail.verify()["ok"]


def test_prune_refuses_a_tampered_trail(tmp_path):
    trail = AuditTrail(tmp_path / "audit.jsonl", retention_days=180)
    fill(trail, 5)
    lines = trail.log.read_bytes().splitlines(keepends=True)
    tampered = lines[0] + lines[2] + lines[1] + b"".join(lines[3:])
    trail.log.write_bytes(tampered)
    far = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=999)
    with pytest.raises(AuditError, match="could not prune: the trail does not verify"):
        trail.prune(now=far)
    assert trail.log.read_bytes() == tampered  # the evidence is not pruned away


def test_an_interrupted_prune_leaves_a_verifiable_trail(tmp_path):
    """Prune writes the anchor with both states first, then the log, then the final anchor: a crash
    between any two steps leaves a trail that verifies and takes new entries."""
    from saleslab.audit import _State  # white box: the crash points are inside prune

    trail = AuditTrail(tmp_path / "audit.jsonl", retention_days=180)
    entries = fill(trail, 6)
    a = json.loads(trail.anchor.read_text())
    old = _State(0, GENESIS, 6, entries[-1]["hash"])
    new = _State(2, entries[1]["hash"], 4, entries[-1]["hash"])
    lines = trail.log.read_bytes().splitlines(keepends=True)
    trail._write_anchor(old, a["salt"], prune_to=new)  # crash before the log was rewritten
    assert trail.verify()["ok"]
    trail.log.write_bytes(b"".join(lines[2:]))  # crash after the log was rewritten
    assert trail.verify()["ok"] and trail.verify()["entries"] == 4
    trail.log.write_bytes(b"".join(lines[3:]))  # but not one entry fewer
    assert not trail.verify()["ok"]
    trail.log.write_bytes(b"".join(lines[2:]))
    e = trail.record("u", "read")
    assert e["seq"] == 7 and trail.verify()["ok"]
    assert "prune_to" not in json.loads(trail.anchor.read_text())  # settled by the next record


# ---- personal data ----------------------------------------------------------------------------
@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "hmac"])
def test_no_raw_pii_in_the_log(tmp_path, key):
    trail = AuditTrail(tmp_path / "audit.jsonl", key=key)
    phone, name, email, tax, contact = "13812345678", "王小明", "wang.xm@example.cn", "91310000MA1FL0XX8Q", "李 四"
    e1 = trail.record("rep1", "read", table="customers", rows=1,
                      filter={"phone": phone, "name": [name, "张伟"], "region": "EC", "customers.email": email})
    e2 = trail.record("rep1", "export", table="contacts",
                      filter=[{"column": "phone", "op": "=", "value": phone}, {"column": "region", "value": "EC"}])
    e3 = trail.record("admin", "change", table="customers",
                      change={"column": "tax_id", "old": tax, "new": None, "customer_id": "C1"},
                      contact_name=contact, filter={"Phone": phone})
    text = trail.log.read_text(encoding="utf-8") + trail.anchor.read_text(encoding="utf-8")
    for raw in (phone, name, "张伟", email, tax, contact, "12345678", "wang.xm"):
        assert raw not in text
    h = trail.redact(phone)
    assert e1["filter"]["phone"] == h == e2["filter"][0]["value"] == e3["filter"]["Phone"]  # linkable
    assert e1["filter"]["name"] == [trail.redact(name), trail.redact("张伟")]
    assert e1["filter"]["region"] == "EC" and e2["filter"][1] == {"column": "region", "value": "EC"}
    assert e2["filter"][0]["op"] == "=" and e3["change"]["customer_id"] == "C1" and e3["change"]["new"] is None
    assert e3["change"]["old"] == trail.redact(tax) and e3["contact_name"] == trail.redact(contact)
    assert h.startswith("hmac:") and h != redact(phone)  # never the unkeyed hash anyone could recompute
    assert trail.verify()["ok"]
    assert {"phone", "email", "tax_id", "name", "contact_name"} <= PII_COLUMNS


def test_redact():
    assert redact("13812345678", KEY) == redact(" 13812345678 ", KEY)  # trimmed
    assert redact("ＡＢＣ", KEY) == redact("ABC", KEY)  # full-width = half-width (NFKC)
    assert redact("13812345678", KEY) != redact("13812345679", KEY)
    assert redact("13812345678", KEY) != redact("13812345678", b"another-key-0123456789")
    assert redact("x", KEY).startswith("hmac:") and redact("x").startswith("sha256:")
    assert "13812345678" not in redact("13812345678") and len(redact("13812345678", KEY)) == 5 + 24
