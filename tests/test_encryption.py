"""Encryption at rest (issue 12, item 6) and the column allowlist at ingestion (item 4).

An encrypted ingest of the small demo gives the same tables as a plain one; no known name, phone
or e-mail of the demo's CRM exports appears in any file of the encrypted warehouse (versions,
parts, quarantine) or of the temp folders; reading without the key fails with one line; rotation
leaves the data readable with the new key only, and a crash in the middle leaves every file
readable by one of the two keys; a stage reads the encrypted warehouse and writes encrypted stage
tables; an unexpected ID-card column is dropped, reported and never stored.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from saleslab import crypto, schema
from saleslab.engine import EXTRA_TABLES, connect
from saleslab.ingest import store
from saleslab.ingest.load import ID_CARD_MARK, ingest

from conftest import SOURCES, spark_ready


# ---- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    return crypto.new_key_file(tmp_path_factory.mktemp("keys") / "warehouse.key")


@pytest.fixture(scope="module")
def ring(key_file) -> crypto.KeyRing:
    return crypto.KeyRing.from_file(key_file)


@pytest.fixture(scope="module")
def enc_warehouse(demo_dir, key_file, tmp_path_factory) -> Path:
    """The small demo ingested with a key (the key file path, as `saleslab ingest` passes it)."""
    wh = tmp_path_factory.mktemp("encwh") / "warehouse"
    ingest(demo_dir / "exports", SOURCES, wh, keyring=key_file)
    return wh


def _needles(demo_dir: Path) -> set[bytes]:
    """Names, phones and e-mails of the demo's CRM exports (contacts and customers)."""
    out: set[bytes] = set()
    for name, cols in (("contacts.csv", ("姓名", "手机", "邮箱")), ("customers.csv", ("客户名称", "电话", "邮箱"))):
        with open(demo_dir / "exports" / "crm" / name, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                out |= {row[c].strip().encode() for c in cols if row.get(c) and len(row[c].strip().encode()) >= 4}
    return out


def _hits(folders, needles: set[bytes]) -> dict[str, int]:
    """{file: how many of ``needles`` its bytes contain} for every file under ``folders`` (a 4-byte
    prefix filter in numpy, then exact comparison: byte-by-byte search of thousands of needles is slow)."""
    import numpy as np

    by_prefix: dict[int, list[bytes]] = {}
    for x in needles:
        assert len(x) >= 4
        by_prefix.setdefault(int.from_bytes(x[:4], "little"), []).append(x)
    prefixes = np.fromiter(by_prefix, dtype=np.uint32)
    found, seen = {}, set()
    for folder in folders:
        for root, _, files in os.walk(folder):
            for f in files:
                p = Path(root) / f
                if p.is_symlink() or not p.is_file() or p.stat().st_ino in seen:
                    continue
                seen.add(p.stat().st_ino)
                data = p.read_bytes()
                if len(data) < 4:
                    continue
                a = np.frombuffer(data, dtype=np.uint8).astype(np.uint32)
                w = a[:-3] | (a[1:-2] << 8) | (a[2:-1] << 16) | (a[3:] << 24)
                hit = {x for i in np.flatnonzero(np.isin(w, prefixes))
                       for x in by_prefix[int(w[i])] if data.startswith(x, int(i))}
                if hit:
                    found[str(p)] = len(hit)
    return found


def _frame(eng, name: str) -> pd.DataFrame:
    df = eng.execute(eng.table(name))
    df = df.drop(columns=[c for c in ("cache_key", "seconds") if c in df.columns])
    return df.sort_values(list(df.columns)).reset_index(drop=True) if len(df) else df


# ---- the warehouse --------------------------------------------------------------------------------
def test_encrypted_ingest_gives_the_same_tables_as_a_plain_one(demo_warehouse, enc_warehouse, ring, tmp_path):
    cfg = {"memory_limit": "1GB", "threads": 2}
    with connect(demo_warehouse, "duckdb", {**cfg, "temp_directory": str(tmp_path / "a")}) as plain, \
            connect(enc_warehouse, "duckdb", {**cfg, "temp_directory": str(tmp_path / "b")}, keyring=ring) as enc:
        for name in [*schema.TABLES, *EXTRA_TABLES]:
            a, b = plain.table(name), enc.table(name)
            assert a.schema() == b.schema(), name
            pd.testing.assert_frame_equal(_frame(plain, name), _frame(enc, name), obj=name)
        assert enc.rows("order_lines") > 40_000
        assert enc.accounting()["files"]  # the JSON accounting (counts, no row values) stays readable


def test_every_parquet_file_of_the_encrypted_warehouse_is_encrypted(enc_warehouse):
    version = store.current(enc_warehouse)
    files = list(version.rglob("*.parquet"))
    assert len(files) > 50 and (version / "_parts").is_dir()
    assert [f for f in files if not crypto.is_encrypted(f)] == []
    assert crypto.is_encrypted(version / "_quarantine" / "clean.parquet")
    assert crypto.is_encrypted(version / "_ingest" / "accounting.parquet")


def test_no_plaintext_name_phone_or_email_anywhere_under_the_encrypted_warehouse(demo_dir, demo_warehouse,
                                                                                 enc_warehouse, ring, tmp_path):
    needles = _needles(demo_dir)
    assert len(needles) > 1000
    # the check can fail: the plaintext warehouse shows them (fewer than stored: pages are compressed)
    assert sum(_hits([store.versions_dir(demo_warehouse)], needles).values()) > 50
    temp = tmp_path / "duck"
    with connect(enc_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(temp)}, keyring=ring) as eng:
        c = eng.table("customers")
        assert int(eng.execute(c.filter(c.phone.notnull()).count())) > 100  # read and decrypted
    roots = [store.versions_dir(enc_warehouse), enc_warehouse.parent, temp]
    assert _hits(roots, needles) == {}


