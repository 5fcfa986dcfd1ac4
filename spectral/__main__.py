"""Command line: ``python -m spectral run|report ...`` (see ``--help``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys

from spectral import experiments as ex

_DEVICES_HELP = (
    "comma-separated slots, one run per slot at a time: cpu, cpu,cpu (two CPU runs side by "
    "side) or cuda:0,cuda:1; each run gets max(1, cores // slots) torch threads, injected "
    "as `threads` (default %(default)s, spectral.experiments.DEFAULT_CPU_DEVICES)"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m spectral", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,report}")
    run = sub.add_parser("run", help="execute an experiment grid through papermill")
    run.add_argument("experiment", help="name of notebooks/experiments/<name>.py")
    run.add_argument(
        "--profile",
        default="smoke",
        help="a profile of notebooks/experiments/<name>.json (default smoke)",
    )
    run.add_argument("--seeds", type=int, nargs="+", help="replace the profile's seeds")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=(
            "override a notebook parameter: JSON, or plain text for a str parameter "
            "(seeds, profile and devices have their own flags)"
        ),
    )
    run.add_argument("--devices", default=ex.DEFAULT_CPU_DEVICES, help=_DEVICES_HELP)
    run.add_argument("--executor", default="local", choices=["local", "submitit-local", "slurm"])
    run.add_argument("--slurm", default="{}", help="JSON object of submitit SLURM parameters")
    run.add_argument("--results", help="results folder (default data/results)")
    run.add_argument(
        "--allow-emulated-bf16",
        action="store_true",
        help="run amp='bf16' runs on a CPU without native bfloat16 (refused by default: "
        "many times slower than float32 there)",
    )
    run.add_argument(
        "--budget",
        metavar="DURATION",
        help="e.g. 2h30m: start a run only if its epochs, at the epoch time measured on this "
        "device, end within the budget (local executor)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="list the runs (done/pending/running) with an ETA from measured epoch times",
    )
    rep = sub.add_parser("report", help="mean ± std table of an experiment's results")
    rep.add_argument("experiment")
    rep.add_argument("--metrics", nargs="+", default=["test_accuracy", "test_loss"])
    rep.add_argument("--results", help="results folder (default data/results)")
    child = sub.add_parser("_execute")  # one run, in the subprocess the runner starts
    child.add_argument("spec")
    return parser


def _slurm(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ex.ExperimentError(f"--slurm is not valid JSON ({error}): {text!r}") from None
    if not isinstance(value, dict):
        raise ex.ExperimentError(
            f'--slurm expects a JSON object such as \'{{"partition": "gpu"}}\', got {text!r}'
        )
    return value


def _echo(line: str) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=sys.stdout)  # above the progress bar, if one is shown


def _report(args) -> int:
    table = ex.report(args.experiment, metrics=args.metrics, results=args.results)
    print("mean ± std over complete runs; diverged and failed runs are counted, not averaged")
    print(table.to_string())
    return 0


def _run(args) -> int:
    overrides = ex.parse_overrides(args.experiment, args.profile, args.param)
    runs = ex.expand(args.experiment, args.profile, seeds=args.seeds, overrides=overrides)
    devices, slurm = args.devices.split(","), _slurm(args.slurm)
    if args.dry_run:
        print("\n".join(ex.describe(runs, devices=devices, results=args.results)))
        return 0
    statuses = ex.run_experiment(
        runs,
        devices=devices,
        results=args.results,
        executor=args.executor,
        slurm=slurm,
        log=_echo,
        progress=True,
        allow_emulated_bf16=args.allow_emulated_bf16,
        budget_s=None if args.budget is None else ex.parse_budget(args.budget),
    )
    for status in ("failed", ex.RUNNING_ELSEWHERE, ex.NOT_STARTED):
        ids = [k for k, v in statuses.items() if v == status]
        if ids:
            print(f"{len(ids)} run(s) {status}: {', '.join(ids)}", file=sys.stderr)
    return 1 if "failed" in statuses.values() else 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (2: a bad request, 130: Ctrl-C)."""
    # A process started in the background by a shell inherits SIGINT ignored, and Python
    # then raises no KeyboardInterrupt: restore it, so Ctrl-C (or a forwarded SIGINT)
    # always stops the runner and its runs as documented.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args = _parser().parse_args(argv)
    if args.command == "_execute":
        return ex.execute_spec(args.spec)
    try:
        return _report(args) if args.command == "report" else _run(args)
    except (ex.ExperimentError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as error:
        print(str(error) if isinstance(error, ex.Interrupted) else "interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
