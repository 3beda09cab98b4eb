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

    cleaning = None
    if args.params:
        p = _params(args)
        input_dir, sources, warehouse = p.input_path, p.sources_path, p.warehouse_path
        cleaning = p.cleaning
    else:
        if not (args.input and args.warehouse):
            raise ParameterError("give --params FILE, or --input DIR and --warehouse DIR")
        input_dir, sources, warehouse = Path(args.input), Path(args.sources), Path(args.warehouse)
    _say(f"ingesting {input_dir} -> {warehouse}")
    rep = ingest(input_dir, sources, warehouse, progress=_say, cleaning=cleaning,
                 incremental=not args.full)
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
    i.set_defaults(func=cmd_ingest)

    r = sub.add_parser("run", help="ingest, then execute the stage notebooks and write reports/<run-id>/")
    r.add_argument("--params", required=True, help="run parameter file, e.g. parameters/demo.yaml")
    r.add_argument("--stages", help="comma-separated stages to run (default: all; see `saleslab stages`)")
    r.add_argument("--engine", choices=["duckdb", "pyspark"], help="override the parameter file's engine")
    r.add_argument("--language", choices=["zh-CN", "en"], help="override the report language")
    r.add_argument("--no-ingest", action="store_true", help="use the warehouse as it is")
    r.add_argument("--run-id", help="name of the run folder (default: timestamp and run name)")
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("check-params", help="validate a run parameter file and exit")
    c.add_argument("params")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("stages", help="list the stage notebooks in run order")
    s.set_defaults(func=cmd_stages)
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


if __name__ == "__main__":
    sys.exit(main())
