"""Scheduled delivery (issue 13, items 10-11): the cron -> systemd translation and the unit files,
e-mail through a real local SMTP server (aiosmtpd on 127.0.0.1) with retries, per-user packs,
the run history page with the process indicators, and `reports/latest` moving on full runs only."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import socket
import subprocess
import sys
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from saleslab import access, cli, facts
from saleslab.config import load_params
from saleslab.engine import connect
from saleslab.errors import ParameterError, StageFailed
from saleslab.notify import DeliveryFailed, failure_message, run_and_notify, send, success_message
from saleslab.report.history import indicators, read_manifests, write_history
from saleslab.schedule import CronError, cron_to_oncalendar, read_unit, write_schedule

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["01_overview", "08_customer_360"]


# ---- a local SMTP server -------------------------------------------------------------------------
class Inbox:
    """aiosmtpd handler: keeps every message; refuses the first ``refuse`` DATA commands with ``code``."""

    def __init__(self, refuse: int = 0, code: str = "451 4.3.0 try again later"):
        self.refuse, self.code, self.attempts, self.messages = refuse, code, 0, []

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.attempts <= self.refuse:
            return self.code
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=email_policy)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """Start a local SMTP server with the given handler; yields a starter returning the port."""
    from aiosmtpd.controller import Controller

    started = []

    def start(handler: Inbox, **kw) -> int:
        port = _free_port()
        c = Controller(handler, hostname="127.0.0.1", port=port, **kw)
        c.start()
        started.append(c)
        return port
    yield start
    for c in started:
        c.stop()


def _notify(port: int, **extra) -> dict:
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "security": "none", "sender": "saleslab@example.com",
            "recipients": ["boss@example.com"], "retries": 2, "backoff_seconds": 0.01, "timeout_seconds": 5,
            **extra}


def _run_file(tmp: Path, demo_dir: Path, warehouse: Path, **extra) -> Path:
    (tmp / "policy").mkdir(exist_ok=True)
    policy = tmp / "policy" / "access.yaml"  # the demo's policy, copied: its keys and audit trail stay in tmp
    policy.write_text((ROOT / "parameters" / "access.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    doc = {"name": "dl", "input_dir": str(demo_dir / "exports"), "warehouse_dir": str(warehouse),
           "sources_dir": str(ROOT / "parameters" / "sources"), "reports_dir": str(tmp / "reports"),
           "period": {"start": "2023-01-01", "end": "2025-12-31"}, "access_policy": str(policy),
           "duckdb": {"memory_limit": "1GB", "threads": 2, "temp_directory": str(tmp / "duck")},
           "stages": ["01_overview"], **extra}  # one fast stage unless a test names others
    p = tmp / "run.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


# ---- cron -> OnCalendar ------------------------------------------------------------------------------
@pytest.mark.parametrize("cron, expected", [
    ("0 7 1 * *", "*-*-01 07:00:00"),                  # the monthly pack: 07:00 on the 1st
    ("30 6 * * 1-5", "Mon..Fri *-*-* 06:30:00"),
    ("*/15 * * * *", "*-*-* *:00/15:00"),
    ("0 */6 * * *", "*-*-* 00/6:00:00"),
    ("0 0 * * 0", "Sun *-*-* 00:00:00"),
    ("0 0 * * 7", "Sun *-*-* 00:00:00"),               # 7 is Sunday too
    ("0 22 * * sat,sun", "Sat,Sun *-*-* 22:00:00"),
    ("0 7 * * 5,6,0", "Fri..Sun *-*-* 07:00:00"),      # Monday first, as systemd counts
    ("0 7 * * 0-6", "*-*-* 07:00:00"),                 # every weekday is every day
    ("0 8 1,15 * *", "*-*-01,15 08:00:00"),
    ("0 9 * jan-mar *", "*-01..03-* 09:00:00"),
    ("15 7 1 */3 *", "*-01/3-01 07:15:00"),            # quarterly: Jan, Apr, Jul, Oct
    ("0 1-10/3 * * *", "*-*-* 01,04,07,10:00:00"),     # a stepped range, spelled out
    ("@monthly", "*-*-01 00:00:00"),
    ("@weekly", "Sun *-*-* 00:00:00"),                 # cron's week starts on Sunday (systemd's "weekly" on Monday)
    ("  0   7  1 * *  ", "*-*-01 07:00:00"),
])
def test_cron_is_translated_to_oncalendar(cron, expected):
    assert cron_to_oncalendar(cron) == expected


@pytest.mark.parametrize("cron, says", [
    ("0 7 1 * 1", "either matches"),   # cron: the 1st OR a Monday; systemd would need both
    ("0 7 L * *", "'L'"),
    ("0 7 * * 1#2", "'#'"),
    ("@reboot", "@reboot"),
    ("61 * * * *", "minute 61 is outside 0-59"),
    ("0 24 * * *", "hour 24 is outside 0-23"),
    ("0 7 * *", "expected 5 fields"),
    ("0 7 * * 5-1", "runs backwards"),
    ("*/0 * * * *", "must be a positive number"),
    ("0 7 * foo *", "month 'foo' is not a number"),
])
def test_untranslatable_cron_is_refused_in_one_line(cron, says):
    with pytest.raises(CronError) as e:
        cron_to_oncalendar(cron)
    assert says in str(e.value) and "\n" not in str(e.value)


# ---- the unit files, and the run they start ------------------------------------------------------------
def test_schedule_writes_a_timer_and_service_whose_command_runs(demo_dir, tmp_path, capsys):
    params = _run_file(tmp_path, demo_dir, tmp_path / "warehouse", stages=["01_overview"])
    assert cli.main(["schedule", "--params", str(params), "--cron", "0 7 1 * *", "--out", str(tmp_path / "units")]) == 0
    out = capsys.readouterr().out
    timer, service = read_unit(tmp_path / "units" / "saleslab-dl.timer"), read_unit(tmp_path / "units" / "saleslab-dl.service")
    assert timer["Timer"]["OnCalendar"] == "*-*-01 07:00:00" and timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == "saleslab-dl.service" and timer["Install"]["WantedBy"] == "timers.target"
    svc = service["Service"]
    # the project folder of the run file (a file outside parameters/: its own folder)
    assert svc["Type"] == "oneshot" and svc["WorkingDirectory"] == str(tmp_path)
    argv = shlex.split(svc["ExecStart"])
    assert argv[1:] == ["run", "--params", str(params.resolve())]  # no notify: in the run file, no --notify
    assert Path(argv[0]).name == "saleslab" and Path(argv[0]).exists()
    # the printed crontab line: same schedule, same command, from the project folder
    cron_line = next(ln for ln in out.splitlines() if ln.startswith("0 7 1 * * "))
    assert f"cd {tmp_path} && {svc['ExecStart']} >> " in cron_line
    assert "systemctl enable --now saleslab-dl.timer" in out
    # the service's command, run for real as systemd would (its Environment=, in its folder)
    env = {**os.environ, **dict(kv.split("=", 1) for kv in svc["Environment"].split())}
    r = subprocess.run(argv, cwd=svc["WorkingDirectory"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    reports = tmp_path / "reports"
    run = next(p for p in reports.iterdir() if p.is_dir() and p.name.endswith("-dl"))
    assert (run / "01_overview.html").exists()
    # the run file's own stage list is the scheduled pack: a full run, it becomes reports/latest
    assert (reports / "latest").resolve() == run.resolve() and "not moved" not in r.stdout
    assert "history.html" in r.stdout and (reports / "history.html").exists()


def test_schedule_adds_notify_when_the_run_file_has_a_mail_server(demo_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SALESLAB_TEST_SMTP_PW", "s3cret-value")
    params = _run_file(tmp_path, demo_dir, tmp_path / "warehouse",
                       notify=_notify(2525, username="mailer", password_env="SALESLAB_TEST_SMTP_PW"))
    s = write_schedule(params, "@daily", tmp_path / "units")
    service = read_unit(s.service)["Service"]
    assert shlex.split(service["ExecStart"])[-1] == "--notify"
    assert read_unit(s.timer)["Timer"]["OnCalendar"] == "*-*-* 00:00:00"
    # the secret stays in the environment file (optional, '-'), never in the unit
    assert service["EnvironmentFile"] == "-/etc/saleslab/saleslab-dl.env"
    assert "s3cret-value" not in s.service.read_text() + s.timer.read_text()


def test_schedule_refuses_a_bad_cron_without_writing_files(demo_dir, tmp_path, capsys):
    params = _run_file(tmp_path, demo_dir, tmp_path / "warehouse")
    assert cli.main(["schedule", "--params", str(params), "--cron", "0 7 1 * 1", "--out", str(tmp_path / "u")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "either matches" in err
    assert not (tmp_path / "u").exists()


# ---- sending: messages, retries, failures -----------------------------------------------------------------
def _fake_run(tmp: Path, with_pdf: bool) -> Path:
    run = tmp / "reports" / "r1"
    (run / "figures").mkdir(parents=True)
    (run / "figures" / "trend.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (run / "index.html").write_text(
        '<html><head><style>p{color:red}</style></head><body><h1>销售分析报告</h1><p>销售额 1,234.5 万元</p>'
        '<img src="figures/trend.png"><a href="01_overview.html">经营概览</a></body></html>', encoding="utf-8")
    if with_pdf:
        (run / "pack.pdf").write_bytes(b"%PDF-1.4\n% fake pack\n%%EOF\n")
    return run


def test_the_summary_mail_arrives_with_the_front_page_and_the_pdf(smtp, demo_dir, tmp_path):
    inbox = Inbox()
    port = smtp(inbox)
    params = load_params(_run_file(tmp_path, demo_dir, tmp_path / "wh", notify=_notify(port)), check_input=False)
    run = _fake_run(tmp_path, with_pdf=True)
    msg = success_message(run, {"run_id": "r1", "access": {"user": "report_service"}}, params, ["boss@example.com"])
    assert send(msg, params.notify, progress=lambda m: None) == 1
    [(to, got)] = inbox.messages
    assert to == ["boss@example.com"] and got["From"] == "saleslab@example.com"
    assert got["Subject"] == "销售分析报告：2023-01-01 – 2025-12-31（report_service）"
    text = got.get_body(("plain",)).get_content()
    assert "销售额 1,234.5 万元" in text and "p{color" not in text and "附件为完整报告的 PDF" in text
    page = got.get_body(("html",)).get_content()
    assert "销售额" in page and 'href="01_overview.html"' not in page  # links into the pack are dead in a mail
    [pdf] = [p for p in got.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "r1.pdf" and pdf.get_content() == (run / "pack.pdf").read_bytes()
    [img] = [p for p in got.walk() if p.get_content_type() == "image/png"]
    assert f'cid:{img["Content-ID"].strip("<>")}' in page  # the chart travels inside the mail


def test_english_pack_mail_and_a_run_without_pdf_says_why(smtp, demo_dir, tmp_path):
    inbox = Inbox()
    port = smtp(inbox)
    params = load_params(_run_file(tmp_path, demo_dir, tmp_path / "wh", notify=_notify(port), language="en"),
                         check_input=False)
    run = _fake_run(tmp_path, with_pdf=False)
    send(success_message(run, {"run_id": "r1"}, params, ["a@example.com"]), params.notify, progress=lambda m: None)
    [(_, got)] = inbox.messages
    assert got["Subject"].startswith("Sales analysis report: 2023-01-01 – 2025-12-31")
    text = got.get_body(("plain",)).get_content()
    if not any(p.get_content_type() == "application/pdf" for p in got.iter_attachments()):
        assert "No PDF this time (" in text and str(run) in text


def test_a_server_refusing_the_first_attempts_gets_the_mail_on_a_retry(smtp, demo_dir, tmp_path):
    inbox = Inbox(refuse=2)
    port = smtp(inbox)
    params = load_params(_run_file(tmp_path, demo_dir, tmp_path / "wh", notify=_notify(port, backoff_seconds=3)),
                         check_input=False)
    waits, said = [], []
    msg = failure_message(params, ["boss@example.com"], "03_products", "cell 4: KeyError: 'x'", "r9", "/x/r9")
    assert send(msg, params.notify, progress=said.append, sleep=waits.append) == 3
    assert waits == [3, 6]  # backoff_seconds * 2**(n-1)
    assert inbox.attempts == 3 and len(inbox.messages) == 1
    assert sum("451" in s and "retrying" in s for s in said) == 2


def test_retries_run_out_with_one_line_and_permanent_errors_are_not_retried(smtp, demo_dir, tmp_path):
    inbox = Inbox(refuse=99, code="550 5.1.1 mailbox unavailable")
    port = smtp(inbox)
    params = load_params(_run_file(tmp_path, demo_dir, tmp_path / "wh", notify=_notify(port)), check_input=False)
    msg = failure_message(params, ["boss@example.com"], "ingest", "boom")
    with pytest.raises(DeliveryFailed) as e:
        send(msg, params.notify, progress=lambda m: None, sleep=lambda s: None)
    assert inbox.attempts == 1 and "550" in str(e.value) and "after 1 attempt" in str(e.value)
    # nobody listening: temporary, retried `retries` times, then one line
    closed = load_params(_run_file(tmp_path, demo_dir, tmp_path / "wh", notify=_notify(_free_port(), retries=2)),
                         check_input=False)
    waits = []
    with pytest.raises(DeliveryFailed) as e:
        send(msg, closed.notify, progress=lambda m: None, sleep=waits.append)
    assert "after 3 attempt(s)" in str(e.value) and "\n" not in str(e.value) and len(waits) == 2


def test_the_password_comes_from_the_environment_never_from_the_file(smtp, demo_dir, tmp_path, monkeypatch):
    from aiosmtpd.smtp import AuthResult

    logins = []

    def check(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    inbox = Inbox()
    port = smtp(inbox, authenticator=check, auth_require_tls=False)
    run_file = _run_file(tmp_path, demo_dir, tmp_path / "wh",
                         notify=_notify(port, username="mailer", password_env="SALESLAB_TEST_SMTP_PW"))
    params = load_params(run_file, check_input=False)
    msg = failure_message(params, ["boss@example.com"], "ingest", "boom")
    monkeypatch.delenv("SALESLAB_TEST_SMTP_PW", raising=False)
    with pytest.raises(ParameterError, match="SALESLAB_TEST_SMTP_PW is not set"):
        send(msg, params.notify, progress=lambda m: None)
    monkeypatch.setenv("SALESLAB_TEST_SMTP_PW", "s3cret")
    send(msg, params.notify, progress=lambda m: None)
    assert logins == [(b"mailer", b"s3cret")] and len(inbox.messages) == 1
    # a password in the file is refused, naming the allowed keys
    bad = _run_file(tmp_path, demo_dir, tmp_path / "wh", notify=_notify(port, password="s3cret"))
    with pytest.raises(ParameterError, match="unknown key 'notify.password'.*password_env"):
        load_params(bad, check_input=False)


def test_delivery_needs_a_server_a_policy_and_known_users(demo_dir, tmp_path):
    with pytest.raises(ParameterError, match="delivery needs notify"):
        load_params(_run_file(tmp_path, demo_dir, tmp_path / "wh", delivery=[{"user": "S001", "email": "a@b.cn"}]),
                    check_input=False)
    with pytest.raises(ParameterError, match="'nobody' not in the access policy"):
        load_params(_run_file(tmp_path, demo_dir, tmp_path / "wh", notify=_notify(25),
                              delivery=[{"user": "nobody", "email": "a@b.cn"}]), check_input=False)


# ---- a run with --notify and a delivery list, on the small demo ---------------------------------------
@pytest.fixture(scope="module")
def delivered(demo_dir, demo_warehouse, tmp_path_factory):
    from aiosmtpd.controller import Controller

    tmp = tmp_path_factory.mktemp("delivery")
    inbox = Inbox()
    port = _free_port()
    c = Controller(inbox, hostname="127.0.0.1", port=port)
    c.start()
    run_file = _run_file(tmp, demo_dir, demo_warehouse, ingest=False, stages=STAGES, notify=_notify(port),
                         delivery=[{"user": "S001", "email": "s001@example.com"}])
    said: list[str] = []
    try:
        res = run_and_notify(load_params(run_file), progress=said.append, run_id="main")
    finally:
        c.stop()
    return {"tmp": tmp, "inbox": inbox, "res": res, "said": said, "warehouse": demo_warehouse,
            "run_file": run_file, "reports": tmp / "reports"}


def test_notify_mails_the_summary_and_each_recipient_their_own_pack(delivered):
    msgs = delivered["inbox"].messages
    assert [to for to, _ in msgs] == [["boss@example.com"], ["s001@example.com"]]
    boss, rep = msgs[0][1], msgs[1][1]
    assert "（report_service）" in boss["Subject"] and "（S001）" in rep["Subject"]
    rep_dirs = [p for p in delivered["reports"].iterdir() if p.is_dir() and p.name.endswith("-S001")]
    assert len(rep_dirs) == 1 and str(rep_dirs[0]) in rep.get_body(("plain",)).get_content()
    for m, run in ((boss, delivered["reports"] / "main"), (rep, rep_dirs[0])):
        text = m.get_body(("plain",)).get_content()
        assert "销售额" in text and "Revenue" not in text  # the front page's figures, in the run's language
        pdfs = [p for p in m.iter_attachments() if p.get_content_type() == "application/pdf"]
        made = sorted(run.glob("*.pdf"))
        if made:  # the pack's own PDF (saleslab.report.pdf), byte for byte: the rep's is the rep's pack
            assert [p.get_content() for p in pdfs] == [made[0].read_bytes()]
        else:
            assert pdfs == [] and "本次没有 PDF" in text


def test_a_reps_pack_holds_only_their_customers(delivered):
    reports, wh = delivered["reports"], delivered["warehouse"]
    [rep_run] = [p for p in reports.iterdir() if p.is_dir() and p.name.endswith("-S001")]
    m = json.loads((rep_run / "manifest.json").read_text(encoding="utf-8"))
    assert m["access"]["user"] == "S001" and m["access"]["scope"] == "own" and m["status"] == "ok"
    with connect(wh) as eng:  # ungoverned: every row (the oracle below is plain pandas)
        orders, customers, cmap = (eng.execute(eng.table(t)) for t in ("orders", "customers", "customer_map"))
    owned = set(cmap.canonical_id[cmap.customer_id.isin(customers.customer_id[customers.owner_rep_id == "S001"])])
    theirs = owned | set(orders.customer_id[orders.rep_id == "S001"])
    assert len(theirs) < len(customers) / 4
    # the 360 page shows one customer of theirs (by default the top one in the user's scope), with that
    # customer's orders only (tables as stored; the CSV exports carry labelled columns)
    card = pd.read_parquet(rep_run / "data" / "08_customer_360" / "customer_360.parquet")
    hist = pd.read_parquet(rep_run / "data" / "08_customer_360" / "customer_orders.parquet")
    assert len(card) == 1 and set(card.customer_id) <= theirs
    assert len(hist) and set(hist.order_id) <= set(orders.order_id[orders.customer_id.isin(card.customer_id)])
    # the rep's headline revenue is the revenue over their own rows
    heads = {h["key"]: h for h in json.loads((rep_run / "data" / "01_overview" / "headlines.json").read_text("utf-8"))}
    ident = access.identity(access.load_policy(delivered["tmp"] / "policy" / "access.yaml"), "S001")
    with connect(wh, identity=ident) as eng:
        rev = eng.execute(facts.revenue_by_expr(eng, dt.date(2023, 1, 1), dt.date(2025, 12, 31), []))
    assert round(float(heads["revenue"]["value"]), 2) == round(float(rev.revenue.iloc[0]), 2)


def test_only_a_full_run_of_the_scheduled_pack_moves_latest(delivered, capsys):
    reports = delivered["reports"]
    # the main run (the run file's stages) moved it; the rep's own pack did not
    assert (reports / "latest").resolve().name == "main"
    assert not any("not moved" in s for s in delivered["said"])
    m = json.loads((reports / "main" / "manifest.json").read_text(encoding="utf-8"))
    assert m["full"] is True and m["service"] is True and m["stages_total"] > len(STAGES)
    # a --stages run is partial: it succeeds, is listed in the history, and leaves latest alone
    assert cli.main(["run", "--params", str(delivered["run_file"]), "--stages", "01_overview",
                     "--run-id", "partial"]) == 0
    out = capsys.readouterr().out
    assert "partial run (--stages 01_overview): reports/latest is not moved" in out
    assert "latest:    " in out and "(not moved" in out
    assert (reports / "latest").resolve().name == "main"
    m = json.loads((reports / "partial" / "manifest.json").read_text(encoding="utf-8"))
    assert m["status"] == "ok" and m["full"] is False
    assert f"部分：1/{m['stages_total']}" in (reports / "history.html").read_text(encoding="utf-8")
    # `partial` is not a key of the run file
    bad = delivered["tmp"] / "bad.yaml"
    bad.write_text(delivered["run_file"].read_text(encoding="utf-8") + "partial: false\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="unknown key 'partial'"):
        load_params(bad)


def test_a_failing_run_mails_the_failing_stage_and_its_error(delivered, tmp_path, smtp):
    import shutil

    inbox = Inbox()
    port = smtp(inbox)
    # a copy of the warehouse without its returns table: the data-quality stage counts every table
    wh = tmp_path / "wh"
    shutil.copytree(Path(delivered["warehouse"]).resolve(), wh)
    shutil.rmtree(wh / "returns")
    run_file = _run_file(tmp_path, Path(delivered["tmp"]), wh, ingest=False, stages=["00_data_quality"],
                         notify=_notify(port), delivery=[{"user": "S001", "email": "s001@example.com"}])
    params = load_params(run_file, check_input=False)
    with pytest.raises(StageFailed):
        run_and_notify(params, progress=lambda m: None, run_id="broken")
    [(to, got)] = inbox.messages  # the admins hear of it; the delivery list is not run
    assert to == ["boss@example.com"]
    assert got["Subject"] == "【运行失败】销售分析报告：2023-01-01 – 2025-12-31，阶段 00_data_quality"
    body = got.get_body(("plain",)).get_content()
    assert "运行 broken 在阶段 00_data_quality 失败" in body and "returns" in body
    error_line = body.split("\n\n")[1]
    assert "\n" not in error_line.strip() and error_line.startswith("cell ")
    m = json.loads((tmp_path / "reports" / "broken" / "manifest.json").read_text(encoding="utf-8"))
    assert m["status"] == "failed" and m["failed_stage"] == "00_data_quality" and m["error"] == error_line.strip()


# ---- the history page -------------------------------------------------------------------------------------
def test_history_page_lists_the_runs_with_user_status_and_indicators(delivered):
    page = (delivered["reports"] / "history.html").read_text(encoding="utf-8")
    runs = read_manifests(delivered["reports"])
    assert {r["_dir"] for r in runs} >= {"main"} | {p.name for p in delivered["reports"].iterdir()
                                                      if p.name.endswith("-S001")}
    assert "运行历史" in page and "过程指标" in page and "S001" in page and "report_service" in page
    assert 'href="main/index.html"' in page and "全部" in page  # the run file's stages: a full run
    # the newest export's age was recorded at run time: the demo files were written minutes ago
    m = json.loads((delivered["reports"] / "main" / "manifest.json").read_text(encoding="utf-8"))
    acc = json.loads((Path(delivered["warehouse"]) / "_ingest" / "accounting.json").read_text(encoding="utf-8"))
    newest = max((Path(acc["input_dir"]) / f["file"]).stat().st_mtime for f in acc["files"])
    assert dt.datetime.fromisoformat(m["newest_export"]).timestamp() == pytest.approx(newest, abs=1)
    started = dt.datetime.fromisoformat(m["started"]).timestamp()
    assert m["export_age_hours"] == pytest.approx((started - newest) / 3600, abs=0.01)


def _m(run_id, started, minutes=10, status="ok", full=True, service=True, newest=None, **kw):
    s = dt.datetime.fromisoformat(started)
    return {"run_id": run_id, "_dir": run_id, "started": s.isoformat(), "status": status, "full": full,
            "service": service, "finished": (s + dt.timedelta(minutes=minutes)).isoformat(),
            "seconds": minutes * 60, "newest_export": newest, "stages": [], **kw}


def test_process_indicators_by_hand():
    tz = "+08:00"
    runs = [  # newest first, as read_manifests gives them
        _m("r5", f"2026-04-01T07:00:00{tz}", status="failed", newest=f"2026-03-31T19:00:00{tz}"),  # age 12 h
        _m("r4", f"2026-03-30T09:00:00{tz}", full=False),                  # partial: not a report
        _m("r3", f"2026-03-01T07:00:00{tz}", minutes=30, newest=f"2026-02-28T22:00:00{tz}"),  # data -> report 9.5 h
        _m("r2", f"2026-02-01T07:00:00{tz}", service=False),               # a rep's pack: not the schedule
        _m("r1", f"2026-02-01T07:00:00{tz}"),
        _m("r0", f"2026-01-01T07:00:00{tz}"),
    ]
    ind = indicators(runs, now=dt.datetime.fromisoformat(f"2026-04-02T00:00:00{tz}"))
    assert ind["export_age_hours"] == pytest.approx(12.0)
    assert ind["data_to_report_hours"] == pytest.approx(9.5)
    # successful full runs of the schedule: r3, r1, r0; gaps 28 days (Feb -> Mar) and 31 (Jan -> Feb)
    assert ind["frequency_days"] == pytest.approx(29.5)
    assert ind["full_runs_90d"] == 2  # r0 started 90 days 17 hours before `now`
    assert ind["last_full"] == runs[2]["started"]
    assert indicators([])["frequency_days"] is None and indicators(runs[2:3])["frequency_days"] is None


def test_history_page_of_hand_made_runs(tmp_path):
    for m in (_m("a", "2026-01-01T07:00:00+08:00"), _m("b", "2026-02-01T07:00:00+08:00", status="failed",
                                                        failed_stage="03_products", error="cell 2: KeyError: 'x'",
                                                        access={"user": "S007"})):
        (tmp_path / m["run_id"]).mkdir()
        (tmp_path / m["run_id"] / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    (tmp_path / "latest").symlink_to("a")  # not a run of its own
    page = write_history(tmp_path, "en").read_text(encoding="utf-8")
    assert page.count("<tr class=") == 2 and page.index(">b<") < page.index(">a<")  # newest first
    assert "03_products" in page and "cell 2: KeyError: &#x27;x&#x27;" in page and "S007" in page
    assert "Run history" in page and "运行" not in page  # one language
    assert '<div class="v">—</div><div class="k">Report frequency</div>' in page  # one good run: no frequency yet


# ---- the command line -------------------------------------------------------------------------------------
def test_version_and_stage_titles_in_the_runs_language(demo_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip().startswith("saleslab 0.")
    assert cli.main(["stages", "--language", "en"]) == 0
    en = capsys.readouterr().out.splitlines()
    assert en[1].split(None, 1) == ["01_overview", "Business overview"]
    params = _run_file(tmp_path, demo_dir, tmp_path / "wh")  # zh-CN
    assert cli.main(["stages", "--params", str(params)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split(None, 1) == ["01_overview", "经营概览"]


def test_check_params_names_a_missing_java_before_anything_runs(demo_dir, tmp_path):
    params = _run_file(tmp_path, demo_dir, tmp_path / "wh", engine="pyspark")
    env = {**os.environ, "PATH": str(tmp_path / "nothing-here")}  # no java on PATH
    r = subprocess.run([sys.executable, "-m", "saleslab.cli", "check-params", str(params)], capture_output=True,
                       text=True, cwd=ROOT, env=env)
    assert r.returncode == 2 and "no Java runtime" in r.stderr and "apt-get install" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, "-m", "saleslab.cli", "run", "--params", str(params)], capture_output=True,
                       text=True, cwd=ROOT, env=env)
    assert r.returncode == 2 and "no Java runtime" in r.stderr and "ingest" not in r.stdout  # before the ingest


def test_lab_adds_allow_root_only_for_root(capsys):
    assert cli.main(["lab", "--dry-run"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.split()[1:3] == ["lab", str(ROOT / "notebooks")]
    assert ("--allow-root" in line) == (os.geteuid() == 0)


def test_run_notify_without_a_mail_server_is_refused_before_the_run(demo_dir, tmp_path, capsys):
    params = _run_file(tmp_path, demo_dir, tmp_path / "wh")
    assert cli.main(["run", "--params", str(params), "--notify"]) == 2
    err = capsys.readouterr().err
    assert "no notify: section" in err and err.count("\n") == 1
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_a_recipients_failing_pack_is_reported_and_the_others_still_get_theirs(demo_dir, demo_warehouse, tmp_path,
                                                                               smtp):
    inbox = Inbox()
    port = smtp(inbox)
    run_file = _run_file(tmp_path, demo_dir, demo_warehouse, ingest=False, stages=["01_overview"],
                         notify=_notify(port), delivery=[{"user": "S002", "email": "s002@example.com"},
                                                         {"user": "S003", "email": "s003@example.com"}])
    params = load_params(run_file)
    # S002 leaves the company after the run file was checked: the policy no longer knows them
    policy = tmp_path / "policy" / "access.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("  S002:", "  # S002:"), encoding="utf-8")
    with pytest.raises(DeliveryFailed) as e:
        run_and_notify(params, progress=lambda m: None, run_id="main")
    assert str(e.value).startswith("1 of 3 deliveries failed: S002: run:") and "\n" not in str(e.value)
    got = [(to, m["Subject"]) for to, m in inbox.messages]
    assert [to for to, _ in got] == [["boss@example.com"], ["boss@example.com"], ["s003@example.com"]]
    assert "（report_service）" in got[0][1] and got[1][1].startswith("【运行失败】") and "（S003）" in got[2][1]
    failure = inbox.messages[1][1].get_body(("plain",)).get_content()
    assert "S002" in failure
