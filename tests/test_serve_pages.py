"""The stakeholder pages' library (issue 17): the cubes a run precomputes give the report pack's
figures; a user reads only their rows of them (the engine's scope predicate, the same one that limits
the orders); the 360 page refuses a customer outside the scope; view-as never widens the viewer's
rights; the dashboard's filters and drill-down give the engine's figures; the page notebooks run.

One real run (stages 01, 02, 07 on the small demo warehouse, encrypted stage tables, governed by a
test access policy) is made once for the module; no browser here (tests/test_serve_browser.py)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml

from saleslab import access, cli, crypto, facts
from saleslab.engine import connect
from saleslab.serve import page
from saleslab.serve.cube import CUBES, CubeReader, Filters
from saleslab.serve.customer import Customer360, customer_from_query
from saleslab.serve.dashboard import Dashboard

ROOT = Path(__file__).resolve().parents[1]
START, END = dt.date(2023, 1, 1), dt.date(2025, 12, 31)
YTD = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
LAST_YEAR = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def _policy(tmp: Path) -> Path:
    doc = {
        "service_user": "svc", "pii_key_file": "keys/pii.key",
        "audit": {"log": "audit/audit.jsonl", "anchor": "anchor/anchor.json", "key_file": "keys/audit.key",
                  "retention_days": 365},
        "roles": {
            "management": {"scope": "all", "export": True, "pii": True},
            "service": {"scope": "all", "export": False, "pii": False},
            "viewer": {"scope": "all", "export": False, "pii": False},
            "supervisor": {"scope": "group", "export": True, "pii": False},
            "rep": {"scope": "own", "export": False, "pii": False},
        },
        "users": {
            "svc": {"role": "service"}, "boss": {"role": "management"}, "ro": {"role": "viewer"},
            "sup_east": {"role": "supervisor", "regions": ["east"]},
            "sup_team": {"role": "supervisor", "teams": ["华南一部"]},
            "S001": {"role": "rep", "rep_id": "S001"}, "S008": {"role": "rep", "rep_id": "S008"},
            "S013": {"role": "rep", "rep_id": "S013"}, "S999": {"role": "rep", "rep_id": "S999"},
        },
    }
    path = tmp / "policy" / "access.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def world(demo_warehouse, tmp_path_factory):
    """A governed, encrypted run of 01, 02 and 07 for the service user (reports/latest) with its cubes."""
    tmp = tmp_path_factory.mktemp("serve_pages")
    policy = _policy(tmp)
    key = crypto.new_key_file(tmp / "keys" / "run.key")
    params = tmp / "run.yaml"
    params.write_text(yaml.safe_dump({
        "name": "pages", "input_dir": str(tmp), "warehouse_dir": str(demo_warehouse), "ingest": False,
        "stages": ["01_overview", "02_performance", "07_clv_churn"],
        "period": {"start": START.isoformat(), "end": END.isoformat()}, "reports_dir": str(tmp / "reports"),
        "access_policy": str(policy), "encryption": {"key_file": str(key)}, "pdf": False,
        "sources_dir": str(ROOT / "parameters" / "sources"),
        "duckdb": {"memory_limit": "1GB", "threads": 2, "temp_directory": str(tmp / "duck")},
        "language": "en"}, allow_unicode=True), encoding="utf-8")
    assert cli.main(["run", "--params", str(params), "--no-ingest", "--run-id", "svc"]) == 0
    run = tmp / "reports" / "svc"
    assert (tmp / "reports" / "latest").resolve() == run.resolve()
    pages: list = []

    def open_(user, kind="dashboard"):
        pg = page.open_page(str(params), user, kind, "en")
        pages.append(pg)
        return pg

    yield {"tmp": tmp, "params": params, "policy": policy, "run": run, "key": key, "warehouse": demo_warehouse,
           "open": open_}
    for pg in pages:
        pg.close()


def _audit(world) -> list[dict]:
    log = world["policy"].parent / "audit" / "audit.jsonl"
    return [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]


def _engine(world, user: str):
    """An engine opened for ``user`` directly (no page, no cube): the reference figures."""
    pol = access.load_policy(world["policy"])
    return connect(world["warehouse"], "duckdb", {"memory_limit": "1GB", "temp_directory": str(world["tmp"] / "duck")},
                   identity=access.identity(pol, user), keyring=world["key"])


def _facts(eng, start, end, keys=(), **where) -> pd.DataFrame:
    """revenue_by_expr for the filter (the engine's scoped facts), money to the cent."""
    r = facts.revenue_by_expr(eng, start, end, list(keys) + list(where))
    for k, v in where.items():
        r = r.filter(r[k] == v)
    df = eng.execute(r)
    for c in ("revenue", "cost", "gross_sales", "returns"):
        df[c] = df[c].astype(float).round(2)
    return df


def _read(world, stage: str, name: str) -> pd.DataFrame:
    return crypto.read_table(world["run"] / "data" / stage / f"{name}.parquet", crypto.keyring_from(world["key"])).to_pandas()


def _heads(world, stage: str) -> dict:
    items = json.loads((world["run"] / "data" / stage / "headlines.json").read_text(encoding="utf-8"))
    return {i["key"]: i for i in items}


# ---- the cubes ------------------------------------------------------------------------------------
def test_the_run_writes_encrypted_cubes_after_its_stages(world):
    m = json.loads((world["run"] / "manifest.json").read_text(encoding="utf-8"))
    assert m["serve"]["status"] == "ok" and set(m["serve"]["tables"]) == set(CUBES)
    assert [s["stage"] for s in m["stages"]] == ["01_overview", "02_performance", "07_clv_churn"]
    for name in CUBES:
        path = world["run"] / "data" / "serve" / f"{name}.parquet"
        assert crypto.is_encrypted(path)
        assert crypto.num_rows(path, crypto.keyring_from(world["key"])) == m["serve"]["tables"][name] > 0
    meta = json.loads((world["run"] / "data" / "serve" / "cubes.json").read_text(encoding="utf-8"))
    assert meta["period"] == [START.isoformat(), END.isoformat()] and meta["returns_basis"] == "return_date"


@pytest.mark.parametrize("user", ["svc", "boss"])
def test_cube_figures_equal_the_report_packs(world, user):
    """The pack's 01 period totals, 02 year to date (and last year) and 02's region × channel ×
    category cube, from the cubes, for the service user and management."""
    r = CubeReader(world["open"](user).engine)
    o1, o2 = _heads(world, "01_overview"), _heads(world, "02_performance")
    tot = r.totals(Filters(start=START, end=END))
    assert tot["revenue"] == pytest.approx(o1["revenue"]["value"], abs=0.005)
    assert round(tot["gross_margin"], 4) == o1["gross_margin"]["value"]
    assert tot["orders"] == o1["orders"]["value"] and tot["active_customers"] == o1["active_customers"]["value"]
    for (a, b), suffix in ((YTD, "value"), (LAST_YEAR, "previous")):
        y = r.totals(Filters(start=a, end=b))
        assert y["revenue"] == pytest.approx(o2["ytd_revenue"][suffix], abs=0.005)
        assert round(y["gross_margin"], 4) == o2["ytd_gross_margin"][suffix]
        assert y["orders"] == o2["ytd_orders"][suffix]
        assert y["active_customers"] == o2["ytd_active_customers"][suffix]
    seg = _read(world, "02_performance", "segments")  # month × region × channel × category
    for level in ("region", "channel", "category"):
        want = seg.groupby(level).agg(revenue=("revenue", "sum"), orders=("orders", "sum")).round(2)
        got = r.breakdown(Filters(), level).set_index("key")
        assert len(want) >= 4 and set(got.index) == set(want.index)
        assert got.loc[want.index, "revenue"].tolist() == pytest.approx(want["revenue"].tolist(), abs=0.01)
        if level == "category":  # an order has one region and channel, not one category: orders per category
            assert got.loc[want.index, "orders"].tolist() == want["orders"].tolist()
    monthly = _read(world, "01_overview", "monthly")
    trend = r.trend(Filters(start=START, end=END))
    assert trend["revenue"].tolist() == pytest.approx(monthly["revenue"].tolist(), abs=0.005)
    assert trend["active_customers"].tolist() == monthly["active_customers"].tolist()


@pytest.mark.parametrize("user", ["S001", "S008", "sup_east", "sup_team"])
def test_a_users_cube_reads_equal_the_engines_scoped_facts(world, user):
    """The cube rows a rep or a supervisor reads give exactly what the facts layer gives on an engine
    opened for them (their orders, their customers' orders, their regions)."""
    r = CubeReader(world["open"](user).engine)
    with _engine(world, user) as eng:
        channel = _facts(eng, *YTD, ["channel"]).sort_values("revenue").channel.iloc[-1]
        for f, (a, b), where in ((Filters(start=START, end=END), (START, END), {}),
                                 (Filters(start=YTD[0], end=YTD[1], channel=channel), YTD, {"channel": channel})):
            want = _facts(eng, a, b, **where)
            got = r.totals(f)
            assert got["revenue"] == pytest.approx(float(want.revenue.sum()), abs=0.005), (user, f)
            assert got["cost"] == pytest.approx(float(want.cost.sum()), abs=0.005)
            assert got["orders"] == int(want.orders.sum())
            assert got["active_customers"] == int(want.active_customers.sum())
        by_region = _facts(eng, START, END, ["region"]).set_index("region")
        got = r.breakdown(Filters(), "region").set_index("key")
        assert got.loc[by_region.index, "revenue"].tolist() == pytest.approx(by_region.revenue.tolist(), abs=0.01)
        assert got.loc[by_region.index, "active_customers"].tolist() == by_region.active_customers.tolist()
    everything = CubeReader(world["open"]("boss").engine).totals(Filters())["revenue"]
    assert 0 < r.totals(Filters())["revenue"] < 0.6 * everything  # a scope, not everything


def test_cube_reads_are_audited_and_a_run_for_another_scope_is_not_served(world, tmp_path):
    pg = world["open"]("S008")
    CubeReader(pg.engine).totals(Filters())
    reads = [e for e in _audit(world) if e["user"] == "S008" and e["action"] == "read"]
    assert any(e.get("table") == "serve/sales_cube" for e in reads)
    # the same cubes in a run computed for S008's own scope: refused, recorded
    other = tmp_path / "other"
    shutil.copytree(world["run"], other)
    m = json.loads((other / "manifest.json").read_text(encoding="utf-8"))
    m["access"] = access.identity(access.load_policy(world["policy"]), "S008").describe()
    (other / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    pol = access.load_policy(world["policy"])
    with connect(world["warehouse"], run_dir=other, identity=access.identity(pol, "boss"),
                 trail=access.open_trail(pol), keyring=world["key"]) as eng:
        with pytest.raises(access.AccessDenied, match="scope own"):
            eng.serving_table("sales_cube")
    assert any(e["user"] == "boss" and e["action"] == "deny" and e.get("table") == "serve" for e in _audit(world))


def test_per_customer_results_are_limited_to_the_users_customers(world):
    everyone = world["open"]("boss").engine.serving_result("churn_scores")[1]
    stage, mine = world["open"]("S008").engine.serving_result("churn_scores")
    assert stage == "07_clv_churn" and 0 < len(mine) < len(everyone) / 5
    with _engine(world, "S008") as eng:
        o = eng.table("orders")
        c = eng.table("customers")
        allowed = set(eng.execute(o.select("customer_id").distinct())["customer_id"].dropna())
        allowed |= set(eng.execute(c.select("customer_id"))["customer_id"])
    assert set(mine["customer_id"]) <= allowed


# ---- the 360 page ------------------------------------------------------------------------------------
def _customer_outside(world, user: str) -> str:
    """A customer with orders that ``user`` may not see."""
    with _engine(world, user) as eng:
        mine = set(eng.execute(eng.table("customers").select("customer_id"))["customer_id"])
        mine |= set(eng.execute(eng.table("orders").select("customer_id").distinct())["customer_id"].dropna())
    with _engine(world, "boss") as eng:
        o = eng.table("orders")
        theirs = eng.execute(o.filter(o.rep_id == "S013").select("customer_id").distinct())["customer_id"].dropna()
    return sorted(set(theirs) - mine)[0]


def test_a_rep_cannot_open_or_find_another_reps_customer_on_the_360_page(world):
    other = _customer_outside(world, "S008")
    c360 = Customer360(world["open"]("S008", "customer360"))
    assert c360.open(other) is False and c360.refused
    assert "sl-refused" in c360.card.children[0]._dom_classes and other in c360.card.children[0].value
    assert c360.find(other) == []  # the search does not show it either
    denied = [e for e in _audit(world) if e["user"] == "S008" and e["action"] == "open_customer"
              and e["outcome"] == "denied"]
    assert denied and denied[-1]["customer_id"] == other
    # the same customer for management: the card, with the cube's figures
    boss = Customer360(world["open"]("boss", "customer360"), other)
    assert boss.customer == other and "sl-card" in boss.card.children[0]._dom_classes
    with _engine(world, "boss") as eng:
        want = _facts(eng, START, END, customer_id=other)
    assert boss.figures(other)[0]["revenue"] == pytest.approx(float(want.revenue.sum()), abs=0.005)
    html = boss.card.children[0].children[0].value
    assert f'data-key="revenue" data-value="{float(want.revenue.sum()):.2f}"' in html


def test_the_360_card_of_a_reps_own_customer_is_masked_and_from_the_run(world):
    pg = world["open"]("S008", "customer360")
    with _engine(world, "S008") as eng:
        o = eng.table("orders")
        mine = o.filter((o.rep_id == "S008") & o.customer_id.notnull())
        cid = eng.execute(mine.group_by("customer_id").aggregate(n=mine.count())
                          .order_by([ibis_desc("n"), "customer_id"]).limit(1))["customer_id"].iloc[0]
    with _engine(world, "boss") as eng:
        c = eng.table("customers")
        raw_phone = eng.execute(c.filter(c.customer_id == cid).select("phone"))["phone"].iloc[0]
    c360 = Customer360(pg)
    assert [r[0] for r in c360.search(cid)] == [cid]
    assert c360.open(cid)
    page_html = c360.card.children[0].children[0].value + c360.card.children[0].children[2].value
    assert raw_phone not in page_html and f"****{raw_phone[-4:]}" in page_html
    assert c360.facts(cid)["clv"][1] == "07_clv_churn" and c360.facts(cid)["stage"] == (None, None)  # no 06 in this run
    hist = c360.card.children[0].children[1]
    unit = {"CNY": 1, "CNY K": 1e3, "CNY M": 1e6}[hist.figure["layout"]["yaxis"]["title"]["text"]]
    assert "sl-history" in hist._dom_classes and len(hist.figure["data"][0]["y"]) == 36
    assert sum(hist.figure["data"][0]["y"]) * unit == pytest.approx(c360.figures(cid)[0]["revenue"], rel=1e-4)
    searches = [e for e in _audit(world) if e["user"] == "S008" and e["action"] == "search"]
    assert searches and cid not in json.dumps(searches[-1]["search"])  # the text searched is hashed


def test_the_url_only_preselects_a_customer(world):
    assert customer_from_query("customer=C000123&x=1") == "C000123"
    assert customer_from_query("customer=<script>") == "" and customer_from_query("") == ""
    other = _customer_outside(world, "S001")
    c360 = Customer360(world["open"]("S001", "customer360"), customer_from_query(f"customer={other}"))
    assert c360.refused and c360.customer is None


# ---- who is viewing ---------------------------------------------------------------------------------
def test_nobody_signed_in_or_unknown_gets_one_line_and_nothing_read(world):
    before = len(_audit(world))
    anon = page.open_page(str(world["params"]), "", "dashboard", "en")
    assert isinstance(anon, page.Refusal) and anon.text.startswith("Not signed in")
    assert "sl-refused" in anon.widget()._dom_classes
    assert len(_audit(world)) == before  # not even the run file's policy was opened
    who = page.open_page(str(world["params"]), "mallory", "customer360", "en")
    assert isinstance(who, page.Refusal) and "mallory" in who.text
    assert any(e["user"] == "mallory" and e["action"] == "deny" for e in _audit(world)[before:])


def test_management_views_as_a_rep_and_sees_exactly_their_figures(world):
    boss = world["open"]("boss")
    as_s001 = boss.view_as("S001")
    own = CubeReader(world["open"]("S001").engine)
    f = Filters(start=YTD[0], end=YTD[1])
    assert CubeReader(as_s001.engine).totals(f) == own.totals(f)
    assert as_s001.identity.scope == "own" and as_s001.identity.user == "boss"  # recorded under the viewer
    assert "viewing as S001" in as_s001.who()
    entry = [e for e in _audit(world) if e["action"] == "view_as"][-1]
    assert entry["user"] == "boss" and entry["target"] == "S001" and entry["outcome"] == "ok"
    # the dashboard switches through its view-as list
    d = Dashboard(boss)
    d.view_as.value = "S001"
    assert d.figures == own.totals(d.current_filters()) and "viewing as S001" in d.user_line.value
    d.view_as.value = ""
    assert d.figures == CubeReader(boss.engine).totals(d.current_filters())


def test_only_management_views_as_and_never_gets_wider_rights(world):
    """Management = scope all AND pii AND export: a supervisor, a scope-all viewer without pii and
    the service user may not view as anyone; management sees a rep's customer as the rep would."""
    sup = world["open"]("sup_east")
    with pytest.raises(access.AccessDenied, match="management"):
        sup.view_as("S008")
    assert not sup.can_view_as and not hasattr(Dashboard(sup), "view_as")
    for who in ("ro", "svc"):
        pg = world["open"](who, "customer360")
        assert not pg.can_view_as and not hasattr(Customer360(pg), "view_as")
        with pytest.raises(access.AccessDenied, match="management"):
            pg.view_as("S008")
    denied = [e for e in _audit(world) if e["action"] == "view_as" and e["outcome"] == "denied"]
    assert {(e["user"], e["target"]) for e in denied} >= {("sup_east", "S008"), ("ro", "S008"), ("svc", "S008")}
    assert page.is_management(world["open"]("boss").identity)
    # the pii check stays: a would-be viewer without pii may never look as a user with it
    pol = access.load_policy(world["policy"])
    assert not page.within(access.identity(pol, "boss"), access.identity(pol, "ro"))
    as_rep = world["open"]("boss", "customer360").view_as("S008")
    assert not as_rep.identity.pii and as_rep.identity.scope == "own"
    with _engine(world, "boss") as eng:
        c = eng.table("customers")
        row = eng.execute(c.filter(c.owner_rep_id == "S008").select("customer_id", "phone").limit(1)).iloc[0]
    c360 = Customer360(as_rep, row.customer_id)
    assert c360.customer == row.customer_id and not c360.company_level_hidden
    assert row.phone not in c360.card.children[0].children[0].value


@pytest.fixture(scope="module")
def reassigned(world):
    """The world's run read against a copy of its warehouse in which one customer of rep S008 (with
    orders S008 booked and stage results) now belongs to S013: S008 still sees the customer, through
    the orders S008 booked, but no longer owns it. (The demo's orders are all booked by the owner.)"""
    import pyarrow.parquet as pq

    tmp = world["tmp"] / "reassigned"
    wh = tmp / "warehouse"
    shutil.copytree(world["warehouse"], wh)
    with _engine(world, "boss") as eng:
        o, c = eng.table("orders"), eng.table("customers")
        j = o.join(c, o.customer_id == c.customer_id)
        cand = eng.execute(j.filter((j.rep_id == "S008") & (j.owner_rep_id == "S008"))
                           .select(cid=j.customer_id).distinct().order_by("cid"))["cid"]
    churn = set(world["open"]("boss").engine.serving_result("churn_scores")[1]["customer_id"])
    cid = next(x for x in cand if x in churn)
    files = sorted((wh / "customers").glob("*.parquet"))
    hits = 0
    for f in files:
        t = pq.read_table(f)
        if "owner_rep_id" not in t.column_names or t.num_rows == 0:
            continue
        df = t.to_pandas()
        hit = df["customer_id"] == cid
        hits += int(hit.sum())
        df.loc[hit, "owner_rep_id"] = "S013"
        pq.write_table(pa.Table.from_pandas(df, schema=t.schema, preserve_index=False), f)
    assert hits >= 1, cid
    params = tmp / "run.yaml"
    doc = yaml.safe_load(world["params"].read_text(encoding="utf-8"))
    params.write_text(yaml.safe_dump({**doc, "warehouse_dir": str(wh)}, allow_unicode=True), encoding="utf-8")
    pages: list = []

    def open_(user, kind="customer360"):
        pg = page.open_page(str(params), user, kind, "en")
        pages.append(pg)
        return pg

    yield {"cid": cid, "open": open_}
    for pg in pages:
        pg.close()


def test_company_level_facts_only_for_customers_owned_within_the_scope(world, reassigned):
    """A customer a rep sees only through orders the rep booked (owned by another rep): the card shows
    the rep's own sales figures but not the stage results (CLV, churn, credit ...), which are computed
    over all of the customer's orders; one line says so. The owner and management see them."""
    cid = reassigned["cid"]
    rep = Customer360(reassigned["open"]("S008"), cid)
    assert rep.customer == cid and rep.company_level_hidden and not rep.owned(cid)
    facts_html = rep.card.children[0].children[2].value
    import html

    assert "sl-company-level" in facts_html and "shown to the customer's owner" in html.unescape(facts_html)
    assert 'data-key="clv"' not in facts_html and "data-key='clv'" not in facts_html
    # the rep's sales figures of the customer are still shown (their own orders)
    assert "data-key='revenue'" in rep.card.children[0].children[0].value or \
        'data-key="revenue"' in rep.card.children[0].children[0].value
    # the new owner and management see the facts
    owner = Customer360(reassigned["open"]("S013"), cid)
    assert owner.owned(cid) and not owner.company_level_hidden
    assert "data-key='clv'" in owner.card.children[0].children[2].value
    boss = Customer360(reassigned["open"]("boss"), cid)
    assert not boss.company_level_hidden and "data-key='clv'" in boss.card.children[0].children[2].value
    # in the original warehouse S008 owns it and sees the facts
    own = Customer360(world["open"]("S008", "customer360"), cid)
    assert own.owned(cid) and not own.company_level_hidden
    # both languages carry the line
    from saleslab.report import i18n

    assert "客户负责人" in i18n.t("serve_card_company_level", "zh-CN")


def test_widgets_replaced_by_clicks_are_closed(world):
    """A page kernel lives as long as the page: sorting, drilling, searching, opening customers and
    switching view-as 10 times each leave the kernel's widget count where it was."""
    from ipywidgets.widgets.widget import _instances

    d = Dashboard(world["open"]("boss"), start="2025-01-01", end="2025-12-01")
    d.sort_by("orders")
    d.drill(d.rows.key.iloc[0])
    d.go_up(0)
    base = len(_instances)
    for i in range(10):
        d.sort_by("orders" if i % 2 else "revenue")
        d.drill(d.rows.key.iloc[0])
        d.breadcrumb.children[0].click()  # back to the total through the crumb button
    assert d.level == "region" and len(_instances) == base, (base, len(_instances))
    for i in range(3):
        d.view_as.value = "S008"
        d.view_as.value = ""
    assert len(_instances) == base, (base, len(_instances))
    c = Customer360(world["open"]("boss", "customer360"))
    c.search("C0")
    c.open(c.find("C0")[0][0])
    base = len(_instances)
    for i in range(10):
        found = c.search("C00" if i % 2 else "C0")
        c.results.children[i % len(found[:c.max_results])].click()
    assert c.customer and len(_instances) == base, (base, len(_instances))


def test_a_failing_callback_shows_one_line_and_logs_the_traceback(world, capfd):
    """Widget callbacks never raise into the kernel (whose traceback the browser would get): a
    failure (here: the page's engine gone) is one line in the page; the details go to the kernel
    process's own stderr, the server's log."""
    pg = world["open"]("boss")
    d = Dashboard(pg)
    line = next(b for b in d.table.children[1:] if "sl-drill-row" in b.children[0]._dom_classes)
    pg.engine.close()
    line.children[0].click()  # drill: a query on a closed connection
    import html

    assert "sl-error" in d.message.value and "server's log" in html.unescape(d.message.value)
    assert "Traceback" not in d.message.value
    assert "Traceback" in capfd.readouterr().err


def test_page_kernels_use_small_duckdb_settings(world):
    pg = world["open"]("S008")
    con = pg.engine.con
    got = {k: con.raw_sql(f"select current_setting('{k}')").fetchall()[0][0]
           for k in ("threads", "memory_limit", "temp_directory")}
    assert int(got["threads"]) == 1
    assert got["memory_limit"].endswith("MiB") and float(got["memory_limit"].split()[0]) <= 512
    assert got["temp_directory"].endswith(f"pages/{__import__('os').getpid()}")
    assert str(world["tmp"] / "duck") in got["temp_directory"]


# ---- the dashboard, driven in-process -----------------------------------------------------------------
def _row_values(d: Dashboard) -> list[dict]:
    import re

    out = []
    for line in d.table.children[1:]:
        cells = dict(re.findall(r'data-key="([a-z_]+)" data-value="([^"]*)"', line.children[1].value))
        out.append(cells)
    return out


def test_dashboard_filters_and_drill_down_give_the_engines_figures(world):
    pg = world["open"]("boss")
    d = Dashboard(pg, start="2025-01-01", end="2025-12-01")
    kpi = d.kpis.value
    assert all(f'data-key="{k}"' in kpi for k in ("revenue", "gross_profit", "gross_margin", "orders", "active_customers"))
    with _engine(world, "boss") as eng:
        ytd = _facts(eng, *YTD)
        assert f'data-key="revenue" data-value="{float(ytd.revenue.sum()):.2f}"' in kpi
        # filter: a channel and a region
        d.set_filters(channel="online", region="east")
        want = _facts(eng, *YTD, channel="online", region="east")
        assert d.figures["revenue"] == pytest.approx(float(want.revenue.sum()), abs=0.005)
        assert d.figures["orders"] == int(want.orders.sum())
        d.set_filters(channel="", region="")
        # drill: region -> team -> rep; each level's rows are the engine's figures
        assert d.level == "region" and len(d.table.children) - 1 == len(d.rows)
        top = d.rows.key.iloc[0]
        rows = _row_values(d)
        by_region = _facts(eng, *YTD, ["region"]).set_index("region")
        assert float(rows[0]["revenue"]) == pytest.approx(float(by_region.loc[top, "revenue"]), abs=0.005)
        d.drill(top)
        assert d.level == "team" and d.figures["revenue"] == pytest.approx(float(by_region.loc[top, "revenue"]), abs=0.005)
        team = next(k for k in d.rows.key if k != "unknown")
        d.drill(team)
        rep = d.rows.key.iloc[0]
        d.drill(rep)
        assert d.level == "customer_id" and d.path == [("region", top), ("team", team), ("rep_id", rep)]
        want = _facts(eng, *YTD, region=top, rep_id=rep)
        assert d.figures["revenue"] == pytest.approx(float(want.revenue.sum()), abs=0.005)
        assert d.figures["active_customers"] == int(want.active_customers.sum())
        link = d.table.children[1].children[0].value
        assert 'class="sl-drill-row sl-customer-link"' in link and "customer360.ipynb?customer=" in link
        crumbs = [c for c in d.breadcrumb.children if "sl-crumb" in getattr(c, "_dom_classes", ())]
        assert len(crumbs) == 3
        crumbs[0].click()  # back to the total
        assert d.path == [] and d.level == "region"
        # sort by orders, then the other way
        d.sort_by("orders")
        orders = [int(r["orders"]) for r in _row_values(d)]
        assert orders == sorted(orders, reverse=True)
        d.sort_by("orders")
        assert [int(r["orders"]) for r in _row_values(d)] == sorted(orders)
        # category, then a product within it
        cat = d.filters["category"].options[1][1]
        d.set_filters(category=cat)
        products = [v for _, v in d.filters["product"].options[1:]]
        assert products and not d.filters["product"].disabled
        d.set_filters(product=products[0])
        sold = facts.movements_expr(eng, *YTD)
        sold = sold.filter(sold.product_id == products[0])
        want = eng.execute(sold.aggregate(revenue=sold.amount.sum(), orders=sold.order_id.nunique()))
        assert d.figures["revenue"] == pytest.approx(round(float(want.revenue.iloc[0]), 2), abs=0.005)
    fig = d.trend.figure
    trend, layout = fig["data"][0], fig["layout"]
    unit = {"CNY": 1, "CNY K": 1e3, "CNY M": 1e6}[layout["yaxis"]["title"]["text"]]
    assert len(trend["x"]) == 12 and sum(trend["y"]) * unit == pytest.approx(d.figures["revenue"], rel=1e-4)
    assert layout["xaxis"]["rangeslider"]["visible"]
    assert fig["config"].get("responsive") and layout["autosize"] and "width" not in layout
    actions = [e for e in _audit(world) if e["user"] == "boss" and e.get("page") == "dashboard"]
    assert {"page_view", "filter", "drill"} <= {e["action"] for e in actions}
    assert any(e.get("page_filter", {}).get("channel") == "online" for e in actions if e["action"] == "filter")


def test_a_reps_dashboard_lists_only_their_rows(world):
    d = Dashboard(world["open"]("S008"), start="2023-01-01", end="2025-12-01")
    with _engine(world, "S008") as eng:
        want = _facts(eng, START, END, ["region"])
    assert sorted(d.rows.key) == sorted(want.region.fillna("unknown"))
    assert [v for _, v in d.filters["region"].options[1:]] == sorted(want.region.dropna())
    assert d.figures["revenue"] == pytest.approx(float(want.revenue.sum()), abs=0.005)


def test_a_user_with_no_rows_and_a_run_without_cubes_get_a_page_not_a_traceback(world, tmp_path):
    d = Dashboard(world["open"]("S999"))
    assert d.figures["revenue"] == 0 and d.figures["orders"] == 0 and d.rows.empty
    assert "No data" in d.table_note.value and len(d.trend.figure["data"][0]["x"]) == 12
    pg = world["open"]("boss")
    old = tmp_path / "old"
    shutil.copytree(world["run"], old, ignore=shutil.ignore_patterns("serve"))
    pg.run_dir = pg.engine.run_dir = old
    from saleslab.serve import dashboard

    w = dashboard.show(pg)
    assert "sl-refused" in w._dom_classes and "run the pack again" in w.children[0].value


# ---- the page notebooks and the page's imports ----------------------------------------------------------
@pytest.mark.parametrize("user", ["S008", "boss"])
def test_page_notebooks_run_under_papermill(world, user, tmp_path):
    import papermill as pm

    for name in ("dashboard", "customer360"):
        out = tmp_path / f"{name}.ipynb"
        pm.execute_notebook(str(ROOT / "notebooks" / "pages" / f"{name}.ipynb"), str(out), kernel_name="python3",
                            parameters={"params_file": str(world["params"]), "user": user, "lang": "en"},
                            progress_bar=False, cwd=str(tmp_path))
        nb = json.loads(out.read_text(encoding="utf-8"))
        shown = nb["cells"][-1]["outputs"][0]["data"]
        assert "application/vnd.jupyter.widget-view+json" in shown and "sl-refused" not in str(shown)
        assert any(e["user"] == user and e["action"] == "page_view" and e.get("page") == name for e in _audit(world))


def test_the_page_path_imports_no_model_or_plotting_library():
    """A page kernel's imports (``page.warm_up``) bring no model or plotting library, plotly's Python
    package included (the charts are plotly.js in the browser)."""
    code = ("import sys; from saleslab.serve import page; page.warm_up(); "
            "from saleslab.report import i18n; i18n.t('revenue', 'en'); "
            "print(sorted(m for m in ('sklearn', 'statsmodels', 'matplotlib', 'scipy', 'plotly') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def ibis_desc(col):
    import ibis

    return ibis.desc(col)