def test_reading_without_the_key_fails_with_one_clear_line(enc_warehouse, tmp_path):
    cfg = {"memory_limit": "1GB", "temp_directory": str(tmp_path)}
    with connect(enc_warehouse, "duckdb", cfg) as eng:
        with pytest.raises(crypto.EncryptionKeyError) as e:
            eng.table("customers")
    msg = str(e.value)
    assert "\n" not in msg and "encrypted" in msg and "no key" in msg and "customers" in msg
    other = crypto.KeyRing.from_keys(os.urandom(32))
    with connect(enc_warehouse, "duckdb", cfg, keyring=other) as eng:
        with pytest.raises(crypto.EncryptionKeyError) as e:
            eng.execute(eng.table("orders").count())
    assert "\n" not in str(e.value) and other.write_key in str(e.value)


def test_the_key_comes_from_a_file_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(crypto.ENV_KEY_FILE, raising=False)
    monkeypatch.delenv(crypto.ENV_KEY, raising=False)
    assert crypto.keyring_from(None) is None  # no key: everything stays plaintext
    kf = crypto.new_key_file(tmp_path / "k" / "a.key")
    assert stat.S_IMODE(kf.stat().st_mode) == 0o600
    with pytest.raises(crypto.EncryptionKeyError, match="already exists"):
        crypto.new_key_file(kf)
    key = crypto.read_key_file(kf)
    assert len(key) == 32
    monkeypatch.setenv(crypto.ENV_KEY_FILE, str(kf))
    assert crypto.keyring_from(None).write_key == crypto.key_id(key)
    monkeypatch.delenv(crypto.ENV_KEY_FILE)
    monkeypatch.setenv(crypto.ENV_KEY, base64.b64encode(key).decode())
    assert crypto.keyring_from(None).write_key == crypto.key_id(key)
    monkeypatch.setenv(crypto.ENV_KEY, base64.b64encode(key[:16]).decode())
    with pytest.raises(crypto.EncryptionKeyError, match="128 bits; a 256-bit key"):
        crypto.keyring_from(None)
    os.chmod(kf, 0o644)
    with pytest.raises(crypto.EncryptionKeyError, match="readable by others"):
        crypto.read_key_file(kf)


