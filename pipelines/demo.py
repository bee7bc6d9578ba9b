"""`make demo` (``python -m pipelines.demo``): the whole intake and validation pipeline on the embedded
defaults (SQLite store and Dagster instance, local folders under ./var), from a fresh clone, in seconds.

What it does: generates a registry and packages for a few guarantors; serves two of them from a package
endpoint on loopback (token, ETag; one answers 503 first) for the pull connector; drops others into the
landing folder (a ZIP, a folder, a broken one, one with warnings that is then resubmitted corrected);
runs the pull job and the intake sensor in-process, twice (the second pull gets 304s); records the late
filings; prints what happened per guarantor and where to look.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

from pipelines.settings import DEMO_MARKER

DEMO_OWNED = ("danbao.db", "danbao.db-wal", "danbao.db-shm", "blobs", "tables", "landing", "pull", "intake", "demo",
              "dagster")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="guarantee rows per package (default 2000)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    home = Path(os.environ.get("DANBAO_HOME") or "var").expanduser().resolve()
    if not _fresh(home):
        return 2
    os.environ["DANBAO_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_HOME", str(home / "dagster"))
    for name in ("DANBAO_DATABASE_URL", "DANBAO_BLOB_ROOT", "DANBAO_LANDING", "DANBAO_TABLES_URL", "DANBAO_PULL_ENDPOINTS"):
        os.environ.pop(name, None)  # the embedded defaults, whatever the shell has

    from connectors.receivers.guarantor_endpoint import PackageEndpoint
    from connectors.synthetic import generate_period
    from filings.intake import load_registry
    from filings.late import deadline_for
    from pipelines.definitions import build_defs
    from pipelines.local import local_instance
    from pipelines.report import render, rows
    from pipelines.resources import ArchiveResource, PullResource, StoreResource
    from pipelines.runner import InProcessRunner
    from pipelines.settings import deadline_day
    from store import repository as repo
    from validations.context import Period, now_beijing

    period = _period_past_deadline(now_beijing(), deadline_day(), Period)
    demo = home / "demo"
    print(f"Danbao demo: period {period}, 7 registered guarantors, {args.rows:,} guarantee rows per package")
    generated = demo / "generated"
    clean = generate_period(generated / "clean", 7, args.rows, period, zip=True)
    folders = generate_period(generated / "folders", 7, args.rows, period, zip=False)
    broken = generate_period(generated / "broken", 7, args.rows, period, inject_kinds=["bad_uscc:3"], zip=True)
    warned = generate_period(generated / "warned", 7, args.rows, period, inject_kinds=["guaranteed_over_loan:2"], zip=True)
    ids = [p.name.split("_")[0] for p in clean]
    doors = {
        ids[0]: "pull: served by its own endpoint",
        ids[1]: "pull: its endpoint answers 503 once, then the package",
        ids[2]: "landing folder, a ZIP",
        ids[3]: "landing folder, a package folder",
        ids[4]: "landing folder, broken (3 party ids with a wrong check character)",
        ids[5]: "landing folder, warnings first (needs confirmation), then resubmitted corrected",
        ids[6]: "registered, files nothing",
    }

    store = StoreResource()
    with store.session() as session:
        load_registry(session, generated / "clean" / "registry.csv")
    token = secrets.token_urlsafe(16)
    landing = home / "landing"
    landing.mkdir(parents=True, exist_ok=True)
    with PackageEndpoint(token=token) as endpoint:
        for i in (0, 1):
            endpoint.publish(f"{ids[i]}/{period}.zip", clean[i].read_bytes())
        endpoint.fail_next(f"{ids[1]}/{period}.zip", "503")
        endpoints = demo / "endpoints.csv"
        endpoints.write_text("institution_id,url\n" + "".join(
            f"{ids[i]},{endpoint.url('{institution_id}/{period}.zip')}\n" for i in (0, 1)), encoding="utf-8")
        pull = PullResource(endpoints_file=str(endpoints), token=token, backoff_seconds=0.2, read_timeout=10)
        defs = build_defs({"pull": pull})
        runner = InProcessRunner(defs, local_instance(), log_level="CRITICAL")

        shutil.copyfile(clean[2], landing / clean[2].name)
        shutil.copytree(folders[3], landing / folders[3].name)
        shutil.copyfile(broken[4], landing / broken[4].name)
        shutil.copyfile(warned[5], landing / warned[5].name)
        print(f"\n1. pull from {endpoint.url('')} and pick up the landing folder {landing}")
        pulled = runner.pull(period)
        launched = runner.intake(settle_seconds=0.2)
        print(f"   pull run {'ok' if pulled.success else 'FAILED'}; {len(launched)} filing runs")

        shutil.copyfile(clean[5], landing / f"{ids[5]}_{period}_corrected.zip")
        print("2. the next day: pull again (unchanged: 304) and pick up a corrected resubmission")
        runner.pull(period)
        again = runner.intake(settle_seconds=0.2)
        print(f"   {len(again)} filing run(s); endpoint requests so far: "
              + ", ".join(f"{h['path'].split('/')[0][-6:]}→{h['fault'] or ('304' if 'If-None-Match' in h['headers'] else '200')}"
                          for h in endpoint.requests))

    deadline = deadline_for(period, deadline_day())
    print(f"3. the day after the deadline ({deadline}): record late filings")
    late_run = runner.late(period)
    with store.session() as session:
        submissions = repo.list_submissions(session, period=period)
        late = {x.institution_id for x in repo.list_late_filings(session, period)}
    print(f"   late-filing run {'ok' if late_run.success else 'FAILED'}: {len(late)} late")

    print("4. the period job: grades for every guarantor (late filers D), discipline list, district roll-up")
    period_run = runner.run_job("period_job", partition_key=period)
    archive = ArchiveResource().archive()
    rollup = archive.latest(archive.partition("district_rollup", period))
    if period_run.success and rollup is not None:
        share = rollup.meta["small_micro_agri_household_share"]
        print(f"   grades {rollup.meta['grade_distribution']}; 小微/三农 household share "
              f"{'-' if share is None else f'{share:.1%}'} (target 75%); subsidies {rollup.meta['subsidy_total']:,.2f} yuan")
    else:
        print("   period run FAILED")

    print("5. deliver the PBOC credit feed and CBRC reports to the reference receivers on loopback")
    delivered = _deliver(runner, period, home)
    print(f"   {delivered}\n")

    print(render(rows(store, ArchiveResource(), submissions)))
    print("\nper guarantor:")
    for institution_id in ids:
        mine = [s for s in submissions if s.institution_id == institution_id]
        states = ", ".join(f"#{s.sequence} {s.state}" for s in mine) or "nothing filed"
        print(f"  {institution_id}  {doors[institution_id]}\n{'':22}→ {states}{'; LATE' if institution_id in late else ''}")

    dagster_home = os.environ["DAGSTER_HOME"]
    print(f"""
