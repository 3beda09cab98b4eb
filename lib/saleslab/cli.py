"""``saleslab`` command line: thin over the library. Errors print without a traceback."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .errors import SalesLabError

EPILOG = """examples:
  saleslab demo-data --out data/demo --scale small --seed 42
  saleslab ingest --params parameters/demo.yaml
  saleslab run --params parameters/demo.yaml
  saleslab run --params parameters/monthly.yaml --stages 00_data_quality,01_overview --language en
  saleslab thresholds --area channels          # what a run file may set under thresholds:
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

    overrides = {k: getattr(args, k, None) for k in ("engine", "language")}
    if getattr(args, "stages", None):
        overrides["stages"] = [s.strip() for s in args.stages.split(",") if s.strip()]
    if getattr(args, "no_ingest", False):
        overrides["ingest"] = False
    return load_params(args.params, overrides, check_input=check_input)


def cmd_ingest(args) -> int:
    from .errors import IngestError, ParameterError
    from .ingest.load import ingest
    from .ingest.store import Safeguards

    cleaning, safeguards, duck = None, Safeguards(), None
    if args.params:
        p = _params(args)
        input_dir, sources, warehouse = p.input_path, p.sources_path, p.warehouse_path
        cleaning, safeguards, duck = p.cleaning, p.safeguards, p.duckdb_config()
    else:
        if not (args.input and args.warehouse):
            raise ParameterError("give --params FILE, or --input DIR and --warehouse DIR")
        input_dir, sources, warehouse = Path(args.input), Path(args.sources), Path(args.warehouse)
    if args.allow_shrink:
        safeguards = safeguards.model_copy(update={"allow_shrink": True})
    _say(f"ingesting {input_dir} -> {warehouse}")
    rep = ingest(input_dir, sources, warehouse, progress=_say, cleaning=cleaning,
                 incremental=not args.full, safeguards=safeguards, duckdb_config=duck)
    tot = rep.totals()
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
    res = run(params, progress=_say, run_id=args.run_id)
    m = res.manifest
    _say(f"\nrun {m['run_id']} finished in {m['seconds']:.1f}s")
    _say(f"  report:    {res.run_dir / 'index.html'}")
    _say(f"  latest:    {params.reports_path / 'latest'}")
    _say(f"  manifest:  {res.run_dir / 'manifest.json'}")
    return 0


def cmd_check(args) -> int:
    p = _params(args)
    _say(f"{args.params}: ok (stages: {', '.join(p.stage_list)})")
    return 0


def cmd_stages(args) -> int:
    from .config import available_stages

    for s in available_stages():
        _say(s)
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
    with warehouse_lock(wh, wait=0):
        to = store.rollback(wh, args.to)
    _say(f"{wh} now points at version {to}")
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


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="saleslab",
        description="SalesLab: turn messy CRM/ERP/POS/e-commerce/distributor exports into a clean "
                    "warehouse and a report pack of executed notebooks.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    i.set_defaults(func=cmd_ingest)

    r = sub.add_parser("run", help="ingest, then execute the stage notebooks and write reports/<run-id>/")
    r.add_argument("--params", required=True, help="run parameter file, e.g. parameters/demo.yaml")
    r.add_argument("--stages", help="comma-separated stages to run (default: all; see `saleslab stages`)")
    r.add_argument("--engine", choices=["duckdb", "pyspark"], help="override the parameter file's engine")
    r.add_argument("--language", choices=["zh-CN", "en"], help="override the report language")
    r.add_argument("--no-ingest", action="store_true", help="use the warehouse as it is")
    r.add_argument("--run-id", help="name of the run folder: letters, digits, - and _ (default: timestamp and run name)")
    r.add_argument("--allow-shrink", action="store_true",
                   help="let the ingest publish even when a table loses more than safeguards.max_shrink of its rows")
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("check-params", help="validate a run parameter file and exit")
    c.add_argument("params")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("stages", help="list the stage notebooks in run order")
    s.set_defaults(func=cmd_stages)

    w = sub.add_parser("warehouse", help="list the warehouse's versions, or roll back to an earlier one")
    w.add_argument("action", choices=["list", "rollback"])
    w.add_argument("--params", help="run parameter file (takes warehouse_dir from it)")
    w.add_argument("--warehouse", help="warehouse folder (instead of --params)")
    w.add_argument("--to", help="version to roll back to (default: the one before the current)")
    w.set_defaults(func=cmd_warehouse)

    t = sub.add_parser("thresholds", help="list the analysis parameters a run file may set under thresholds:")
    t.add_argument("--area", help="only this area's (facts, channels, customers, ...)")
    t.set_defaults(func=cmd_thresholds)
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