def test_parquet_is_aes_gcm_with_256_bit_keys_and_envelopes_detect_tampering(ring, tmp_path):
    t = pa.table({"name": ["闫丽杰", "陈英"], "phone": ["13406898222", "19248654985"]})
    crypto.write_table(t, tmp_path / "t.parquet", ring)
    assert b"13406898222" not in (tmp_path / "t.parquet").read_bytes()
    meta = crypto.parquet_file(tmp_path / "t.parquet", ring).metadata
    assert meta.num_rows == 2
    assert crypto.read_table(tmp_path / "t.parquet", ring).equals(t)
    cfg = ring.encryption_config()
    assert (cfg.encryption_algorithm, cfg.data_key_length_bits, cfg.uniform_encryption, cfg.plaintext_footer) == \
        ("AES_GCM_V1", 256, True, False)
    (tmp_path / "notes.json").write_text('{"who": "陈英"}', encoding="utf-8")
    crypto.encrypt_file(tmp_path / "notes.json", tmp_path / "notes.enc", ring)
    blob = (tmp_path / "notes.enc").read_bytes()
    assert "陈英".encode() not in blob
    assert crypto.decrypt_bytes(blob, ring) == '{"who": "陈英"}'.encode()
    bad = bytearray(blob)
    bad[-3] ^= 1
    with pytest.raises(crypto.EncryptionKeyError, match="altered"):
        crypto.decrypt_bytes(bytes(bad), ring)


def test_a_kms_client_plugs_in(tmp_path):
    """A key service is a pyarrow KmsClient named by import path: here one that keeps its own keys."""
    ring = crypto.KeyRing("svc-key-1", kms_client="test_encryption:FakeService", kms_instance_id="svc")
    crypto.write_table(pa.table({"x": [1, 2, 3]}), tmp_path / "s.parquet", ring)
    assert crypto.is_encrypted(tmp_path / "s.parquet")
    assert crypto.read_table(tmp_path / "s.parquet", ring).column("x").to_pylist() == [1, 2, 3]
    assert FakeService.calls["wrap"] >= 1 and FakeService.calls["unwrap"] >= 1


class FakeService(crypto.pe.KmsClient):
    keys = {"svc-key-1": b"\x01" * 32}
    calls = {"wrap": 0, "unwrap": 0}

    def __init__(self, config):
        super().__init__()
        assert config.kms_instance_id == "svc"

    def wrap_key(self, key_bytes, master_key_identifier):
        FakeService.calls["wrap"] += 1
        return crypto.wrap_locally(bytes(key_bytes), self.keys[master_key_identifier], master_key_identifier)

    def unwrap_key(self, wrapped_key, master_key_identifier):
        FakeService.calls["unwrap"] += 1
        return crypto.unwrap_locally(wrapped_key, self.keys[master_key_identifier], master_key_identifier)


def test_incremental_ingest_reuses_encrypted_parts_and_never_mixes_keys(demo_dir, ring, tmp_path):
    inp = tmp_path / "in"
    shutil.copytree(demo_dir / "exports" / "crm", inp / "crm")
    wh = tmp_path / "wh"
    ingest(inp, SOURCES, wh)  # plaintext first
    assert not crypto.is_encrypted(next((store.current(wh) / "_parts" / "customers").glob("crm_*.parquet")))
    rep = ingest(inp, SOURCES, wh, keyring=ring)  # now with a key: nothing plaintext is reused
    assert rep.totals()["files_reused"] == 0
    assert all(crypto.is_encrypted(f) for f in store.current(wh).rglob("*.parquet"))
    rep = ingest(inp, SOURCES, wh, keyring=ring)  # same key, same files: the encrypted parts are reused
    assert rep.totals()["files_reused"] == rep.totals()["files"] > 0
    with connect(wh, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "d")}, keyring=ring) as e:
        assert e.rows("customers") > 100 and e.rows("contacts") > 100
    with pytest.raises(crypto.EncryptionKeyError):  # a warehouse under a key is not re-published without it
        ingest(inp, SOURCES, wh, safeguards=store.Safeguards())


def test_scan_threads_never_call_the_kms_client(tmp_path):
    """Regression: files written by several processes carry several key-encryption keys; DuckDB scanning
    the decrypting dataset holds the GIL, so an Arrow thread calling the Python KMS client deadlocked (the
    medium demo's ingest hung). Every unwrap must happen in the thread that opens the table."""
    import threading

    import ibis

    from saleslab.engine import read_parquet_files

    key = os.urandom(32)
    for i in range(4):  # four writers: four key-encryption keys
        crypto.write_table(pa.table({"x": list(range(i * 100_000, (i + 1) * 100_000))}), tmp_path / f"p{i}.parquet",
                           crypto.KeyRing.from_keys(key))
    ring = crypto.KeyRing.from_keys(key)
    threads: list[int] = []

    class Recording(crypto.LocalKmsClient):
        def unwrap_key(self, wrapped_key, master_key_identifier):
            threads.append(threading.get_ident())
            return super().unwrap_key(wrapped_key, master_key_identifier)

    ring._client = lambda config: Recording(ring.keys)
    con = ibis.duckdb.connect(threads=2)
    t = read_parquet_files(con, tmp_path / "*.parquet", "t", ring)
    assert int(con.execute(t.x.sum())) == sum(range(400_000))
    assert len(threads) == 4 and set(threads) == {threading.get_ident()}
    con.disconnect()


