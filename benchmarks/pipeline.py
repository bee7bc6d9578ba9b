"""Benchmark of the Dagster pipeline: from a package landing to its validation result, through
the intake sensor and ``filing_job``, on a persistent Dagster instance.

1. one package of ``--rows`` (10,000) guarantee rows;
2. a period of ``--guarantors`` (100) packages of ``--rows`` rows, all landing at once, the runs executed by
   ``--workers`` processes (what the run queue's ``max_concurrent_runs`` does; 2 = the cores here).

Prints wall times, the time from landing to each ``validation_result`` materialization, the per-step
layout, and peak RSS per process (the kernel's ``ru_maxrss`` via wait4). Each part runs in its own
process, so its RSS is its own.

    .venv/bin/python benchmarks/pipeline.py [--rows 10000] [--guarantors 100] [--workers 2]
                                            [--instance sqlite|postgres] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import Run, run_measured  # noqa: E402

PERIOD = "2026-10"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--guarantors", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--instance", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=os.environ.get("DANBAO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--role", default="main", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role != "main":
        return {"generate": _generate, "single": _single, "period": _period, "worker": _worker}[args.role](args)

    work = Path(tempfile.mkdtemp(prefix="danbao-bench-"))
    databases: list[str] = []
    try:
        print(f"pipeline benchmark: {args.rows:,} rows per package; instance on {args.instance}; work folder {work}")
        started = time.perf_counter()
        _child(args, "generate", work / "single", guarantors=1)
        _child(args, "generate", work / "period", guarantors=args.guarantors)
        print(f"  (generated 1 + {args.guarantors} packages in {time.perf_counter() - started:.1f}s, not counted)")
        for case in ("single", "period"):
            env = _environment(args, work / case, databases)
            run, report = _child(args, case, work / case, env=env)
            _print(case, args, run, report)
    finally:
        _drop_databases(args, databases)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


# -- the parent: processes, environments, output ---------------------------------------------------


def _child(args, role: str, work: Path, guarantors: int | None = None, env: dict | None = None,
           index: int = 0) -> tuple[Run, dict]:
    argv = [sys.executable, __file__, "--role", role, "--work", str(work), "--rows", str(args.rows),
            "--guarantors", str(guarantors or args.guarantors), "--workers", str(args.workers), "--index", str(index)]
    out = work / f"{role}-{index}.json"
    work.mkdir(parents=True, exist_ok=True)
    run = run_measured(argv, stdout=subprocess.DEVNULL) if env is None else _run_with_env(argv, env)
    if run.returncode != 0:
        raise SystemExit(f"{role} failed with exit code {run.returncode}")
    return run, json.loads(out.read_text()) if out.exists() else {}


def _run_with_env(argv: list[str], env: dict) -> Run:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return run_measured(argv)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _environment(args, work: Path, databases: list[str]) -> dict:
    env = {"DANBAO_HOME": str(work / "home"), "DAGSTER_HOME": str(work / "dagster")}
    (work / "dagster").mkdir(parents=True, exist_ok=True)
    if args.instance == "sqlite":
        shutil.copyfile(ROOT / "dagster.yaml", work / "dagster" / "dagster.yaml")
    else:
        from sqlalchemy import create_engine, make_url, text

        admin = create_engine(args.pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        names = [f"danbao_bench_{os.getpid()}_{len(databases)}_{kind}" for kind in ("dagster", "store")]
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        databases.extend(names)
        url = make_url(args.pg_url)
        config = (ROOT / "dagster.yaml").read_text().split("# Runs, event logs")[0] + f"""
storage:
  postgres:
    postgres_db:
      hostname: {url.host}
      port: {url.port or 5432}
      username: {url.username}
      password: "{url.password or ''}"
      db_name: {names[0]}
      scheme: postgresql+psycopg2
concurrency:
  runs:
    max_concurrent_runs: {args.workers}
telemetry:
  enabled: false
