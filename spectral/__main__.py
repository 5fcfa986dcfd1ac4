"""Command line: ``python -m spectral run|report ...`` (see ``--help``)."""

from __future__ import annotations

import argparse
import json
import sys

from spectral.experiments import expand, report, run_experiment


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"-p expects key=value (JSON values allowed), got {pair!r}")
        out[key] = _value(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spectral", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute an experiment grid through papermill")
    run.add_argument("experiment", help="name of notebooks/experiments/<name>.py")
    run.add_argument("--profile", default="smoke", help="smoke, cpu or paper (default smoke)")
    run.add_argument("--seeds", type=int, nargs="+", help="replace the profile's seeds")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--devices", default="cpu", help="comma-separated, e.g. cuda:0,cuda:1")
    run.add_argument("--executor", default="local", choices=["local", "submitit-local", "slurm"])
    run.add_argument("--slurm", default="{}", help="JSON parameters for submitit's SLURM executor")
    run.add_argument("--results", help="results folder (default data/results)")
    run.add_argument("--dry-run", action="store_true", help="list the runs, execute nothing")
    rep = sub.add_parser("report", help="mean ± std table of an experiment's results")
    rep.add_argument("experiment")
    rep.add_argument("--metrics", nargs="+", default=["test_accuracy", "test_loss"])
    rep.add_argument("--results", help="results folder (default data/results)")
    args = parser.parse_args(argv)

    if args.command == "report":
        print(report(args.experiment, metrics=args.metrics, results=args.results).to_string())
        return 0
    runs = expand(args.experiment, args.profile, seeds=args.seeds, overrides=_overrides(args.param))
    if args.dry_run:
        for r in runs:
            print(r.run_id, json.dumps(r.params))
        return 0
    statuses = run_experiment(
        runs,
        devices=args.devices.split(","),
        results=args.results,
        executor=args.executor,
        slurm=json.loads(args.slurm),
    )
    failed = [k for k, v in statuses.items() if v == "failed"]
    if failed:
        print(f"{len(failed)} run(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