# ---- rotation -------------------------------------------------------------------------------------
def _copy_warehouse(wh: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    shutil.copytree(store.versions_dir(wh), store.versions_dir(dst / wh.name), symlinks=True)
    os.symlink(os.readlink(wh), dst / wh.name)
    return dst / wh.name


def test_rotation_keeps_the_data_readable_with_the_new_key_and_not_the_old(enc_warehouse, key_file, tmp_path):
    from saleslab.cli import main

    wh = _copy_warehouse(enc_warehouse, tmp_path / "w")
    kf = tmp_path / "keys" / "k.key"
    kf.parent.mkdir()
    shutil.copy2(key_file, kf)
    old = crypto.KeyRing.from_file(kf)
    # a stage table of a run under the same key is rotated too
    (tmp_path / "reports" / "r1" / "data" / "s").mkdir(parents=True)
    crypto.write_table(pa.table({"x": [1]}), tmp_path / "reports" / "r1" / "data" / "s" / "t.parquet", old)
    params = tmp_path / "p.yaml"
    params.write_text(f"input_dir: {tmp_path}\nwarehouse_dir: {wh}\nreports_dir: {tmp_path / 'reports'}\n"
                      f"sources_dir: {SOURCES}\nperiod: {{start: 2024-01-01, end: 2024-12-31}}\n"
                      f"encryption: {{key_file: {kf}}}\n", encoding="utf-8")
    assert main(["keys", "rotate", "--params", str(params)]) == 0
    new = crypto.KeyRing.from_file(kf)
    assert new.write_key != old.write_key and (tmp_path / "keys" / "k.key.old").is_file()
    assert stat.S_IMODE(kf.stat().st_mode) == 0o600
    cfg = {"memory_limit": "1GB", "temp_directory": str(tmp_path / "d")}
    with connect(enc_warehouse, "duckdb", cfg, keyring=old) as a, connect(wh, "duckdb", cfg, keyring=new) as b:
        for name in ("orders", "customers", "_quarantine"):
            pd.testing.assert_frame_equal(_frame(a, name), _frame(b, name))
    with connect(wh, "duckdb", cfg, keyring=old) as c:
        with pytest.raises(crypto.EncryptionKeyError):
            c.table("customers")
    assert crypto.read_table(tmp_path / "reports" / "r1" / "data" / "s" / "t.parquet", new).num_rows == 1
    assert main(["keys", "new", "--params", str(params)]) == 1  # never overwrites a key


def test_a_crash_mid_rotation_leaves_every_file_readable_by_one_key_and_a_rerun_finishes(
        enc_warehouse, key_file, tmp_path, monkeypatch):
    wh = _copy_warehouse(enc_warehouse, tmp_path / "w")
    kf = tmp_path / "k.key"
    shutil.copy2(key_file, kf)
    old = crypto.KeyRing.from_file(kf)
    folders = [store.versions_dir(wh)]
    n_files = len(list(crypto.encrypted_files(*folders)))
    real = os.replace
    calls = {"n": 0}

    def crashing(a, b):
        calls["n"] += 1
        if calls["n"] == 7:
            raise OSError("simulated crash")
        return real(a, b)

    monkeypatch.setattr(crypto.os, "replace", crashing)
    with pytest.raises(OSError, match="simulated crash"):
        crypto.rotate_key_file(kf, folders)
    monkeypatch.setattr(crypto.os, "replace", real)
    new = crypto.KeyRing.from_file(kf.with_name("k.key.new"))
    both = old.with_keys(new)
    owners = [crypto._file_key_id(p, both) for p in crypto.encrypted_files(*folders)]
    assert None not in owners and len(owners) == n_files
    assert 0 < owners.count(new.write_key) < n_files  # some done, some not
    res = crypto.rotate_key_file(kf, folders)
    assert res["already_new"] == owners.count(new.write_key) and res["key_id"] == new.write_key
    assert {crypto._file_key_id(p, both) for p in crypto.encrypted_files(*folders)} == {new.write_key}


# ---- a stage on the encrypted warehouse ---------------------------------------------------------------
def test_a_stage_reads_the_encrypted_warehouse_and_writes_encrypted_stage_tables(enc_warehouse, key_file, ring,
                                                                                 demo_dir, tmp_path):
    from saleslab.pipeline import execute_stage

    stage = "00_data_quality"
    params = {"run_dir": str(tmp_path), "warehouse": str(store.current(enc_warehouse)), "language": "en",
              "period_start": "2023-01-01", "period_end": "2025-12-31", "as_of": "2025-12-31",
              "engine": "duckdb", "duckdb_memory_limit": "1GB", "duckdb_temp_directory": str(tmp_path / "duck"),
              "encryption_key_file": str(key_file)}
    execute_stage(stage, params, tmp_path)
    tables = list((tmp_path / "data" / stage).glob("*.parquet"))
    assert tables and all(crypto.is_encrypted(t) for t in tables)
    assert all(crypto.read_table(t, ring).num_rows > 0 for t in tables)
    with pytest.raises(crypto.EncryptionKeyError):
        crypto.read_table(tables[0])
    # a later stage reads them back through the engine
    with connect(enc_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "d")},
                 run_dir=tmp_path, keyring=ring) as eng:
        assert eng.stage_result(stage, tables[0].stem) is not None
    # no name, phone or e-mail in the stage's Parquet or its DuckDB temp folder (the CSV / Excel copies
    # beside the Parquet are the report's export decision, not checked here)
    hits = _hits([tmp_path / "data", tmp_path / "duck"], _needles(demo_dir))
    assert [p for p in hits if not p.endswith((".csv", ".xlsx"))] == []


