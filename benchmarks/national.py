"""A month at national scale through Dagster: G guarantors × R ledger rows landed at once, then the
pipeline on a PostgreSQL instance and store until every filing is validated, graded (the period job),
published as datasets and queued for delivery.

    .venv/bin/python benchmarks/national.py [--guarantors 4000] [--rows 2500] [--workers 2]
                                            [--layout batch|per_submission] [--batch-size 50]
                                            [--engine in_process|celery] [--process-per-run]

The coordinator evaluates the intake sensor (as the daemon would) and hands its run requests to
``--workers`` processes, each executing runs with Dagster's in-process executor on the shared
PostgreSQL instance; with ``--process-per-run`` each run gets a process of its own, as Dagster's
default run launcher starts one per run (what comparing ``--layout per_submission`` with batches needs:
the per-run cost is mostly that process's start). With ``--engine celery`` it starts ``--workers`` dagster-celery workers (the
machine's RabbitMQ, ``--broker``; ``deploy/celery.yaml``) on a queue of their own, and the run processes
execute ``filing_batch_job_celery``, whose one step per batch goes to the workers through the broker,
as a deployment's run launcher and workers would; the workers' start-up is outside the clock. It prints figures and ends with one JSON line:
``{"guarantors", "rows", "layout", "wall_s", "cpu_s", "filings_per_min", "dagster_events_per_filing",
"pg_connections_per_filing", "peak_rss_mb", ...}``. ``cpu_s`` is the CPU time of every process of the
run (coordinator and workers, user + system) excluding generation; PostgreSQL's own CPU is not in it.
New PostgreSQL connections are counted by the server (``pg_stat_database.sessions``) for both databases.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guarantors", type=int, default=4000)
    parser.add_argument("--rows", type=int, default=2500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--layout", choices=("batch", "per_submission"), default="batch")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--engine", choices=("in_process", "celery"), default="in_process")
    parser.add_argument("--process-per-run", action="store_true",
                        help="start a process for each run, as Dagster's default run launcher does (otherwise each "
                             "worker process executes its runs one after another)")
    parser.add_argument("--broker", default=os.environ.get("DANBAO_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//"))
    parser.add_argument("--pg-url", default=os.environ.get("DANBAO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--work", help="keep the working folder here (default: a temporary one, removed)")
    parser.add_argument("--role", default="main", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "worker":
        return _worker(args)
    if args.role == "run":
        return _one_run(args)
    work = Path(args.work or tempfile.mkdtemp(prefix="danbao-national-"))
    work.mkdir(parents=True, exist_ok=True)
    databases = _create_databases(args)
    try:
        return _main(args, work, databases)
    finally:
        _drop_databases(args, databases)
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


def _main(args, work: Path, databases: list[str]) -> int:
    from sqlalchemy import make_url

    url = make_url(args.pg_url)
    env = {**os.environ, "DANBAO_HOME": str(work / "home"), "DAGSTER_HOME": str(work / "dagster"),
           "DANBAO_DATABASE_URL": url.set(database=databases[1]).render_as_string(hide_password=False),
           "DANBAO_RUN_LAYOUT": args.layout, "DANBAO_BATCH_SIZE": str(args.batch_size),
           "DANBAO_PSEUDONYM_KEY": "national-benchmark-key-0123456789", "PYTHONPATH": str(ROOT),
           "DANBAO_ENGINE": args.engine}
    if args.engine == "celery":
        env.update({"DANBAO_CELERY_BROKER": args.broker, "DANBAO_CELERY_QUEUE": f"danbao-bench-{os.getpid()}",
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    _instance_yaml(work / "dagster", url, databases[0], args.workers)
    os.environ.update(env)
    celery = _start_celery(args, work, env) if args.engine == "celery" else []
    try:
        return _measure(args, work, databases, env, celery)
    finally:
        _stop_celery(celery)


def _measure(args, work: Path, databases: list[str], env: dict, celery: list) -> int:
    from connectors.synthetic import generate_period
    from validations.context import Period, now_beijing

    now = now_beijing()
    period = str(Period(now.year, now.month).previous().previous())
    started = time.perf_counter()
    packages = generate_period(work / "packages", args.guarantors, args.rows, period, zip=True)
    generated_s = time.perf_counter() - started
    print(f"generated {len(packages)} packages × {args.rows:,} rows in {generated_s:.1f}s", flush=True)

    sessions_before = _sessions(args, databases)
    cpu_before = _cpu()
    wall_started = time.perf_counter()
    runner = _runner(work / "packages" / "registry.csv")
    landing = work / "home" / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    for package in packages:
        shutil.move(str(package), landing / package.name)
    requests = runner.evaluate_sensor()  # the first look records nothing: a package must look the same twice
    rounds = 0
    while True:
        requests = runner.evaluate_sensor()
        rounds += 1
        if not requests:
            break
        spec = work / f"requests-{rounds}.json"
        spec.write_text(json.dumps([_request_json(r) for r in requests]))
        procs = [subprocess.Popen([sys.executable, __file__, "--role", "worker", "--work", str(work),
                                   "--index", str(i), "--workers", str(args.workers), "--engine", args.engine,
                                   *(["--process-per-run"] if args.process_per_run else [])], env=env,
                                  stdout=subprocess.DEVNULL)
                 for i in range(args.workers)]
        for i, proc in enumerate(procs):
            proc.wait()
            os.rename(work / f"worker-{i}.json", work / f"worker-{i}-{rounds}.json")
        print(f"  round {rounds}: {len(requests)} runs in {time.perf_counter() - wall_started:.1f}s", flush=True)
    period_run = runner.run_job("period_job", partition_key=period)
    wall_s = time.perf_counter() - wall_started
    _stop_celery(celery)  # their CPU is counted once they are waited for
    cpu_s = _cpu() - cpu_before
    sessions = _sessions(args, databases) - sessions_before
    events = _event_count(runner.instance)
    summary = _store_summary()
    filings = summary["submissions"]
    report = {
        "guarantors": args.guarantors, "rows": args.rows, "layout": args.layout, "engine": args.engine,
        "workers": args.workers, "process_per_run": args.process_per_run,
        "batch_size": args.batch_size if args.layout == "batch" else 1,
        "wall_s": round(wall_s, 1), "cpu_s": round(cpu_s, 1),
        "filings_per_min": round(filings / wall_s * 60, 1),
        "dagster_events_per_filing": round(events / max(filings, 1), 2),
        "pg_connections_per_filing": round(sessions / max(filings, 1), 2),
        "peak_rss_mb": round(max(_peak_rss_mb(work), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)),
        "states": summary["states"], "datasets_published": summary["datasets_published"],
        "outbox_items": summary["outbox_items"], "period_job_ok": period_run.success,
        "generate_s": round(generated_s, 1),
    }
    print(f"{filings} filings in {wall_s:.1f}s wall, {cpu_s:.1f}s CPU: {report['filings_per_min']} filings/min; "
          f"{report['dagster_events_per_filing']} Dagster events and {report['pg_connections_per_filing']} new "
          f"PostgreSQL connections per filing; states {summary['states']}")
    print(json.dumps(report))
    return 0


def _runner(registry_csv: Path):
    from filings.intake import load_registry
    from pipelines.definitions import build_defs
    from pipelines.local import local_instance
    from pipelines.resources import StoreResource
    from pipelines.runner import InProcessRunner

    with StoreResource().session() as session:
        load_registry(session, registry_csv)
    return InProcessRunner(build_defs(), local_instance(), log_level="CRITICAL")


def _request_json(request) -> dict:
    return {"job_name": request.job_name, "partition_key": request.partition_key, "tags": dict(request.tags),
            "run_config": request.run_config,
            "asset_selection": [k.to_user_string() for k in request.asset_selection or []] or None}


def _worker(args) -> int:
    from pipelines.definitions import build_defs
    from pipelines.local import local_instance
    from pipelines.runner import InProcessRunner

    work = Path(args.work)
    requests = _requests(work)
    mine = list(range(len(requests)))[args.index :: args.workers]
    if args.process_per_run:  # a process per run: imports, instance, code location and plan paid by each
        outcomes = [subprocess.run([sys.executable, __file__, "--role", "run", "--work", str(work), "--index", str(i),
                                    "--engine", args.engine], stdout=subprocess.DEVNULL).returncode == 0 for i in mine]
    elif args.engine == "celery":
        outcomes = _run_celery([requests[i] for i in mine])
    else:
        runner = InProcessRunner(build_defs(), local_instance(), log_level="CRITICAL")
        outcomes = [r.success for r in runner.launch([_run_request(requests[i]) for i in mine])]
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    (work / f"worker-{args.index}.json").write_text(json.dumps({
        "runs": len(outcomes), "failed": sum(not ok for ok in outcomes), "peak_rss_mb": peak / 1024}))
    return 0


def _requests(work: Path) -> list[dict]:
    spec = sorted(work.glob("requests-*.json"), key=lambda p: int(p.stem.split("-")[1]))[-1]
    return json.loads(spec.read_text())


def _run_request(r: dict):
    from dagster import AssetKey, RunRequest

    return RunRequest(job_name=r["job_name"], partition_key=r["partition_key"], tags=r["tags"], run_config=r["run_config"],
                      asset_selection=[AssetKey(a) for a in r["asset_selection"]] if r["asset_selection"] else None)


def _one_run(args) -> int:
    """One run in a process of its own, as a run launcher's run process executes it."""
    from pipelines.definitions import build_defs
    from pipelines.local import local_instance
    from pipelines.runner import InProcessRunner

    request = _requests(Path(args.work))[args.index]
    if args.engine == "celery":
        return 0 if all(_run_celery([request])) else 1
    runner = InProcessRunner(build_defs(), local_instance(), log_level="CRITICAL")
    return 0 if all(r.success for r in runner.launch([_run_request(request)])) else 1


