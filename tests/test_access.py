"""Governance: every read through the engine is limited to the user's rows, personal data is masked
for roles without the right, exports are a separate right, and a user the policy does not know
gets nothing. The expected rows are computed here in pandas from the unfiltered tables, by the
rules of domain.md §13, independently of the engine's Ibis expressions."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from saleslab import access, cli
from saleslab.engine import connect

ROOT = Path(__file__).resolve().parents[1]
TABLES = ["orders", "order_lines", "returns", "customers", "contacts", "customer_map", "invoices", "payments",
          "leads", "lead_stages", "followups", "reps", "distributors", "targets", "products", "inventory",
          "channel_costs", "_quarantine", "_accounting", "customer_review", "_merged", "campaigns", "web_traffic"]


def _policy(tmp: Path, extra_roles: dict | None = None, extra_users: dict | None = None) -> Path:
    doc = {
        "service_user": "svc",
        "pii_key_file": "keys/pii.key",
        "audit": {"log": "audit/audit.jsonl", "anchor": "anchor/anchor.json", "key_file": "keys/audit.key",
                  "retention_days": 365},
        "roles": {
            "management": {"scope": "all", "export": True, "pii": True},
            "service": {"scope": "all", "export": False, "pii": False},
            "supervisor": {"scope": "group", "export": True, "pii": False},
            "rep": {"scope": "own", "export": True, "pii": False, "hidden_columns": {"customers": ["address"]}},
            "viewer": {"scope": "all", "export": False, "pii": False},
            "locked": {"scope": "all", "read": False},
            **(extra_roles or {}),
        },
        "users": {
            "svc": {"role": "service"}, "boss": {"role": "management"}, "ro": {"role": "viewer"},
            "gone": {"role": "locked"},
            "sup_east": {"role": "supervisor", "regions": ["east"]},
            "sup_two": {"role": "supervisor", "regions": ["north", "south"]},
            "sup_team": {"role": "supervisor", "teams": ["华南一部"]},
            "sup_mix": {"role": "supervisor", "regions": ["central"], "teams": ["华东二部"]},
            "S001": {"role": "rep", "rep_id": "S001"}, "S008": {"role": "rep", "rep_id": "S008"},
            "S013": {"role": "rep", "rep_id": "S013"}, "S999": {"role": "rep", "rep_id": "S999"},
            **(extra_users or {}),
        },
    }
    path = tmp / "access.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def world(demo_warehouse, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("access")
    policy_path = _policy(tmp)
    plain = connect(demo_warehouse, "duckdb", {"memory_limit": "1GB", "temp_directory": str(tmp / "duck")})
    raw = {n: plain.execute(plain.table(n)) for n in TABLES}
    plain.close()
    return {"policy": policy_path, "raw": raw, "tmp": tmp, "warehouse": demo_warehouse}


# ---- the oracle: domain.md §13 in pandas -------------------------------------------------------
def expected_rows(raw: dict, ident: access.Identity) -> dict[str, pd.DataFrame]:
    if ident.scope == "all":
        return dict(raw)
    reps, cust, cmap, orders = raw["reps"], raw["customers"], raw["customer_map"], raw["orders"]
    canon = dict(zip(cmap.customer_id, cmap.canonical_id))

    def any_id(ids):  # canonical ids and every source id mapped to them (leads, invoices ... keep the exported id)
        return set(ids) | {s for s, c in canon.items() if c in ids}

    regions = set(ident.regions) if ident.scope == "group" else set()
    if ident.scope == "own":
        R = {ident.rep_id}
    else:
        R = set(reps.rep_id[reps.region.isin(regions) | reps.team.isin(set(ident.teams))])
    owned = {canon.get(c, c) for c in cust.customer_id[cust.owner_rep_id.isin(R) | cust.region.isin(regions)]}
    O = orders[orders.rep_id.isin(R) | orders.customer_id.isin(owned) | orders.region.isin(regions)]
    oid = set(O.order_id)
    C = set(O.customer_id.dropna()) | owned
    src = {s for s, c in canon.items() if c in C}
    D = set(O.distributor_id.dropna())
    if regions:
        D |= set(raw["distributors"].distributor_id[raw["distributors"].region.isin(regions)])
    inv = raw["invoices"]
    loose = inv.order_id.isna()
    inv = inv[inv.order_id.isin(oid) | (loose & inv.customer_id.isin(any_id(C)))
              | ((loose & inv.distributor_id.isin(D)) if regions else False)]
    pay = raw["payments"]
    leads = raw["leads"]
    leads = leads[leads.rep_id.isin(R) | leads.customer_id.isin(any_id(owned))]
    fu = raw["followups"]
    tg = raw["targets"]
    teams = set(reps.team[reps.rep_id.isin(R)]) | set(ident.teams) if ident.scope == "group" else set()
    out = {
        "orders": O,
        "order_lines": raw["order_lines"][raw["order_lines"].order_id.isin(oid)],
        "returns": raw["returns"][raw["returns"].order_id.isin(oid)],
        "customers": cust[cust.customer_id.isin(src)],
        "contacts": raw["contacts"][raw["contacts"].customer_id.isin(src)],
        "customer_map": cmap[cmap.canonical_id.isin(C)],
        "invoices": inv,
        "payments": pay[pay.invoice_id.isin(set(inv.invoice_id)) | (pay.invoice_id.isna() & pay.customer_id.isin(any_id(C)))],
        "leads": leads,
        "lead_stages": raw["lead_stages"][raw["lead_stages"].lead_id.isin(set(leads.lead_id))],
        "followups": fu[fu.rep_id.isin(R) | fu.customer_id.isin(any_id(owned)) | fu.lead_id.isin(set(leads.lead_id))],
        "reps": reps[reps.rep_id.isin(R)],
        "distributors": raw["distributors"][raw["distributors"].distributor_id.isin(D)],
        "targets": tg[((tg.level == "rep") & tg.level_id.isin(R)) | ((tg.level == "team") & tg.level_id.isin(teams))
                      | ((tg.level == "region") & tg.level_id.isin(regions))],
        "products": raw["products"],
        "inventory": raw["inventory"].iloc[0:0],
        "channel_costs": raw["channel_costs"].iloc[0:0],
        "_quarantine": raw["_quarantine"].iloc[0:0],
        "_accounting": raw["_accounting"].iloc[0:0],
        "customer_review": raw["customer_review"].iloc[0:0],
        "_merged": raw["_merged"].iloc[0:0],
        "campaigns": raw["campaigns"],
        "web_traffic": raw["web_traffic"].iloc[0:0],
    }
    return out


def _ids(df: pd.DataFrame) -> set:
    """Row identities: where the row came from (file, line), else its id columns; never empty tuples."""
    cols = ([c for c in ("_file", "_line") if c in df.columns] or [c for c in ("file", "line") if c in df.columns]
            or [c for c in df.columns if c.endswith("_id") or c == "key"][:2] or list(df.columns)[:3])
    assert cols
    return set(map(tuple, df[cols].astype(str).to_numpy()))


def _filters(rng: random.Random, df: pd.DataFrame):
    """A random filter on a table: (description, pandas mask function, ibis predicate function)."""
    choices = [("none", lambda d: pd.Series(True, index=d.index), lambda t: None)]
    for col in ("channel", "region", "stage", "level", "category", "kind"):
        if col in df.columns and df[col].notna().any():
            v = rng.choice(sorted(df[col].dropna().unique().tolist()))
            choices.append((f"{col}={v}", lambda d, c=col, v=v: d[c] == v, lambda t, c=col, v=v: t[c] == v))
    for col in ("order_date", "invoice_date", "payment_date", "created_date", "followup_date", "return_date", "month"):
        if col in df.columns and df[col].notna().any():
            days = sorted(pd.to_datetime(df[col].dropna()).dt.date.unique())
            lo = rng.choice(days)
            choices.append((f"{col}>={lo}", lambda d, c=col, lo=lo: pd.to_datetime(d[c]).dt.date >= lo,
                            lambda t, c=col, lo=lo: t[c] >= lo))
    return rng.choice(choices)


USERS = ["svc", "boss", "ro", "sup_east", "sup_two", "sup_team", "sup_mix", "S001", "S008", "S013", "S999"]


def test_random_users_filters_and_operations_never_leak_and_never_lose_a_row(world, capsys):
    """≥ 500 random (user, table, filter, operation) cases against the pandas oracle."""
    rng = random.Random(20261201)
    policy = access.load_policy(world["policy"])
    trail = access.open_trail(policy)
    engines, oracle = {}, {}
    counts = {"cases": 0, "read": 0, "aggregate": 0, "export": 0, "export_refused": 0, "rows_checked": 0}
    params = _params_file(world, world["tmp"])
    try:
        for user in USERS:
            ident = access.identity(policy, user)
            engines[user] = connect(world["warehouse"], "duckdb", {"memory_limit": "1GB",
                                    "temp_directory": str(world["tmp"] / "duck")}, identity=ident, trail=trail)
            oracle[user] = expected_rows(world["raw"], ident)
        for _ in range(520):
            user, table = rng.choice(USERS), rng.choice(TABLES)
            eng, exp = engines[user], oracle[user][table]
            what, pmask, ipred = _filters(rng, exp if len(exp) else world["raw"][table])
            t = eng.table(table)
            pred = ipred(t)
            t = t.filter(pred) if pred is not None else t
            want = exp[pmask(exp)] if len(exp) else exp
            op = rng.choices(["read", "aggregate", "export"], weights=[45, 45, 10])[0]
            if op == "export":
                out = world["tmp"] / f"export-{counts['cases']}.csv"
                code = cli.main(["export", "--params", str(params), "--user", user, "--table", table, "--out", str(out)])
                ident = engines[user].identity
                if not ident.export:
                    assert code == 8 and not out.exists(), (user, table)
                    counts["export_refused"] += 1
                else:
                    assert code == 0, (user, table)
                    got = pd.read_csv(out, dtype=str, encoding="utf-8-sig", keep_default_na=False)
                    assert len(got) == len(exp), (user, table)  # exports equal reads
                    if not ident.pii:
                        for col in ("phone", "email"):
                            if col in got.columns and col in world["raw"][table].columns:
                                clear = set(world["raw"][table][col].dropna().astype(str))
                                assert not clear & set(got[col]), (user, table, col)
                    counts["export"] += 1
                counts["cases"] += 1
                continue
            if op == "read":
                got = eng.execute(t)
                assert _ids(got) == _ids(want), (user, table, what)
                counts["rows_checked"] += len(got)
            else:
                got = int(eng.execute(t.count()))
                assert got == len(want), (user, table, what)
                money = next((c for c in ("net_amount", "amount", "target_amount") if c in t.columns), None)
                if money:
                    total = eng.execute(t[money].sum())
                    total = 0.0 if total is None or pd.isna(total) else float(total)  # SQL: Σ of nothing is NULL
                    assert round(total, 2) == round(float(want[money].sum()), 2), (user, table, what)
            counts[op] += 1
            counts["cases"] += 1
    finally:
        for e in engines.values():
            e.close()
    print("property test:", json.dumps(counts))
    assert counts["cases"] >= 500 and counts["read"] > 100 and counts["aggregate"] > 100
    assert counts["export"] > 10 and counts["export_refused"] > 3
    # every scope was exercised with rows: the oracle is not vacuous
    for user in ("sup_east", "sup_team", "sup_mix", "S001", "S008"):
        assert len(oracle[user]["orders"]) > 0 and len(oracle[user]["orders"]) < len(world["raw"]["orders"])
    assert len(oracle["S999"]["orders"]) == 0


def test_a_rep_sees_exactly_their_orders_and_those_of_their_customers(world):
    policy = access.load_policy(world["policy"])
    ident = access.identity(policy, "S008")
    raw = world["raw"]
    with connect(world["warehouse"], identity=ident) as eng:
        o = eng.execute(eng.table("orders"))
        c = eng.execute(eng.table("customers"))
        p = eng.execute(eng.table("products"))
    owned = set(raw["customer_map"].canonical_id[raw["customer_map"].customer_id.isin(
        raw["customers"].customer_id[raw["customers"].owner_rep_id == "S008"])])
    assert ((o.rep_id == "S008") | o.customer_id.isin(owned)).all()
    assert len(o) == int(((raw["orders"].rep_id == "S008") | raw["orders"].customer_id.isin(owned)).sum())
    assert owned and set(o.customer_id) & owned
    # masked personal data, hidden column absent (not blank)
    assert c.phone.dropna().str.fullmatch(r"\*{4}\d{4}|\*{4}").all()
    assert c.email.dropna().str.fullmatch(r".\*\*\*@[^@]+").all()
    assert c.tax_id.dropna().str.startswith("H-").all()
    assert "address" not in c.columns and "address" in raw["customers"].columns
    assert len(p) == len(raw["products"])  # reference data


def test_masking_keeps_a_person_linkable_and_the_last_four_digits(world):
    policy = access.load_policy(world["policy"])
    ident = access.identity(policy, "ro")
    with connect(world["warehouse"], identity=ident) as eng:
        c = eng.execute(eng.table("contacts"))
        f = eng.execute(eng.table("followups"))
    raw = world["raw"]["contacts"].set_index(["_file", "_line"])
    got = c.set_index(["_file", "_line"])
    both = raw.join(got, rsuffix="_m", how="inner")
    assert len(both) == len(raw)
    assert (both.phone.dropna().str[-4:] == both.phone_m.dropna().str[-4:]).all()
    assert not (both.phone.dropna() == both.phone_m.dropna()).any()
    # same name, same hash; different names, different hashes
    pairs = both.groupby("name").name_m.nunique()
    assert (pairs == 1).all()
    assert both.name_m.nunique() == both.name.nunique()
    assert both.name_m.iloc[0] == access.mask_value("hash", both.name.iloc[0], ident.pii_key)
    with connect(world["warehouse"], identity=ident) as eng:
        q = eng.execute(eng.table("_quarantine"))
        cust = eng.execute(eng.table("customers").select("customer_type", "name"))
    assert len(q) == len(world["raw"]["_quarantine"]) and set(q.raw.dropna()) <= {"***"}
    # a customer not known to be a company keeps no readable name (fail closed)
    assert cust[cust.customer_type.fillna("") != "company"].name.str.startswith("H-").all()
    assert not cust[cust.customer_type == "company"].name.str.startswith("H-").any()
    raw_f = world["raw"]["followups"]
    assert len(f) == len(raw_f) and not f.content.dropna().str.contains(r"1[3-9]\d{9}|\w@\w").any()
    # the management role sees them in clear
    with connect(world["warehouse"], identity=access.identity(policy, "boss")) as eng:
        clear = eng.execute(eng.table("contacts"))
    assert set(clear.phone.dropna()) == set(world["raw"]["contacts"].phone.dropna())


def test_a_user_without_a_policy_is_refused_not_given_everything(world, tmp_path):
    p = _params_file(world, tmp_path)
    p.write_text("\n".join(ln for ln in p.read_text(encoding="utf-8").splitlines() if "access_policy" not in ln),
                 encoding="utf-8")
    assert cli.main(["run", "--params", str(p), "--no-ingest", "--stages", "01_overview", "--user", "S008"]) == 2
    from saleslab.stage import open_stage

    with pytest.raises(access.ParameterError, match="needs an access_policy"):
        open_stage("01_overview", {"user": "S008", "warehouse": str(world["warehouse"]), "run_dir": str(tmp_path)})


def test_a_user_without_a_policy_entry_gets_nothing_and_is_recorded_as_denied(world):
    with pytest.raises(access.AccessDenied, match="no entry in the access policy"):
        access.governed(world["policy"], "mallory")
    with pytest.raises(access.AccessDenied, match="may not read"):
        access.governed(world["policy"], "gone")
    log = access.load_policy(world["policy"]).path(Path("audit/audit.jsonl"))
    entries = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    denied = [e for e in entries if e.get("action") == "deny"]
    assert {e["user"] for e in denied} >= {"mallory", "gone"}


def test_aggregates_for_a_user_equal_the_sum_over_their_rows(world):
    """Revenue computed through the facts layer for a user = Σ over the oracle's rows of that user."""
    import datetime as dt

    from saleslab import facts

    policy = access.load_policy(world["policy"])
    start, end = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
    totals = {}
    for user in ("boss", "sup_east", "sup_two", "sup_team", "S008"):
        ident = access.identity(policy, user)
        exp = expected_rows(world["raw"], ident)
        o = exp["orders"]
        in_period = set(o.order_id[pd.to_datetime(o.order_date).dt.date.between(start, end)])
        sales = exp["order_lines"][exp["order_lines"].order_id.isin(in_period)].net_amount.sum()
        r = exp["returns"]
        refunds = r[pd.to_datetime(r.return_date).dt.date.between(start, end)].amount.sum()
        with connect(world["warehouse"], identity=ident) as eng:
            by_region = eng.execute(facts.revenue_by_expr(eng, start, end, "region"))
        totals[user] = round(float(by_region.revenue.sum()), 2)
        assert totals[user] == pytest.approx(round(float(sales - refunds), 2), abs=0.02), user
    assert 0 < totals["S008"] < totals["sup_east"] < totals["boss"]
    assert totals["sup_team"] > 0