def test_save_table_and_stage_result_round_trip_encrypted(enc_warehouse, ring, tmp_path):
    from saleslab.stage import Stage

    st = Stage("99_x", tmp_path, enc_warehouse, engine_options={"keyring": ring},
               duckdb_config={"memory_limit": "1GB", "temp_directory": str(tmp_path / "d")})
    df = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["闫丽杰", None], "revenue": [1.5, 2.25],
                       "month": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    st.save_table("top", df)
    p = tmp_path / "data" / "99_x" / "top.parquet"
    assert crypto.is_encrypted(p) and "闫丽杰".encode() not in p.read_bytes()
    pd.testing.assert_frame_equal(st.engine.stage_result("99_x", "top"), df)
    st.close()


# ---- the allowlist at ingestion ---------------------------------------------------------------------
IDS = ["110101199003074514", "44030419851231002X", "320102197712120033"]


def test_an_unexpected_id_card_column_is_dropped_reported_and_never_stored(demo_dir, tmp_path):
    src = demo_dir / "exports" / "crm"
    inp = tmp_path / "in" / "crm"
    inp.mkdir(parents=True)
    for f in ("reps.csv", "contacts.csv"):
        shutil.copy2(src / f, inp / f)
    with open(src / "customers.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0] + ["身份证号"]
    body = [r + [IDS[i % 3]] for i, r in enumerate(rows[1:40])]
    body[1][header.index("创建日期")] = "2024-13-45"  # a quarantined row: its raw values are kept
    body[2][header.index("客户编号")] = ""  # missing required
    lines = [",".join(header)] + [",".join(r) for r in body]
    lines.insert(5, lines[4] + ",extra")  # a line with one field too many: cannot be matched to the header
    (inp / "customers.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    # a file rejected as a whole (a mapped column missing) keeps its lines in quarantine: without the ids
    bad = [[c for c in header if c != "客户名称"]] + [[v for c, v in zip(header, r) if c != "客户名称"] for r in body[:5]]
    (tmp_path / "in" / "crm" / "leads.csv").write_text(  # claimed by the leads mapping: missing its columns
        "\n".join(",".join(r) for r in bad) + "\n", encoding="utf-8")
    wh = tmp_path / "wh"
    said: list[str] = []
    rep = ingest(tmp_path / "in", SOURCES, wh, progress=said.append)  # plaintext: the bytes can be searched
    acc = {a.file: a for a in rep.files}
    assert "身份证号" in acc["crm/customers.csv"].columns_dropped
    assert acc["crm/customers.csv"].rows_quarantined >= 3
    assert acc["crm/leads.csv"].status == "rejected" and "身份证号" in acc["crm/leads.csv"].columns_dropped
    assert any("身份证号" in s and "crm/customers.csv" in s for s in said)  # reported while ingesting
    account = json.loads((store.current(wh) / "_ingest" / "accounting.json").read_text(encoding="utf-8"))
    assert "身份证号" in next(f for f in account["files"] if f["file"] == "crm/customers.csv")["columns_dropped"]
    # never kept: not in any file of the warehouse, quarantine included
    needles = {i.encode() for i in IDS} | {i[:17].encode() for i in IDS}
    assert _hits([store.versions_dir(wh)], needles) == {}
    q = pd.read_parquet(store.current(wh) / "_quarantine")
    mine = q[q.file == "crm/customers.csv"]
    assert len(mine) >= 3 and not mine.raw.str.contains("身份证号").any()
    dated = mine[mine.reason == "unparseable_date"]
    assert len(dated) == 1 and json.loads(dated.raw.iloc[0])["创建日期"] == "2024-13-45"
    assert set(json.loads(dated.raw.iloc[0])) <= set(header) - {"身份证号"}
    assert mine[mine.reason == "field_count"].raw.str.startswith("[withheld").all()
    rejected = q[q.file == "crm/leads.csv"]
    assert len(rejected) == 6 and not rejected.raw.str.contains("|".join(IDS)).any()
    assert ID_CARD_MARK not in "".join(rejected.raw)  # the ids went with their column, not by pattern
    c = pd.read_parquet(store.current(wh) / "customers")
    assert "身份证号" not in c.columns and len(c) >= 35


def test_id_card_numbers_in_unmatched_raw_lines_are_scrubbed(tmp_path):
    """A rejected file whose header is unrecognisable keeps its lines, minus anything shaped like an ID number."""
    inp = tmp_path / "in" / "crm"
    inp.mkdir(parents=True)
    (inp / "reps.csv").write_text("乱码;x\n张三;110101199003074514;hello\n", encoding="utf-8")
    ingest(tmp_path / "in", SOURCES, tmp_path / "wh")
    q = pd.read_parquet(store.current(tmp_path / "wh") / "_quarantine")
    assert len(q) == 2 and "110101199003074514" not in "".join(q.raw) and ID_CARD_MARK in "".join(q.raw)


# ---- Spark ---------------------------------------------------------------------------------------
_SPARK_READ = """
import json, sys
from saleslab.crypto import KeyRing
from saleslab.engine import connect
eng = connect(sys.argv[1], "pyspark", keyring=KeyRing.from_file(sys.argv[2]))
o, c = eng.table("orders"), eng.table("customers")
print(json.dumps({"orders": int(eng.execute(o.count())), "amount": round(float(eng.execute(o.order_amount.sum())), 2),
                  "phones": int(eng.execute(c.phone.notnull().sum()))}))
"""


@pytest.mark.spark
@pytest.mark.skipif(not spark_ready(), reason="needs Java and pyspark")
@pytest.mark.skipif(shutil.which("javac") is None,
                    reason="Spark decrypts through a small Java KMS client compiled on first use: needs a JDK (javac)")
def test_spark_reads_the_encrypted_warehouse_with_the_same_keys(enc_warehouse, key_file, ring, tmp_path):
    """parquet-mr's PropertiesDrivenCryptoFactory with SalesLab's LocalWrapKmsClient reads pyarrow's files.
    In a fresh process: the KMS client must be on the class path of the JVM when it starts."""
    import subprocess
    import sys

    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_SUBMIT_ARGS": "pyspark-shell"}
    res = subprocess.run([sys.executable, "-c", _SPARK_READ, str(enc_warehouse), str(key_file)], env=env,
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    with connect(enc_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp_path / "d")},
                 keyring=ring) as eng:
        o, c = eng.table("orders"), eng.table("customers")
        want = {"orders": int(eng.execute(o.count())), "amount": round(float(eng.execute(o.order_amount.sum())), 2),
                "phones": int(eng.execute(c.phone.notnull().sum()))}
    assert got == want and got["orders"] > 10_000
