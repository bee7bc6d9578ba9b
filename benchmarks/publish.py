"""Benchmark of publication: credit-feed generation and delivery throughput.

1. Feed generation for --guarantors guarantors × --rows guarantees (default 1,000 × 10,000): per guarantor,
   the first feed (every account new: diff, 440 and 230 files sealed, the state written) and the next
   month's incremental feed (the state read back, diffed against a filing in which --changed of the
   guarantees changed: a third their balance, a third their five-category, a third closed), files
   written to disk. Wall and CPU seconds of this process are both reported: on a shared machine the
   CPU figures are the steadier ratio. Run in a child process so that its wall time and peak RSS are measured by
   the kernel. Filings are made with ``connectors.synthetic.make_guarantees`` (four seeds, each reused
   under every guarantor's own guarantee_id prefix, which is what the feed keys on).
2. Delivery throughput from a SQLite outbox to the reference receivers running as their own process
   (``danbao receivers serve``): --items small PBOC files (10 records) with 1 and 4 sender workers,
   and --large-items 10,000-record files.

    .venv/bin/python benchmarks/publish.py [--guarantors N] [--rows N] [--items N] [--skip-feed] [--skip-delivery]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.measure import run_measured

ROOT = Path(__file__).resolve().parents[1]
P1, P2 = "2026-09", "2026-10"
AREA = "A1000150011300"
KEY = "benchmark-signing-key-0123456789"
SM4 = "000102030405060708090a0b0c0d0e0f"
CREATED = dt.datetime(2026, 11, 5, 10, 0, tzinfo=dt.UTC)


# -- 1. feed generation ---------------------------------------------------------------------------


def typed(raw: pa.Table) -> pa.Table:
    """A synthetic (all-text) guarantees table through the intake parser, as the engine types it."""
    from schemas.v1_0 import GUARANTEES
    from validations.findings import Findings
    from validations.parse import parse_file

    parsed = parse_file(GUARANTEES, raw, Findings())
    assert parsed is not None
    return parsed.typed


def next_month(table: pa.Table, seed: int, share: float) -> pa.Table:
    """October from September: ended rows leave the snapshot, and ``share`` of the guarantees change: a
    third of them their balance, a third their five-category, a third are closed."""
    rng = np.random.default_rng(seed)
    table = table.filter(pc.equal(table["status"], "active"))
    draw = rng.random(table.num_rows)
    balance, five, close = draw < share / 3, (draw >= share / 3) & (draw < 2 * share / 3), (draw >= 2 * share / 3) & (draw < share)
    outstanding = table["outstanding_balance"].combine_chunks()
    lower = pc.cast(pc.multiply(outstanding, pa.scalar(Decimal("0.5"), pa.decimal128(2, 1))), outstanding.type, safe=False)
    outstanding = pc.if_else(pa.array(balance), lower, outstanding)  # exact decimals, halved
    outstanding = pc.if_else(pa.array(close), pa.scalar(Decimal(0), outstanding.type), outstanding)
    status = pc.if_else(pa.array(close), "released", table["status"])
    closed = pc.if_else(pa.array(close), pa.scalar(dt.date(2026, 10, 20), pa.date32()), table["closed_date"])
    category = pc.if_else(pa.array(five), "2", table["five_category"])
    for name, values in (("outstanding_balance", outstanding), ("status", status), ("closed_date", closed),
                         ("five_category", category)):
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table


def with_prefix(table: pa.Table, prefix: str) -> pa.Table:
    ids = pc.binary_join_element_wise(prefix, table["guarantee_id"], "")
    return table.set_column(table.schema.get_field_index("guarantee_id"), "guarantee_id", ids)


def feed_worker(guarantors: int, rows: int, share: float, out: Path | None) -> dict:
    """Per guarantor, what ``filings.publication.enqueue`` does for a feed, minus the database: the
    accepted state read back (Parquet), the plan (a join on the typed columns; only changed accounts
    rendered), the files rendered and sealed (ZIP + SM4), the new state written."""
    from connectors.publish import pboc
    from connectors.publish.envelope import Sm4Envelope
    from connectors.synthetic import make_guarantees

    envelope = Sm4Envelope(bytes(range(16)))
    t0 = time.perf_counter()
    bases = [typed(make_guarantees(rows, P1, seed, id_prefix="")) for seed in range(4)]
    octobers = [next_month(base, seed, share) for seed, base in enumerate(bases)]
    prepared = time.perf_counter() - t0
    totals = {"first": [0.0, 0, 0, 0, 0.0], "next": [0.0, 0, 0, 0, 0.0]}  # seconds, records, bytes, files, CPU s
    changed = [0, 0]  # records of the incremental feed, rows of its filings
    steps: dict[str, dict[str, float]] = {"first": {}, "next": {}}  # CPU seconds per step

    def feed(label: str, state_bytes: bytes | None, filing: pa.Table, date: dt.date) -> bytes:
        started, cpu = time.perf_counter(), time.process_time()
        clock = [cpu]

        def step(name: str) -> None:
            now = time.process_time()
            steps[label][name] = steps[label].get(name, 0.0) + now - clock[0]
            clock[0] = now

        state = pboc.state_from_parquet(state_bytes) if state_bytes is not None else None
        step("read_state")
        plan = pboc.plan(state, filing, AREA, date)
        step("plan")
        files = pboc.render_files(plan, AREA, CREATED, lambda prefix: 1)
        step("render")
        for f in files:
            sealed = envelope.seal(f.name, f.body)
            if out is not None:
                (out / f.exchanged_name).write_bytes(sealed)
            totals[label][1] += f.records
            totals[label][2] += len(sealed)
            totals[label][3] += 1
        step("seal_and_write_files")
        new_state = pboc.state_to_parquet(plan.state)
        step("write_state")
        totals[label][0] += time.perf_counter() - started
        totals[label][4] += time.process_time() - cpu
        return new_state

    for i in range(guarantors):
        prefix = f"G{i:04d}-"
        state = feed("first", None, with_prefix(bases[i % 4], prefix), dt.date(2026, 9, 30))
        before = totals["next"][1]
        october = with_prefix(octobers[i % 4], prefix)
        feed("next", state, october, dt.date(2026, 10, 31))
        changed[0] += totals["next"][1] - before
        changed[1] += october.num_rows
        if out is not None:
            for path in out.iterdir():
                path.unlink()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"prepared_s": prepared, "totals": totals, "steps": steps, "peak_rss_mb": usage.ru_maxrss / 1024,
            "changed_share": changed[0] / max(changed[1], 1)}


def run_feed(args: argparse.Namespace) -> dict:
    print(f"feed generation: {args.guarantors:,} guarantors × {args.rows:,} rows, {args.changed:.0%} of guarantees "
          "changed the next month, sealed files written to disk")
    with tempfile.TemporaryDirectory() as tmp:
        result_file = Path(tmp) / "result.json"
        argv = [sys.executable, __file__, "--feed-worker", "--guarantors", str(args.guarantors), "--rows",
                str(args.rows), "--changed", str(args.changed), "--result", str(result_file), "--out",
                str(Path(tmp) / "files")]
        run = run_measured(argv)
        if run.returncode != 0:
            raise SystemExit(f"feed worker failed: exit {run.returncode}")
        result = json.loads(result_file.read_text())
    for label, title in (("first", "first feed (all accounts new)"), ("next", "next month (incremental)")):
        seconds, records, size, files, cpu = result["totals"][label]
        print(f"  {title:<30} {seconds:7.1f} s ({cpu:6.1f} s CPU)   {records:>11,} records   {files:>5,} files   "
              f"{size / 1e6:8.1f} MB sealed   {records / max(seconds, 1e-9):>10,.0f} records/s")
    per = max(args.guarantors, 1)
    for label, title in (("first", "first feed"), ("next", "incremental")):
        cells = "  ".join(f"{name} {seconds / per * 1000:6.1f}" for name, seconds in result["steps"][label].items())
        print(f"  {title + ', CPU ms per guarantor:':<38} {cells}")
    print(f"  making the synthetic filings:  {result['prepared_s']:7.1f} s (not counted above)")
    print(f"  whole child process:           {run.seconds:7.1f} s   peak RSS {run.peak_rss_mb:,.0f} MB")
    first, incremental = result["totals"]["first"][0], result["totals"]["next"][0]
    first_cpu, incremental_cpu = result["totals"]["first"][4], result["totals"]["next"][4]
    return {"guarantors": args.guarantors, "rows": args.rows, "first_feed_s": round(first, 2),
            "incremental_feed_s": round(incremental, 2), "incremental_over_first": round(incremental / first, 4),
            "first_feed_cpu_s": round(first_cpu, 2), "incremental_feed_cpu_s": round(incremental_cpu, 2),
            "incremental_over_first_cpu": round(incremental_cpu / first_cpu, 4),
            "changed_share": round(result["changed_share"], 4), "peak_rss_mb": round(run.peak_rss_mb)}


# -- 2. delivery ----------------------------------------------------------------------------------


def run_delivery(args: argparse.Namespace) -> None:
    import requests

    from connectors.publish import pboc
    from connectors.publish.envelope import Sm4Envelope
    from connectors.publish.signing import SigningKeys
    from connectors.synthetic import make_guarantees
    from filings.publication.delivery import SenderConfig, deliver_due
    from store import outbox
    from store import repository as repo
    from store.blobs import BlobStore
    from store.db import make_engine, migrate, session_factory
    from store.models import OutboxKind

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**os.environ, "DANBAO_SIGNING_KEY": KEY, "DANBAO_HOME": str(root / "home"), "DANBAO_PBOC_SM4_KEY": SM4}
        receiver = subprocess.Popen(
            [sys.executable, "-m", "pipelines.commands.receivers", "serve", "--pboc", "0", "--cbrc", "0",
             "--data", str(root / "receivers")], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        try:
            urls = dict(receiver.stdout.readline().strip().split(": ", 1) for _ in range(2))
            keys = SigningKeys.of(KEY)
            envelope = Sm4Envelope(bytes.fromhex(SM4))
            config = SenderConfig(endpoints={"pboc": urls["PBOC receiver"], "cbrc": urls["CBRC receiver"]},
                                  max_wait=5.0)
            base = typed(make_guarantees(10_000, P1, 7, id_prefix=""))
            date = dt.date(2026, 9, 30)

            def trial(label: str, n_items: int, records: int, workers: int, serial_base: int) -> None:
                url = f"sqlite:///{root / f'{label}.db'}"
                migrate(url)
                engine = make_engine(url)
                factory = session_factory(engine)
                blobs = BlobStore(root / "blobs")
                with factory() as session, session.begin():
                    repo.upsert_institutions(session, [{
                        "institution_id": "91500113MA5U000010", "name": "bench", "kind": "government",
                        "focus_small_micro_agri": False, "district_code": "500113", "license_no": "L",
                        "pboc_area_code": AREA, "status": "active"}])  # fmt: skip
                    size = 0
                    for k in range(n_items):
                        prefix = f"{label}{k:05d}-"
                        filing = with_prefix(base.slice((k * records) % (10_000 - records), records), prefix)
                        area = f"B{serial_base + k // 999:013d}"
                        plan = pboc.plan(None, filing.filter(pc.equal(filing["party_id_type"], "USCC")), area, date)
                        [f] = pboc.render_files(plan, area, CREATED, lambda prefix, k=k: k % 999 + 1)
                        name, body = f.exchanged_name, envelope.seal(f.name, f.body)
                        key = blobs.put(body)
                        size += len(body)
                        outbox.add_item(session, kind=OutboxKind.PBOC, period=P1, idempotency_key=name, method="PUT",
                                        endpoint=f"/pboc/files/{name}", content_type="application/octet-stream",
                                        body_key=key, body_sha256=key.rsplit("/", 1)[1], body_bytes=len(body),
                                        institution_id="91500113MA5U000010", file_name=name)
                with requests.Session() as http:
                    summary = deliver_due(factory, http, keys, blobs=blobs,
                                          config=dataclasses.replace(config, workers=workers))
                engine.dispose()
                assert summary.delivered == n_items and summary.failed == 0, summary
                print(f"  {label:<28} {n_items:>6,} items × {records:>6,} records ({size / n_items / 1e3:8.1f} kB)  "
                      f"workers {workers}:  {summary.elapsed:6.2f} s  {n_items / summary.elapsed:8.1f} items/s  "
                      f"{size / summary.elapsed / 1e6:6.1f} MB/s")

            print("delivery to the reference receivers (own process, loopback), SQLite outbox:")
            trial("small-1-worker", args.items, 10, 1, 100)
            trial("small-4-workers", args.items, 10, 4, 200)
            trial("large-1-worker", args.large_items, 9_990, 1, 300)
            trial("large-4-workers", args.large_items, 9_990, 4, 400)
        finally:
            receiver.terminate()
            receiver.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guarantors", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=2000, help="small files to deliver")
    parser.add_argument("--large-items", type=int, default=40, help="10,000-record files to deliver")
    parser.add_argument("--changed", type=float, default=0.01, help="share of guarantees changed the next month")
    parser.add_argument("--skip-feed", action="store_true")
    parser.add_argument("--skip-delivery", action="store_true")
    parser.add_argument("--feed-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.feed_worker:
        out = Path(args.out) if args.out else None
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        Path(args.result).write_text(json.dumps(feed_worker(args.guarantors, args.rows, args.changed, out)))
        return
    figures: dict = {}
    if not args.skip_feed:
        figures.update(run_feed(args))
    if not args.skip_delivery:
        run_delivery(args)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