where to look:
  store (SQLite): submissions, findings, late filings   {home / 'danbao.db'}
  filed packages, byte for byte (content-addressed)     {home / 'blobs'}
  Parquet tables: <asset>/<period>/<guarantor>/v=NNNN/ {home / 'tables'}
  published datasets (versioned Parquet, for regulators) {home / 'datasets'}
  what the reference receivers accepted                 {home / 'receivers'}
  landing folder (drop packages here)                   {landing}
  Dagster instance (runs, materializations, checks)     {dagster_home}
open the UI on the same instance:
  DAGSTER_HOME={dagster_home} DANBAO_HOME={home} .venv/bin/dagster dev -m pipelines.definitions
  then http://127.0.0.1:3000 → Assets (validation_result shows the phase checks) and Runs.
  Drop another package into {landing}: the intake sensor picks it up.
done in {time.perf_counter() - started:.1f}s""")
    return 0


def _deliver(runner, period: str, home: Path) -> str:
    """Start the reference receivers on loopback, run ``delivery_job`` once, and say what they hold. The
    signing key is a random one for this run (sender and receivers share this process's environment)."""
    import secrets

    from connectors.publish.signing import SigningKeys
    from connectors.receivers.run import Receivers
    from filings.secrets import default_envelope

    os.environ.setdefault("DANBAO_SIGNING_KEY", secrets.token_hex(16))
    with Receivers(home / "receivers", keys=SigningKeys.from_env(), envelope=default_envelope()) as receivers:
        os.environ["DANBAO_PBOC_URL"], os.environ["DANBAO_CBRC_URL"] = receivers.pboc_url, receivers.cbrc_url
        result = runner.run_job("delivery_job", partition_key=period)
        pboc, cbrc = receivers.pboc_store.holdings("pboc"), receivers.cbrc_store.holdings("cbrc")
    if not result.success:
        return "delivery run FAILED"
    return (f"PBOC receiver holds {len(pboc)} credit-feed files, CBRC receiver {len(cbrc)} reports; "
            f"`danbao deliveries --period {period}` lists them with their receipts")


def _fresh(home: Path) -> bool:
    """Start from nothing: remove what an earlier demo made; refuse to touch anything else."""
    if home.exists() and any(home.iterdir()):
        if not (home / DEMO_MARKER).exists():
            print(f"{home} holds data the demo did not make; set DANBAO_HOME to an empty or new folder", file=sys.stderr)
            return False
        for name in DEMO_OWNED:
            path = home / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    home.mkdir(parents=True, exist_ok=True)
    (home / DEMO_MARKER).write_text("made by python -m pipelines.demo; it may wipe this folder's demo data\n")
    return True


def _period_past_deadline(now: dt.datetime, day: int, period_cls) -> str:
    """The latest period whose deadline has passed, so that the late-filing step is real."""
    this = period_cls(now.year, now.month)
    return str(this.previous() if now.day > day else this.previous().previous())


if __name__ == "__main__":
    sys.exit(main())