"""
        (work / "dagster" / "dagster.yaml").write_text(config)
        env["DANBAO_DATABASE_URL"] = url.set(database=names[1]).render_as_string(hide_password=False)
    return env


def _drop_databases(args, databases: list[str]) -> None:
    if not databases:
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(args.pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in databases:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _print(case: str, args, run: Run, report: dict) -> None:
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in report["steps_median_s"].items())
    if case == "single":
        print(f"\n1 package × {args.rows:,} rows (one process: sensor ticks, then the run in-process)")
        print(f"  landing → validation_result materialized: {report['to_result_s']:.2f}s"
              f"   (sensor pickup {report['pickup_s']:.2f}s, run to result {report['to_result_s'] - report['pickup_s']:.2f}s;"
              f" whole run {report['run_s']:.2f}s; status {report['status']})")
        print(f"  steps (received_package → parsed_tables → validation_result → accepted_filing): {steps}")
        print(f"  process wall {run.seconds:.1f}s incl. ~{report['import_s']:.1f}s imports; peak RSS {run.peak_rss_mb:.0f} MB")
        return
    print(f"\n{args.guarantors} packages × {args.rows:,} rows, one run per package, {args.workers} run processes")
    print(f"  sensor pickup of all {args.guarantors}: {report['pickup_s']:.1f}s")
    print(f"  landing → last validation_result: {report['to_last_result_s']:.1f}s"
          f"   (first {report['to_first_result_s']:.1f}s; median per run {report['run_median_s']:.2f}s;"
          f" throughput {report['runs'] / report['runs_wall_s'] * 60:.0f} filings/min)")
    print(f"  statuses: {report['statuses']}")
    print(f"  steps, median: {steps}")
    print(f"  peak RSS: sensor process {report['sensor_peak_rss_mb']:.0f} MB; run processes "
          + ", ".join(f"{m:.0f} MB" for m in report["worker_peak_rss_mb"]) + f"; whole case wall {run.seconds:.1f}s")


# -- the children ------------------------------------------------------------------------------------


def _generate(args) -> int:
    from connectors.synthetic import generate_period

    generate_period(Path(args.work) / "packages", args.guarantors, args.rows, PERIOD, zip=True)
    return 0


def _setup(args):
    import_started = time.perf_counter()
    from filings.intake import load_registry
    from pipelines.definitions import build_defs
    from pipelines.local import local_instance
    from pipelines.resources import StoreResource
    from pipelines.runner import InProcessRunner

    defs = build_defs()
    with StoreResource().session() as session:
        load_registry(session, Path(args.work) / "packages" / "registry.csv")
    runner = InProcessRunner(defs, local_instance(), log_level="CRITICAL")
    return runner, time.perf_counter() - import_started


def _drop_all(args) -> tuple[float, list[Path]]:
    landing = Path(os.environ["DANBAO_HOME"]) / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    packages = sorted((Path(args.work) / "packages").glob("*.zip"))
    dropped = time.time()
    for package in packages:
        shutil.copyfile(package, landing / package.name)
    return dropped, packages


def _single(args) -> int:
    runner, import_s = _setup(args)
    dropped, _ = _drop_all(args)
    started = time.perf_counter()
    requests = runner.evaluate_sensor() + runner.evaluate_sensor()  # first look, second look
    pickup = time.perf_counter() - started
    [launched] = runner.launch(requests)
    result = _results(runner.instance, [launched.run_id])
    report = {
        "import_s": import_s,
        "pickup_s": pickup,
        "to_result_s": result["materialized"][0] - dropped,
        "run_s": launched.seconds,
        "status": result["statuses"],
        "steps_median_s": result["steps"],
    }
    Path(args.work, "single-0.json").write_text(json.dumps(report))
    return 0


def _period(args) -> int:
    import resource

    from dagster import RunRequest

    runner, _ = _setup(args)
    dropped, _ = _drop_all(args)
    started = time.perf_counter()
    requests: list[RunRequest] = runner.evaluate_sensor() + runner.evaluate_sensor()
    pickup = time.perf_counter() - started
    sensor_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.work, "requests.json").write_text(json.dumps(
        [{"job_name": r.job_name, "partition_key": r.partition_key, "tags": dict(r.tags)} for r in requests]))
    runs_started = time.perf_counter()
    measured: list[Run | None] = [None] * args.workers
    threads = [threading.Thread(target=lambda i=i: measured.__setitem__(i, run_measured(
        [sys.executable, __file__, "--role", "worker", "--work", args.work, "--workers", str(args.workers),
         "--index", str(i)]))) for i in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs_wall = time.perf_counter() - runs_started
    run_ids, seconds = [], []
    for i in range(args.workers):
        part = json.loads(Path(args.work, f"worker-{i}.json").read_text())
        run_ids += part["run_ids"]
        seconds += part["seconds"]
    result = _results(runner.instance, run_ids)
    report = {
        "pickup_s": pickup,
        "runs": len(run_ids),
        "runs_wall_s": runs_wall,
        "to_first_result_s": min(result["materialized"]) - dropped,
        "to_last_result_s": max(result["materialized"]) - dropped,
        "run_median_s": statistics.median(seconds),
        "statuses": result["statuses"],
        "steps_median_s": result["steps"],
        "sensor_peak_rss_mb": sensor_rss,
        "worker_peak_rss_mb": [m.peak_rss_mb for m in measured if m],
    }
    Path(args.work, "period-0.json").write_text(json.dumps(report))
    return 0


def _worker(args) -> int:
    from dagster import RunRequest

    from pipelines.definitions import build_defs
    from pipelines.local import local_instance
    from pipelines.runner import InProcessRunner

    requests = json.loads(Path(args.work, "requests.json").read_text())[args.index :: args.workers]
    runner = InProcessRunner(build_defs(), local_instance(), log_level="CRITICAL")
    launched = runner.launch([RunRequest(**r) for r in requests])
    Path(args.work, f"worker-{args.index}.json").write_text(
        json.dumps({"run_ids": [r.run_id for r in launched], "seconds": [r.seconds for r in launched]}))
    return 0


def _results(instance, run_ids: list[str]) -> dict:
    """validation_result materialization times, statuses and median step durations of ``run_ids``."""
    from dagster import DagsterEventType

    materialized, statuses, steps = [], {}, {}
    for run_id in run_ids:
        for record in instance.all_logs(run_id, of_type={DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.STEP_SUCCESS}):
            event = record.dagster_event
            if event.event_type == DagsterEventType.STEP_SUCCESS:
                steps.setdefault(event.step_key, []).append(event.event_specific_data.duration_ms / 1000)
            elif event.asset_key.to_user_string() == "validation_result":
                materialized.append(record.timestamp)
                status = event.event_specific_data.materialization.metadata["status"].value
                statuses[status] = statuses.get(status, 0) + 1
    order = ["received_package", "parsed_tables", "validation_result", "accepted_filing"]
    return {"materialized": materialized, "statuses": statuses,
            "steps": {k: statistics.median(steps[k]) for k in order if k in steps}}


if __name__ == "__main__":
    sys.exit(main())