def _params_file(world, tmp: Path, stages: list[str] | None = None) -> Path:
    p = tmp / "run.yaml"
    p.write_text(yaml.safe_dump({**({"stages": stages} if stages else {}),
        "name": "acc", "input_dir": str(tmp), "warehouse_dir": str(world["warehouse"]),
        "period": {"start": "2023-01-01", "end": "2025-12-31"}, "ingest": False,
        "reports_dir": str(tmp / "reports"), "access_policy": str(world["policy"]),
        "sources_dir": str(ROOT / "parameters" / "sources"),
        "duckdb": {"temp_directory": str(tmp / "duck")}}), encoding="utf-8")
    return p


def test_users_command_lists_the_policy(world, tmp_path, capsys):
    assert cli.main(["users", "--params", str(_params_file(world, tmp_path)), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by = {r["user"]: r for r in rows}
    assert set(by["S008"]) == {"user", "role", "rep_id", "regions", "teams", "export", "pii"}
    assert by["S008"]["rep_id"] == "S008" and by["sup_east"]["regions"] == ["east"]
    assert by["ro"]["export"] is False and by["boss"]["pii"] is True


def test_export_writes_what_the_user_may_read_masked_and_formula_safe(world, tmp_path, capsys):
    params = _params_file(world, tmp_path)
    out = tmp_path / "east.csv"
    assert cli.main(["export", "--params", str(params), "--user", "sup_east", "--table", "customers",
                     "--out", str(out)]) == 0
    got = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    want = expected_rows(world["raw"], access.identity(access.load_policy(world["policy"]), "sup_east"))["customers"]
    assert set(got.customer_id) == set(want.customer_id) and len(got) == len(want)
    phones = set(world["raw"]["customers"].phone.dropna())
    assert not phones & set(got.phone.dropna())
    text = out.read_text(encoding="utf-8-sig")
    assert not any(re.search(re.escape(p), text) for p in list(phones)[:200])
    # refused: no export right, unknown user — one line, non-zero, nothing written
    capsys.readouterr()
    for user, code in (("ro", 8), ("mallory", 8)):
        bad = tmp_path / f"{user}.csv"
        assert cli.main(["export", "--params", str(params), "--user", user, "--table", "orders",
                         "--out", str(bad)]) == code
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and "\n" not in err and not bad.exists()
    log = access.load_policy(world["policy"]).path(Path("audit/audit.jsonl"))
    entries = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    exp = [e for e in entries if e.get("action") == "export" and e.get("user") == "sup_east"]
    assert exp and exp[-1]["rows"] == len(got) and len(exp[-1]["file_sha256"]) == 64


def test_audit_verify_command(world, tmp_path, capsys):
    params = _params_file(world, tmp_path)
    with pytest.raises(access.AccessDenied):
        access.governed(world["policy"], "eve")  # at least one entry
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--params", str(params), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["ok"] is True and res["entries"] > 0 and res["first_bad"] is None
    log = Path(res["log"])
    lines = log.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[len(lines) // 2])
    entry["user"] = "x" + entry["user"]  # someone rewrites who did it
    lines[len(lines) // 2] = json.dumps(entry, separators=(",", ":"), sort_keys=True)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli.main(["audit", "verify", "--params", str(params), "--json"]) == 9
    res = json.loads(capsys.readouterr().out)
    assert res["ok"] is False and res["first_bad"] is not None


def test_the_demo_policy_is_valid_and_complete():
    policy = access.load_policy(ROOT / "parameters" / "access.yaml")
    roles = {u.role for u in policy.users.values()}
    assert {"management", "supervisor", "rep", "viewer", "service"} <= roles
    regions = {r for u in policy.users.values() for r in u.regions}
    assert regions == {"north", "east", "south", "central", "southwest", "northwest", "northeast"}
    assert sum(1 for u in policy.users.values() if u.rep_id) == 24
    assert not policy.roles[policy.users["auditor"].role].export


def test_policy_errors_name_the_key(tmp_path):
    bad = tmp_path / "a.yaml"
    bad.write_text("service_user: x\nroles: {r: {scope: mine}}\nusers: {x: {role: r}}\n")
    with pytest.raises(access.ParameterError, match=r"roles\.r\.scope.*'all', 'group' or 'own'"):
        access.load_policy(bad)
    bad.write_text("service_user: x\nroles: {r: {scope: own}}\nusers: {x: {role: r}}\n")
    with pytest.raises(access.ParameterError, match="needs a rep_id"):
        access.load_policy(bad)
    bad.write_text("service_user: x\nroles: {r: {scope: all}}\nusers: {x: {role: boss}}\n")
    with pytest.raises(access.ParameterError, match="users.x.role: 'boss' is not a role"):
        access.load_policy(bad)


def _known_pii(raw: dict) -> list[str]:
    """Phones, e-mails and contact names that must never appear in clear in a pack without PII rights."""
    vals = set(raw["contacts"].phone.dropna()) | set(raw["contacts"].email.dropna()) | set(raw["contacts"].name.dropna())
    vals |= set(raw["customers"].phone.dropna()) | set(raw["customers"].email.dropna()) | set(raw["customers"].tax_id.dropna())
    people = raw["customers"][raw["customers"].customer_type.fillna("") != "company"]
    vals |= set(people.name.dropna())
    return sorted(v for v in vals if len(str(v)) >= 6)


def test_a_pack_run_for_a_user_shows_their_scope_and_no_personal_data(world, tmp_path):
    """`saleslab run --user` scopes the whole pack: the rep's revenue is the sum over their rows;
    the run is recorded; the service user's pack has no phone, e-mail or contact name in clear."""
    import datetime as dt

    from saleslab import facts

    # the run file's own stage list: a full run of that file (a --stages override would be partial
    # and move `latest` for nobody)
    params = _params_file(world, tmp_path, stages=["01_overview", "08_customer_360"])
    assert cli.main(["run", "--params", str(params), "--no-ingest", "--user", "S008", "--run-id", "s008"]) == 0
    assert cli.main(["run", "--params", str(params), "--no-ingest", "--run-id", "svc"]) == 0
    reports = tmp_path / "reports"
    m = json.loads((reports / "s008" / "manifest.json").read_text(encoding="utf-8"))
    assert m["access"]["user"] == "S008" and m["access"]["scope"] == "own"
    assert (reports / "latest").resolve().name == "svc"  # a user's own pack does not become `latest`
    heads = {h["key"]: h for h in json.loads((reports / "s008" / "data" / "01_overview" / "headlines.json")
                                               .read_text(encoding="utf-8"))}
    ident = access.identity(access.load_policy(world["policy"]), "S008")
    with connect(world["warehouse"], identity=ident) as eng:
        rev = eng.execute(facts.revenue_by_expr(eng, dt.date(2023, 1, 1), dt.date(2025, 12, 31), []))
    assert round(float(heads["revenue"]["value"]), 2) == round(float(rev.revenue.iloc[0]), 2)
    with connect(world["warehouse"]) as eng:
        everything = eng.execute(facts.revenue_by_expr(eng, dt.date(2023, 1, 1), dt.date(2025, 12, 31), []))
    assert float(rev.revenue.iloc[0]) < 0.2 * float(everything.revenue.iloc[0])
    # no personal data in clear anywhere in the service user's pack (notebooks, HTML, tables)
    pii = _known_pii(world["raw"])
    hits = []
    for f in (reports / "svc").rglob("*"):
        if f.is_file():
            text = f.read_bytes().decode("utf-8", "ignore")
            hits += [(f.name, v) for v in pii if v in text]
    assert hits == [], hits[:5]
    page = (reports / "svc" / "08_customer_360.html").read_text(encoding="utf-8")
    assert re.search(r"\*{4}\d{4}", page)  # the card shows the customer's phone, masked (the check above is not vacuous)
    log = access.load_policy(world["policy"]).path(Path("audit/audit.jsonl"))
    runs = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if '"run"' in x]
    assert {e["user"] for e in runs if e["action"] == "run"} >= {"S008", "svc"}


def test_scope_and_masking_are_the_same_on_every_backend(world, backend, open_engine, tmp_path):
    """The scope is Ibis expressions: on PySpark a user sees the same rows, masked the same way."""
    policy = access.load_policy(world["policy"])
    for user in ("sup_mix", "S008"):
        ident = access.identity(policy, user)
        exp = expected_rows(world["raw"], ident)
        eng = open_engine(world["warehouse"], backend, tmp_path)
        eng.identity = ident
        try:
            for table in ("orders", "customers", "payments", "targets"):
                assert int(eng.execute(eng.table(table).count())) == len(exp[table]), (backend, user, table)
            c = eng.execute(eng.table("contacts").select("_file", "_line", "name", "phone", "email"))
        finally:
            eng.close()
        with connect(world["warehouse"], identity=ident) as duck:
            d = duck.execute(duck.table("contacts").select("_file", "_line", "name", "phone", "email"))
        key = ["_file", "_line"]
        pd.testing.assert_frame_equal(c.sort_values(key, ignore_index=True).astype(str),
                                      d.sort_values(key, ignore_index=True).astype(str))


def test_an_export_with_personal_data_in_clear_is_encrypted_when_the_warehouse_is(world, tmp_path, capsys):
    """A management user (PII right) exporting from a warehouse with a key gets an encrypted file;
    `saleslab keys decrypt` gives the CSV back; a role without the right gets masked plaintext."""
    from saleslab import crypto

    key = tmp_path / "k.key"
    crypto.new_key_file(key)
    params = _params_file(world, tmp_path)
    params.write_text(params.read_text(encoding="utf-8") + f"encryption: {{key_file: {key}}}\n", encoding="utf-8")
    out = tmp_path / "contacts.csv"
    assert cli.main(["export", "--params", str(params), "--user", "boss", "--table", "contacts", "--out", str(out)]) == 0
    blob = out.read_bytes()
    phones = [p for p in world["raw"]["contacts"].phone.dropna() if len(p) >= 8][:50]
    assert blob.startswith(crypto.ENVELOPE_MAGIC) and not any(p.encode() in blob for p in phones)
    plain = tmp_path / "plain.csv"
    assert cli.main(["keys", "decrypt", "--params", str(params), "--in", str(out), "--out", str(plain)]) == 0
    got = pd.read_csv(plain, dtype=str, encoding="utf-8-sig")
    assert set(phones) <= set(got.phone)  # the management user's export, in clear once decrypted
    masked = tmp_path / "masked.csv"
    assert cli.main(["export", "--params", str(params), "--user", "sup_east", "--table", "contacts",
                     "--out", str(masked)]) == 0
    assert not masked.read_bytes().startswith(crypto.ENVELOPE_MAGIC)