def _run_celery(requests: list[dict]) -> list[bool]:
    """Each run as a run launcher's run process executes it: the celery executor sends its step to the
    workers and waits (the job is reconstructable, so a worker loads the same code location)."""
    from dagster import DagsterInstance, execute_job
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    recon = ReconstructableRepository.for_module("pipelines.definitions", "defs", working_directory=str(ROOT))
    outcomes = []
    with DagsterInstance.get() as instance:
        for request in requests:
            job = recon.get_reconstructable_job(request["job_name"])
            with execute_job(job, instance, run_config=request["run_config"], tags=request["tags"],
                             raise_on_error=False) as result:
                outcomes.append(result.success)
    return outcomes


def _start_celery(args, work: Path, env: dict) -> list:
    """``--workers`` dagster-celery workers on the run's queue, each with a home of its own (blobs, tables
    and datasets come from the run), one task at a time each (``--pool solo``); returns once ready."""
    procs, logs = [], []
    for i in range(args.workers):
        log = work / f"celery-{i}.log"
        worker_env = {**env, "DANBAO_HOME": str(work / f"celery-home-{i}")}
        procs.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
             "-y", str(ROOT / "deploy" / "celery.yaml"), "-q", env["DANBAO_CELERY_QUEUE"], "-n", f"bench{i}",
             "-l", "INFO", "--", "--pool", "solo"],
            env=worker_env, cwd=str(ROOT), stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True))
        logs.append(log)
    try:
        _wait_ready(procs, logs)
    except BaseException:
        _stop_celery(procs)
        raise
    print(f"{args.workers} celery workers ready", flush=True)
    return procs


