"""``saleslab`` command line: thin over the library. Errors print without a traceback."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__
from .errors import SalesLabError

EPILOG = """examples:
  saleslab demo-data --out data/demo --scale small --seed 42
  saleslab ingest --params parameters/demo.yaml
  saleslab run --params parameters/demo.yaml
  saleslab run --params parameters/monthly.yaml --stages 00_data_quality,01_overview --language en
  saleslab thresholds --area channels          # what a run file may set under thresholds:
  saleslab users --params parameters/demo.yaml  # who may see what (parameters/access.yaml)
  saleslab run --params parameters/demo.yaml --user sup_east --stages 01_overview
  saleslab export --params parameters/demo.yaml --user sup_east --table customers --out east.csv
  saleslab audit verify --params parameters/demo.yaml
  saleslab run --params parameters/monthly.yaml --notify   # e-mail the summary + PDF (notify:, delivery:)
  saleslab schedule --params parameters/monthly.yaml --cron "0 7 1 * *"
  saleslab users set-password --params parameters/demo.yaml ceo   # a password for the pages' login
  saleslab serve --params parameters/demo.yaml   # dashboard, customer 360 and pack behind a login
"""


def _say(msg: str) -> None:
    print(msg, flush=True)


def cmd_demo_data(args) -> int:
    from .demo import generate

    t0 = time.perf_counter()
    _say(f"generating {args.scale} demo exports (seed {args.seed}) into {args.out} ...")
    summary = generate(Path(args.out), scale=args.scale, seed=args.seed, progress=lambda m: _say("  " + m))
    lines = summary.get("order_lines") if isinstance(summary, dict) else None
    _say(f"done in {time.perf_counter() - t0:.1f}s"
         + (f": {lines:,} order lines" if lines else "")
         + f"\n  exports: {Path(args.out) / 'exports'}\n  answer key: {Path(args.out) / 'truth'}")
    return 0


def _params(args, check_input=True):
    from .config import load_params

    overrides = {k: getattr(args, k, None) for k in ("engine", "language", "spark_remote")}
    if getattr(args, "user", None) and getattr(args, "func", None) is cmd_run:
        overrides["user"] = args.user
    if getattr(args, "stages", None):
        overrides["stages"] = [s.strip() for s in args.stages.split(",") if s.strip()]
    if getattr(args, "no_ingest", False):
        overrides["ingest"] = False
    return load_params(args.params, overrides, check_input=check_input)


def cmd_ingest(args) -> int:
    from .errors import IngestError, ParameterError
    from .ingest.load import ingest
    from .ingest.store import Safeguards

    cleaning, safeguards, duck, keyring = None, Safeguards(), None, None
    engine, spark = args.engine or "duckdb", {"spark_remote": args.spark_remote}
    if args.params:
        p = _params(args)
        input_dir, sources, warehouse = p.input_path, p.sources_path, p.warehouse_path
        cleaning, safeguards, duck, keyring = p.cleaning, p.safeguards, p.duckdb_config(), p.keyring()
        engine, spark = p.engine, p.spark_config()
    else:
        if engine == "spark-connect" and not args.spark_remote:
            raise ParameterError("--engine spark-connect needs --spark-remote sc://HOST:PORT")
        if not (args.input and args.warehouse):
            raise ParameterError("give --params FILE, or --input DIR and --warehouse DIR")
        input_dir, sources, warehouse = Path(args.input), Path(args.sources), Path(args.warehouse)
    if args.allow_shrink:
        safeguards = safeguards.model_copy(update={"allow_shrink": True})
    trail = _service_trail(args)  # an ingest is a change: recorded before and after (an unusable trail stops it)
    if trail is not None:
        trail[1].record(trail[0], "change", table="warehouse", change={"ingest": str(input_dir)}, outcome="started")
    _say(f"ingesting {input_dir} -> {warehouse}")
    rep = ingest(input_dir, sources, warehouse, progress=_say, cleaning=cleaning,
                 incremental=not args.full, safeguards=safeguards, duckdb_config=duck, keyring=keyring,
                 engine=engine, spark=spark)
    tot = rep.totals()
    if trail is not None:
        trail[1].record(trail[0], "change", table="warehouse", change={"ingest": tot})
    _say(f"{tot['files']} files ({tot['files_reused']} unchanged since the last ingest), {tot['rows_read']:,} rows "
         f"read = {tot['rows_loaded']:,} loaded + {tot['rows_merged']:,} merged + {tot['rows_quarantined']:,} "
         f"quarantined; {tot['values_filled']:,} values filled, {tot['outliers_flagged']:,} outliers flagged; "
         f"{rep.seconds:.1f}s")
    if rep.rejected:
        raise IngestError("rejected file(s) (their rows are quarantined):\n"
                          + "\n".join(f"  {a.message}" for a in rep.rejected))
    return 0


def cmd_run(args) -> int:
    from .pipeline import run

    params = _params(args, check_input=not args.no_ingest)
    if args.allow_shrink:
        params.safeguards = params.safeguards.model_copy(update={"allow_shrink": True})
    _require_engine(params.engine)  # a missing pyspark or Java is found before the ingest, not after it
    with _key_in_environment(params.key_file_path):
        if args.notify:
            from .notify import run_and_notify

            res = run_and_notify(params, progress=_say, run_id=args.run_id)
        else:
            res = run(params, progress=_say, run_id=args.run_id)
    m = res.manifest
    _say(f"\nrun {m['run_id']} finished in {m['seconds']:.1f}s")
    _say(f"  report:    {res.run_dir / 'index.html'}")
    latest = params.reports_path / "latest"
    moved = latest.is_symlink() and latest.resolve() == res.run_dir.resolve()
    _say(f"  latest:    {latest}" + ("" if moved else " (not moved: only a full run of the scheduled pack moves it)"))
    _say(f"  history:   {params.reports_path / 'history.html'}")
    _say(f"  manifest:  {res.run_dir / 'manifest.json'}")
    return 0


def _service_trail(args):
    """(service user, audit trail) when the command was given a run file with an access policy."""
    from . import access

    if not getattr(args, "params", None):
        return None
    p = _params(args, check_input=False)
    if not p.policy_path:
        return None
    ident, trail = access.governed(p.policy_path, None)
    return ident.user, trail


def _policy(p):
    from .errors import ParameterError

    if not p.policy_path:
        raise ParameterError("the run parameter file sets no access_policy (users, roles, scopes)")
    return p.policy_path


def cmd_users(args) -> int:
    import json

    from . import access

    if getattr(args, "action", None) == "set-password":
        return _set_password(args)
    if not args.params:
        from .errors import InvalidArgument

        raise InvalidArgument("users needs --params FILE (the run file naming the access policy)")
    rows = access.users(access.load_policy(_policy(_params(args, check_input=False))))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for r in rows:
        scope = r["rep_id"] or ",".join(r["regions"] + r["teams"]) or "all"
        _say(f"{r['user']:<16} {r['role']:<12} {scope:<20} export={'yes' if r['export'] else 'no':<4}"
             f" pii={'yes' if r['pii'] else 'no'}")
    return 0


def _set_password(args) -> int:
    """``saleslab users set-password --params P USER``: an scrypt hash into serve.passwords (0600)."""
    import getpass

    from . import access
    from .errors import InvalidArgument, ParameterError
    from .serve.auth import set_password
    from .serve.params import ServeSettings

    if not args.name:
        raise InvalidArgument("users set-password needs the user name: saleslab users set-password --params P USER")
    p = _params(args, check_input=False)
    policy = access.load_policy(_policy(p))
    if args.name not in policy.users:
        raise access.AccessDenied(f"user {args.name!r} has no entry in the access policy {p.policy_path}: "
                                  f"no password set")
    settings = p.serve or ServeSettings()
    if settings.identity != "password":
        raise ParameterError(f"{args.params}: serve.identity is {settings.identity}: the proxy signs users in, "
                             f"no password is used")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise InvalidArgument("no terminal to ask the password on: give it on standard input with --password-stdin")
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise InvalidArgument("the two passwords differ: nothing changed")
    path = p.path(settings.passwords)
    set_password(path, args.name, password, policy)
    _ident, trail = access.governed(p.policy_path, None)
    trail.record(_ident.user, "change", table="passwords", change={"set_password": args.name})
    _say(f"password of {args.name} set in {path}")
    return 0


def cmd_serve(args) -> int:
    from .serve.app import serve

    serve(args.params, host=args.host, port=args.port, certfile=args.certfile, keyfile=args.keyfile,
          reports=args.reports, root_dir=args.pages)
    return 0


def cmd_export(args) -> int:
    import hashlib
    import os

    from . import access
    from .engine import connect
    from .errors import InvalidArgument
    from .report.export import neutralise

    p = _params(args, check_input=False)
    ident, trail = access.governed(_policy(p), args.user)
    access.require_export(ident, trail, args.table)
    keyring = p.keyring()
    with connect(p.warehouse_path, p.engine, p.duckdb_config(), identity=ident, trail=trail,
                 keyring=keyring) as eng:
        df = eng.execute(eng.table(args.table))
    df = df.drop(columns=[c for c in ("_source", "_file", "_line") if c in df.columns])
    out = Path(args.out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        neutralise(df).to_csv(tmp, index=False, encoding="utf-8-sig")
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InvalidArgument(f"--out {out}: cannot write there ({e.strerror or e})") from None
    sealed = ident.pii and keyring is not None
    if sealed:  # personal data in clear from an encrypted warehouse: the export is encrypted too
        from . import crypto

        crypto.encrypt_file(tmp, tmp, keyring)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    # recorded before the file appears: an export the trail cannot record does not happen
    trail.record(ident.user, "export", table=args.table, filter=ident.describe(), rows=len(df),
                 file=str(out.resolve()), file_sha256=digest)
    os.replace(tmp, out)
    _say(f"{len(df):,} rows of {args.table} for {ident.user} -> {out} (sha256 {digest[:12]})"
         + (f"; encrypted, it holds personal data in clear: `saleslab keys decrypt --params {args.params} "
            f"--in {out} --out FILE.csv`" if sealed else ""))
    return 0


def cmd_audit(args) -> int:
    import json

    from . import access

    policy = access.load_policy(_policy(_params(args, check_input=False)))
    trail = access.open_trail(policy)
    if args.action == "prune":
        dropped = trail.prune()
        trail.record(policy.service_user, "change", table="audit", change={"pruned": dropped})
        _say(f"{dropped} entries older than the retention dropped")
        return 0
    res = trail.verify()
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
    else:
        _say(f"{res['log']}: {res['entries']} entries, " + ("ok" if res["ok"] else
             f"BROKEN at entry {res['first_bad']}" + (f" ({res['reason']})" if res.get("reason") else "")))
    return 0 if res["ok"] else 9


def cmd_check(args) -> int:
    p = _params(args)
    _require_engine(p.engine)
    _say(f"{args.params}: ok (engine {p.engine}; stages: {', '.join(p.stage_list)})")
    return 0


def engine_missing(engine: str) -> list[str]:
    """What the engine needs and this installation lacks, one line each with the install command."""
    import importlib.util

    if engine == "spark-connect":  # a thin client: pyspark and its connect extra, no Java here
        return [f"engine spark-connect: the Python package {m} is not installed — install the extra: "
                f".venv/bin/pip install 'pyspark[connect]'" for m in ("pyspark", "grpc")
                if importlib.util.find_spec(m) is None][:1]
    if engine != "pyspark":
        return []
    from .engine import java_available

    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("engine pyspark: the Python package pyspark is not installed — install the extra: "
                       ".venv/bin/pip install -e '.[spark]'")
    if not java_available():
        missing.append("engine pyspark: no Java runtime (java on PATH) — install one: "
                       "sudo apt-get install -y default-jdk-headless (or: make system-deps DEPS=java)")
    return missing


def _require_engine(engine: str) -> None:
    from .errors import ParameterError

    missing = engine_missing(engine)
    if missing:
        raise ParameterError("\n".join(missing))


def cmd_stages(args) -> int:
    from .config import available_stages
    from .report import i18n

    lang = args.language or (_params(args, check_input=False).language if args.params else "zh-CN")
    for s in available_stages():
        _say(f"{s:<20} {i18n.t(s, lang)}")
    return 0


def cmd_schedule(args) -> int:
    from .schedule import write_schedule

    s = write_schedule(args.params, args.cron, args.out)
    _say(f"wrote {s.timer}\n      {s.service}\n  OnCalendar={s.on_calendar}  (cron \"{args.cron}\")")
    _say(f"  runs:      {' '.join(s.command)}")
    _say(f"  install:   {s.install}")
    _say(f"  or crontab (crontab -e), the same schedule:\n{s.crontab}")
    return 0


def cmd_lab(args) -> int:
    """JupyterLab on the notebooks folder; --allow-root when run as root (JupyterLab refuses otherwise)."""
    import os

    from .config import NOTEBOOKS

    jupyter = Path(sys.executable).parent / "jupyter"
    argv = [str(jupyter) if jupyter.exists() else "jupyter", "lab", str(NOTEBOOKS)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    argv += args.extra
    _say(" ".join(argv))
    if args.dry_run:
        return 0
    os.execvp(argv[0], argv)
    return 0


def _warehouse_path(args) -> Path:
    from .errors import ParameterError

    if args.params:
        return _params(args, check_input=False).warehouse_path
    if not args.warehouse:
        raise ParameterError("give --params FILE or --warehouse DIR")
    return Path(args.warehouse).absolute()


def cmd_warehouse(args) -> int:
    from .ingest import store
    from .locks import warehouse_lock

    wh = _warehouse_path(args)
    if args.action == "list":
        versions = store.list_versions(wh)
        if not versions:
            _say(f"{wh}: no published versions")
        for v in versions:
            _say(f"{'*' if v['current'] else ' '} {v['version']}  {v['created']}  {v['files']} files, "
                 f"{v['rows_read']:,} rows read, {v['order_lines']:,} order lines")
        return 0
    trail = _service_trail(args)
    if trail is not None:
        trail[1].record(trail[0], "change", table="warehouse", change={"rollback_to": args.to or "previous"},
                        outcome="started")
    with warehouse_lock(wh, wait=0):
        to = store.rollback(wh, args.to)
    if trail is not None:
        trail[1].record(trail[0], "change", table="warehouse", change={"rollback_to": str(to)})
    _say(f"{wh} now points at version {to}")
    return 0


def _key_in_environment(key_file):
    """The run's key file as SALESLAB_KEY_FILE while the run lasts, so the ingest and the stage
    kernels of `saleslab run` encrypt and decrypt with it (see saleslab.crypto)."""
    import contextlib
    import os

    from .crypto import ENV_KEY_FILE

    @contextlib.contextmanager
    def scope():
        if not key_file or os.environ.get(ENV_KEY_FILE):
            yield
            return
        os.environ[ENV_KEY_FILE] = str(key_file)
        try:
            yield
        finally:
            os.environ.pop(ENV_KEY_FILE, None)
    return scope()


def cmd_keys(args) -> int:
    from . import crypto
    from .errors import ParameterError
    from .ingest import store
    from .locks import reports_lock, warehouse_lock

    p = _params(args, check_input=False)
    kf = Path(args.key_file).absolute() if args.key_file else p.key_file_path
    if kf is None:
        raise ParameterError(f"{args.params}: key 'encryption.key_file' is not set (or give --key-file)")
    trail = _service_trail(args)
    if trail is not None:
        trail[1].record(trail[0], "change", table="keys", change={"keys": args.action}, outcome="started")
    if args.action == "decrypt":
        if not (args.input and args.out):
            raise ParameterError("keys decrypt needs --in FILE and --out FILE")
        crypto.decrypt_file(args.input, args.out, crypto.KeyRing.from_file(kf))
        if trail is not None:
            trail[1].record(trail[0], "export", file=str(Path(args.out).resolve()), change={"decrypted": args.input})
        _say(f"{args.input} -> {args.out} (decrypted)")
        return 0
    if args.action == "new":
        crypto.new_key_file(kf)
        _say(f"new 256-bit key {crypto.key_id(crypto.read_key_file(kf))} in {kf} (mode 0600; keep it outside "
             f"the repository and back it up: without it the encrypted warehouse cannot be read)")
        return 0
    wh = p.warehouse_path
    p.reports_path.mkdir(parents=True, exist_ok=True)
    folders = [store.versions_dir(wh), p.reports_path] + ([wh] if wh.is_dir() and not wh.is_symlink() else [])
    with warehouse_lock(wh, wait=p.safeguards.lock_wait_seconds), \
            reports_lock(p.reports_path, wait=p.safeguards.lock_wait_seconds):
        res = crypto.rotate_key_file(kf, folders, progress=_say)
    if trail is not None:
        trail[1].record(trail[0], "change", table="keys", change={"rotated_to": res["key_id"],
                                                                 "files": res["reencrypted"]})
    _say(f"rotated {kf}: {res['old_key_id']} -> {res['key_id']}; {res['reencrypted']:,} files re-encrypted, "
         f"{res['already_new']:,} already under the new key; the old key is kept in {res['old_key_file']}")
    return 0


def cmd_thresholds(args) -> int:
    from .config import stage_thresholds

    rows = stage_thresholds()
    if args.area:
        rows = {k: v for k, v in rows.items() if v["area"] == args.area}
        if not rows:
            from .params import area_models

            raise SalesLabError(f"unknown area {args.area!r}; allowed: {', '.join(area_models())}")
    for area in sorted({v["area"] for v in rows.values()}, key=lambda a: (a != "facts", a)):
        _say(f"{area}:")
        for name, v in rows.items():
            if v["area"] == area:
                stages = ", ".join(v["stages"]) if area != "facts" else "every stage"
                _say(f"  {name} ({v['type']}, default {v['default']!r}; {stages})")
                _say(f"      {v['help']}")
    return 0


def cmd_actions(args) -> int:
    """``saleslab actions list|done|dismiss``: the actions database of the run file (stage 13_actions)."""
    import datetime as dt
    import json

    from . import access
    from .actions import ActionStore, actions_table
    from .access import AccessDenied
    from .errors import InvalidArgument

    p = _params(args, check_input=False)
    path = p.actions_database_path
    if not path.is_file():
        raise InvalidArgument(f"actions database {path} does not exist yet (run the 13_actions stage first)")
    ident, trail = access.governed(p.policy_path, args.user) if p.policy_path else (None, None)
    user = ident.user if ident is not None else (args.user or "saleslab")

    def audit(action, **what):
        if trail is not None:
            trail.record(user, action, filter=ident.describe(), **what)

    with ActionStore(path, audit=audit, user=user) as store:
        table = actions_table(store, dt.date.today())
        if ident is not None and ident.scope != "all":
            # the database is not behind the engine's row filter: a rep or supervisor sees (and may
            # change) only the actions on their customers or owned by them / a rep in their scope
            from .actions import visible
            from .engine import connect
            from .ingest import store as warehouse_store

            every = set(table["action_id"])
            if warehouse_store.current(p.warehouse_path) is not None:
                with connect(p.warehouse_path, "duckdb", p.duckdb_config(), identity=ident, trail=trail,
                             keyring=p.keyring()) as eng:
                    table = visible(eng, table)
            else:  # no warehouse to scope by: only the user's own actions
                table = table[table["owner"].astype(str).isin({ident.user, ident.rep_id or ident.user})]
            hidden = every - set(table["action_id"])
        else:
            hidden = set()
        if args.action == "list":
            if not args.all:
                table = table[table["action_status"].isin(["status_open", "status_overdue"])]
            if args.owner:
                table = table[table["owner"] == args.owner]
            audit("read", table="actions", rows=len(table))
            cols = ["action_id", "kind", "target", "owner", "due_date", "action_status", "created"]
            if args.json:
                print(json.dumps(table[cols].to_dict("records"), ensure_ascii=False))
            else:
                for r in table[cols].itertuples(index=False):
                    _say("  ".join(f"{v}" for v in r))
                _say(f"{len(table)} action(s) in {path}")
            return 0
        if not args.ids:
            raise InvalidArgument(f"actions {args.action} needs one or more action ids (see `saleslab actions list`)")
        if ident is not None and ident.scope == "own":
            owners = dict(zip(table["action_id"], table["owner"]))
            foreign = [i for i in args.ids if i in hidden or (i in owners and owners[i] != ident.rep_id)]
        else:
            foreign = [i for i in args.ids if i in hidden]
        if foreign:
            audit("deny", table="actions", outcome="denied", change={"action": args.action, "action_ids": foreign})
            raise AccessDenied(f"user {user} may change only actions in their scope"
                               f"{' that they own' if ident is not None and ident.scope == 'own' else ''}; "
                               f"not theirs: {', '.join(foreign)}")
        status = {"done": "done", "dismiss": "dismissed"}[args.action]
        changed = store.set_status(args.ids, status, user=user, note=args.note)
    _say(f"{len(changed)} action(s) marked {status}" + (f": {', '.join(changed)}" if changed else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="saleslab",
        description="SalesLab: turn messy CRM/ERP/POS/e-commerce/distributor exports into a clean "
                    "warehouse and a report pack of executed notebooks.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"saleslab {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo-data", help="generate realistic, messy demo exports and their answer key")
    d.add_argument("--out", required=True, help="output folder (exports/ and truth/ are written inside)")
    d.add_argument("--scale", choices=["small", "medium", "large"], default="small",
                   help="small ≈ 50k, medium ≈ 1M, large ≈ 10M order lines (default: small)")
    d.add_argument("--seed", type=int, default=42, help="random seed; same seed, same files (default: 42)")
    d.set_defaults(func=cmd_demo_data)

    i = sub.add_parser("ingest", help="read every source export into the warehouse (Parquet)")
    i.add_argument("--params", help="run parameter file (takes input_dir, sources_dir, warehouse_dir from it)")
    i.add_argument("--input", help="folder with the exports (instead of --params)")
    i.add_argument("--sources", default="parameters/sources", help="folder of source mapping YAML files")
    i.add_argument("--warehouse", help="warehouse folder to (re)build")
    i.add_argument("--full", action="store_true",
                   help="read every file again (default: reuse files unchanged since the last ingest)")
    i.add_argument("--allow-shrink", action="store_true",
                   help="publish even when a table loses more than safeguards.max_shrink of its rows")
    i.add_argument("--engine", choices=["duckdb", "pyspark", "spark-connect"],
                   help="engine of the cleaning layer (default: the parameter file's, else duckdb)")
    i.add_argument("--spark-remote", help="Spark Connect server of --engine spark-connect: sc://HOST:PORT")
    i.set_defaults(func=cmd_ingest)

    r = sub.add_parser("run", help="ingest, then execute the stage notebooks and write reports/<run-id>/")
    r.add_argument("--params", required=True, help="run parameter file, e.g. parameters/demo.yaml")
    r.add_argument("--stages", help="comma-separated stages to run (default: all; see `saleslab stages`)")
    r.add_argument("--engine", choices=["duckdb", "pyspark", "spark-connect"],
                   help="override the parameter file's engine")
    r.add_argument("--spark-remote", help="Spark Connect server of --engine spark-connect: sc://HOST:PORT")
    r.add_argument("--language", choices=["zh-CN", "en"], help="override the report language")
    r.add_argument("--no-ingest", action="store_true", help="use the warehouse as it is")
    r.add_argument("--run-id", help="name of the run folder: letters, digits, - and _ (default: timestamp and run name)")
    r.add_argument("--allow-shrink", action="store_true",
                   help="let the ingest publish even when a table loses more than safeguards.max_shrink of its rows")
    r.add_argument("--user", help="the user the pack is for: it shows only their data (default: the access "
                                  "policy's service user)")
    r.add_argument("--notify", action="store_true",
                   help="e-mail the summary and PDF (or the failing stage) through the run file's notify: server, "
                        "and each delivery: recipient the pack of their own scope")
    r.set_defaults(func=cmd_run)

    u = sub.add_parser("users", help="list the users of the access policy with their role, scope and rights, or "
                                     "set a user's password for the pages of `saleslab serve`",
                       description="saleslab users --params P: list the users.\n"
                                   "saleslab users set-password --params P USER: set USER's password for `saleslab serve`.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    u.add_argument("--params", help="run parameter file (takes access_policy from it)")
    u.add_argument("--json", action="store_true", help="print a JSON list")
    us = u.add_subparsers(dest="action", metavar="ACTION")
    sp = us.add_parser("set-password", help="store a user's password for the login of `saleslab serve`",
                       description="Store USER's password for the pages of `saleslab serve`: an scrypt hash in the "
                                   "run file's serve.passwords (mode 0600). Asked twice on the terminal, or read "
                                   "from the first line of standard input with --password-stdin. Users not in the "
                                   "access policy are refused.")
    sp.add_argument("name", metavar="USER", help="the access policy's user")
    sp.add_argument("--params", required=True, help="run parameter file (access_policy, serve.passwords)")
    sp.add_argument("--password-stdin", action="store_true", help="read the password from standard input (no prompt)")
    sp.set_defaults(func=cmd_users)
    u.set_defaults(func=cmd_users)

    sv = sub.add_parser("serve", help="publish the dashboard, the customer 360 page and the latest report pack behind "
                                      "a login (Voila; each person sees their own data)",
                        description="Serve the stakeholder pages of a run file: a sales dashboard, a customer\n"
                                    "360 page with search and the newest report pack the user may see, behind the\n"
                                    "login of the run file's serve: section (identity password: `saleslab users\n"
                                    "set-password`; identity proxy: a trusted proxy's header). Binds 127.0.0.1 unless\n"
                                    "--host; refuses to start without serve: and access_policy. See docs/serve.md.",
                        epilog="example:\n  saleslab users set-password --params parameters/demo.yaml ceo\n"
                               "  saleslab serve --params parameters/demo.yaml --port 8866\n"
                               "  saleslab serve --params parameters/demo.yaml --host 0.0.0.0 "
                               "--certfile site.crt --keyfile site.key",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    sv.add_argument("--params", required=True, help="run parameter file (serve:, access_policy, reports_dir, language)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    sv.add_argument("--port", type=int, default=8866, help="port (default: 8866; 0: any free port, printed)")
    sv.add_argument("--certfile", help="TLS certificate chain (PEM): serve https, TLS 1.2 at least (1.3 preferred)")
    sv.add_argument("--keyfile", help="the certificate's private key (PEM), unless it is in --certfile")
    sv.add_argument("--reports", help="reports folder the /pack/ page serves from (default: the run file's reports_dir)")
    sv.add_argument("--pages", help="folder of the page notebooks (default: notebooks/pages/ of SalesLab)")
    sv.set_defaults(func=cmd_serve)

    e = sub.add_parser("export", help="write the rows of a warehouse table a user may export (CSV)")
    e.add_argument("--params", required=True, help="run parameter file (warehouse, access_policy)")
    e.add_argument("--user", required=True, help="who exports: the rows and columns are theirs, the export is audited")
    e.add_argument("--table", required=True, help="warehouse table, e.g. customers")
    e.add_argument("--out", required=True, help="CSV file to write (formula-safe, UTF-8 with BOM)")
    e.set_defaults(func=cmd_export)

    a = sub.add_parser("audit", help="verify the audit trail (hash chain and anchor), or prune it to the retention")
    a.add_argument("action", choices=["verify", "prune"])
    a.add_argument("--params", required=True, help="run parameter file (takes access_policy from it)")
    a.add_argument("--json", action="store_true", help="print {log, entries, ok, first_bad} as JSON")
    a.set_defaults(func=cmd_audit)

    c = sub.add_parser("check-params", help="validate a run parameter file and exit")
    c.add_argument("params")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("stages", help="list the stage notebooks in run order, with their titles")
    s.add_argument("--params", help="run parameter file (its language titles the stages)")
    s.add_argument("--language", choices=["zh-CN", "en"], help="language of the titles (default: the run "
                                                                "file's, else zh-CN)")
    s.set_defaults(func=cmd_stages)

    sc = sub.add_parser("schedule", help="write a systemd timer + service (and print a crontab line) that run a "
                                         "parameter file on a schedule")
    sc.add_argument("--params", required=True, help="run parameter file the scheduled run uses")
    sc.add_argument("--cron", required=True, help='when, as a cron expression, e.g. "0 7 1 * *" (07:00 on the 1st)')
    sc.add_argument("--out", help="folder for the two unit files (default: .tmp/schedule of the project)")
    sc.set_defaults(func=cmd_schedule)

    lb = sub.add_parser("lab", help="start JupyterLab on the stage notebooks (adds --allow-root as root)")
    lb.add_argument("--dry-run", action="store_true", help="print the command only")
    lb.add_argument("extra", nargs="*", help="more JupyterLab options (after --)")
    lb.set_defaults(func=cmd_lab)

    w = sub.add_parser("warehouse", help="list the warehouse's versions, or roll back to an earlier one")
    w.add_argument("action", choices=["list", "rollback"])
    w.add_argument("--params", help="run parameter file (takes warehouse_dir from it)")
    w.add_argument("--warehouse", help="warehouse folder (instead of --params)")
    w.add_argument("--to", help="version to roll back to (default: the one before the current)")
    w.set_defaults(func=cmd_warehouse)

    t = sub.add_parser("thresholds", help="list the analysis parameters a run file may set under thresholds:")
    t.add_argument("--area", help="only this area's (facts, channels, customers, ...)")
    t.set_defaults(func=cmd_thresholds)

    k = sub.add_parser("keys", help="create the warehouse key, rotate it (re-encrypt every encrypted file), or "
                                    "decrypt an encrypted export")
    k.add_argument("action", choices=["new", "rotate", "decrypt"])
    k.add_argument("--params", required=True, help="run parameter file (encryption.key_file, warehouse_dir, "
                                                   "reports_dir)")
    k.add_argument("--key-file", help="key file to use instead of the parameter file's encryption.key_file")
    k.add_argument("--in", dest="input", help="decrypt: an encrypted export (saleslab export of personal data)")
    k.add_argument("--out", help="decrypt: where to write the plaintext")
    k.set_defaults(func=cmd_keys)

    ac = sub.add_parser("actions", help="list the owned actions (stage 13_actions), or mark some done / dismissed "
                                        "(audited when the run file has an access policy)")
    ac.add_argument("action", choices=["list", "done", "dismiss"])
    ac.add_argument("ids", nargs="*", help="done / dismiss: action ids (from `saleslab actions list`)")
    ac.add_argument("--params", required=True, help="run parameter file (actions.database, access_policy)")
    ac.add_argument("--user", help="who makes the change (the access policy's user; default its service user)")
    ac.add_argument("--note", help="done / dismiss: a note kept with the action")
    ac.add_argument("--owner", help="list: only this owner's actions")
    ac.add_argument("--all", action="store_true", help="list: closed actions too")
    ac.add_argument("--json", action="store_true", help="list: JSON instead of text")
    ac.set_defaults(func=cmd_actions)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SalesLabError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 — disk full and out of memory from any library: one line
        kind = _resource_error(e)
        if kind == "disk":
            where = f" writing {e.filename}" if getattr(e, "filename", None) else ""
            print(f"error: disk full{where}; nothing half-written was left behind — free some space and run again",
                  file=sys.stderr, flush=True)
            return 5
        if kind == "memory":
            print("error: out of memory; nothing half-written was left behind (give DuckDB more with "
                  "duckdb.memory_limit, read a smaller input, or use a larger machine)", file=sys.stderr, flush=True)
            return 6
        raise


def _resource_error(e: BaseException | None) -> str | None:
    """``disk`` / ``memory`` when ``e`` (or what caused it) is a full disk or exhausted memory, as
    Python, DuckDB, Arrow or a kernel report them; else None."""
    import errno

    seen = 0
    while e is not None and seen < 5:
        text = f"{type(e).__name__}: {e}"
        if getattr(e, "errno", None) == errno.ENOSPC or "No space left on device" in text:
            return "disk"
        if isinstance(e, MemoryError) or "OutOfMemory" in type(e).__name__ or "Out of Memory" in text:
            return "memory"
        e, seen = e.__cause__ or e.__context__, seen + 1
    return None


if __name__ == "__main__":
    sys.exit(main())