def _wait_ready(procs: list, logs: list[Path], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a celery worker exited:\n" + "\n".join(log.read_text()[-2000:] for log in logs))
        if all(" ready." in log.read_text(errors="replace") for log in logs):  # celery's own line, at INFO
            return
        time.sleep(0.5)
    raise RuntimeError("celery workers not ready:\n" + "\n".join(log.read_text()[-2000:] for log in logs))


def _stop_celery(procs: list) -> None:
    import signal

    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    procs.clear()


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mb(work: Path) -> float:
    peaks = [json.loads(p.read_text()).get("peak_rss_mb", 0) for p in work.glob("worker-*-*.json")]
    return max(peaks, default=0.0)


def _event_count(instance) -> int:
    from sqlalchemy import text

    storage = instance.event_log_storage
    with storage.index_connection() as connection:
        return int(connection.execute(text("SELECT count(*) FROM event_logs")).scalar() or 0)


def _store_summary() -> dict:
    from sqlalchemy import func, select

    from pipelines.resources import StoreResource
    from store.models import OutboxItem, Submission

    with StoreResource().session() as session:
        states = dict(session.execute(select(Submission.state, func.count()).group_by(Submission.state)).all())
        published = session.scalar(select(func.count()).where(Submission.datasets_published_at.is_not(None)))
        items = session.scalar(select(func.count()).select_from(OutboxItem))
    return {"submissions": sum(states.values()), "states": {str(k): v for k, v in states.items()},
            "datasets_published": published, "outbox_items": items}


def _instance_yaml(home: Path, url, database: str, workers: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(f"""
storage:
  postgres:
    postgres_db:
      hostname: {url.host}
      port: {url.port or 5432}
      username: {url.username}
      password: "{url.password or ''}"
      db_name: {database}
      scheme: postgresql+psycopg2
concurrency:
  runs:
    max_concurrent_runs: {workers}
telemetry:
  enabled: false
""")


def _admin(args):
    from sqlalchemy import create_engine

    return create_engine(args.pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")


def _create_databases(args) -> list[str]:
    from sqlalchemy import text

    names = [f"danbao_national_{os.getpid()}_{kind}" for kind in ("dagster", "store")]
    admin = _admin(args)
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return names


def _drop_databases(args, names: list[str]) -> None:
    from sqlalchemy import text

    try:
        from pipelines.resources import dispose_engines

        dispose_engines()
    except ImportError:
        pass
    admin = _admin(args)
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _sessions(args, names: list[str]) -> int:
    from sqlalchemy import bindparam, text

    admin = _admin(args)
    with admin.connect() as connection:
        total = connection.execute(
            text("SELECT coalesce(sum(sessions), 0) FROM pg_stat_database WHERE datname IN :names")
            .bindparams(bindparam("names", expanding=True)), {"names": names}).scalar()
    admin.dispose()
    return int(total or 0)


if __name__ == "__main__":
    sys.exit(main())
