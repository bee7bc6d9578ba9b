"""`danbao publish --period YYYY-MM`: queue the period's credit-feed files, supervisory reports and
summary for every accepted filing in the store, deliver everything due, and fetch the PBOC's feedback
(outputs.md §3–5).

Safe to run again at any time, and after a crash: what was queued is not queued twice, and what was
sent is not stored twice by the receiver (idempotency keys). Endpoints come from ``$DANBAO_PBOC_URL``
and ``$DANBAO_CBRC_URL`` (default: the reference receivers on loopback, `danbao receivers serve`),
signing keys from ``$DANBAO_SIGNING_KEY`` and ``$DANBAO_SIGNING_KEY_<INSTITUTION_ID>`` (or SM2 keys with
``DANBAO_SIGNATURE=sm2-sm3``), else the local key of the embedded setup (``$DANBAO_HOME/secrets/signing.key``,
which `danbao receivers serve` shares); the files' envelope key from ``$DANBAO_PBOC_SM4_KEY`` (else the local one).

``--dry-run --out DIR`` writes the plain ``.txt`` files and their ``.enc`` envelopes that would be
sent now, and sends and records nothing.

Exit status: 0 everything due was delivered, 1 an item failed or is still open (the cause is printed:
a receiver that refuses connections, a signature it rejects), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

import requests

from connectors.publish.signing import MissingKeyError
from filings.archive import default_archive
from filings.publication.delivery import ConfigurationError, SenderConfig
from filings.publication.inputs import from_archive
from filings.publication.service import PublishResult, dry_run_period, publish_period
from filings.secrets import default_envelope, signing_keys
from filings.settings import load
from pipelines.commands import term
from store import outbox
from store.blobs import BlobStore
from store.db import make_engine, migrate, session_factory
from validations.context import Period


def period_arg(text: str) -> str:
    try:
        return str(Period.parse(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM") from None


def _positive(kind: type = float):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be positive")
        return value

    return parse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "publish", help="queue and deliver a period's credit feed and supervisory reports",
        description=__doc__.split("\n\n")[0].split(": ", 1)[1],
    )
    parser.add_argument("--period", type=period_arg, required=True, metavar="YYYY-MM")
    parser.add_argument("--institution", action="append", default=[], metavar="ID",
                        help="only this guarantor (repeatable)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--no-deliver", action="store_true", help="queue only; send nothing")
    mode.add_argument("--deliver-only", action="store_true", help="send what is due; queue nothing new")
    mode.add_argument("--dry-run", action="store_true",
                      help="write the credit files that would be sent (.txt and .enc) to --out; send and record nothing")
    parser.add_argument("--out", metavar="DIR", help="where --dry-run writes the files")
    parser.add_argument("--connect-timeout", type=_positive(), default=3.0, metavar="S")
    parser.add_argument("--timeout", type=_positive(), default=30.0, metavar="S", help="read timeout per attempt")
    parser.add_argument("--max-attempts", type=_positive(int), default=10, metavar="N",
                        help="attempts before an item is failed (default 10)")
    parser.add_argument("--backoff", type=_positive(), default=0.5, metavar="S", help="first backoff ceiling")
    parser.add_argument("--max-wait", type=float, default=300.0, metavar="S",
                        help="how long to wait for scheduled retries before returning (default 300)")
    parser.add_argument("--workers", type=_positive(int), default=1, metavar="N", help="parallel senders")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each attempt")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        envelope = default_envelope()
    except LookupError as exc:
        print(f"danbao publish: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        return _dry_run(args, envelope)
    if args.out:
        print("danbao publish: --out goes with --dry-run", file=sys.stderr)
        return 2
    try:
        keys, key_source = signing_keys()
    except ValueError as exc:
        print(f"danbao publish: {exc}", file=sys.stderr)
        return 2
    logging.getLogger(__name__).info("signing keys: %s", key_source)
    config = SenderConfig(endpoints=load().endpoints(), connect_timeout=args.connect_timeout,
                          read_timeout=args.timeout, max_attempts=args.max_attempts, backoff_base=args.backoff,
                          max_wait=args.max_wait, workers=args.workers)
    engine = make_engine()
    try:
        migrate(engine)
        factory = session_factory(engine)
        blobs = BlobStore(load().blobs_dir())
        with requests.Session() as http:
            try:
                with term.status(f"发布 publishing {args.period}: queueing, delivering, fetching feedback …"):
                    result = publish_period(factory, blobs, http, keys, config, args.period,
                                            load=from_archive(default_archive()),
                                            institution_ids=args.institution or None,
                                            enqueue=not args.deliver_only, deliver=not args.no_deliver,
                                            envelope=envelope)
            except (ConfigurationError, MissingKeyError) as exc:
                print(f"danbao publish: {exc}", file=sys.stderr)
                return 2
        with factory() as session:
            counts = outbox.state_counts(session, args.period)
            stuck = _open_causes(session, args.period) if not args.no_deliver else {}
    finally:
        engine.dispose()
    if args.json:
        json.dump({**_as_json(result, counts), "open_causes": stuck}, sys.stdout, ensure_ascii=False, indent=2,
                  default=str)
        sys.stdout.write("\n")
    else:
        print(render(result, counts))
    failed: dict[str, int] = {}
    for error in result.delivery.errors:
        cause = _short_cause(error.split(": ", 1)[-1])
        failed[cause] = failed.get(cause, 0) + 1
    for what, causes in (("failed", failed), ("still open", stuck)):
        for cause, n in causes.items():
            print(f"danbao publish: {n} item(s) {what}: {cause}", file=sys.stderr)
    if any(c.startswith(("connection refused", "timed out")) for c in (*failed, *stuck)):
        print(f"  the receivers at {config.endpoints['pboc']} and {config.endpoints['cbrc']} do not answer: start them "
              "(`danbao receivers serve`) or set DANBAO_PBOC_URL / DANBAO_CBRC_URL; then "
              f"`danbao publish --period {args.period} --deliver-only` (failed items: `danbao deliveries --requeue`)",
              file=sys.stderr)
    errors = result.last.errors if result.last else []
    return 1 if counts.get("failed") or errors or stuck else 0


def _open_causes(session, period: str) -> dict[str, int]:
    """Why items are still pending after the run: their last errors, counted (connection refused …)."""
    causes: dict[str, int] = {}
    for state in ("pending", "sending"):
        for item in outbox.list_items(session, period, state=state):
            cause = _short_cause(item.last_error or "not attempted yet")
            causes[cause] = causes.get(cause, 0) + 1
    return causes


def _short_cause(error: str) -> str:
    """requests' long exception text cut to what a person acts on."""
    lowered = error.lower()
    if lowered.startswith("gave up after"):
        return _short_cause(error.split(": ", 1)[-1]) + " (" + error.split(":", 1)[0] + ")"
    if "connection refused" in lowered or "failed to establish a new connection" in lowered:
        return "connection refused (连接被拒绝)"
    if "timed out" in lowered or "timeout" in lowered:
        return "timed out (超时)"
    return error[:200]


def _dry_run(args: argparse.Namespace, envelope) -> int:
    if not args.out:
        print("danbao publish: --dry-run needs --out DIR", file=sys.stderr)
        return 2
    engine = make_engine()  # not migrated: a dry run writes nothing, not even a schema
    try:
        factory = session_factory(engine)
        blobs = BlobStore(load().blobs_dir())
        written, notes = dry_run_period(factory, blobs, args.period, Path(args.out), load=from_archive(default_archive()),
                                        envelope=envelope, institution_ids=args.institution or None)
    finally:
        engine.dispose()
    if args.json:
        json.dump({"period": args.period, "files": [asdict(f) for f in written], "notes": notes}, sys.stdout,
                  ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"期间 period {args.period} (dry run: nothing sent, nothing recorded)")
        for f in written:
            print(f"  {f.institution_id}  {f.records:>7} record(s)  {f.plain}  {f.sealed}")
        for note in notes:
            print(f"  note: {note}")
    return 0


def render(result: PublishResult, counts: dict[str, int]) -> str:
    lines = [f"期间 period {result.period}"]
    last = result.last
    if last is not None:
        for f in last.filings:
            records = ", ".join(f"{t}: " + " ".join(f"{c}×{n}" for c, n in sorted(by.items()))
                                for t, by in sorted(f.records.items()))
            if not records:
                records = "no change" if f.feed == "queued" else "—"
            lines.append(f"  {f.institution_id} #{f.submission_id}  feed {f.feed} ({records})  report {f.report}")
            for name in f.files:
                lines.append(f"    {name}")
            if f.note:
                lines.append(f"    note: {f.note}")
        for error in last.errors:
            lines.append(f"  error: {error}")
        lines.append(f"  summary: {last.summary_key or 'nothing to summarise'}")
    d, fb = result.delivery, result.feedback
    lines.append(f"发送 delivery: {d.delivered} delivered, {d.failed} failed, {d.retried} retried, {d.open} still open")
    for error in d.errors:
        lines.append(f"  failed: {error}")
    lines.append(f"反馈 feedback: {fb.fetched} fetched, {fb.rejected_records} record(s) rejected, "
                 f"{fb.settled_feeds} feed(s) settled, {fb.not_ready} not ready")
    lines.append("outbox " + result.period + ": " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty")
                 + f"   (danbao deliveries --period {result.period})")
    return "\n".join(lines)


def _as_json(result: PublishResult, counts: dict[str, int]) -> dict:
    return {
        "period": result.period,
        "filings": [asdict(f) for f in (result.last.filings if result.last else [])],
        "errors": result.last.errors if result.last else [],
        "summary_key": result.last.summary_key if result.last else None,
        "delivery": asdict(result.delivery),
        "feedback": asdict(result.feedback),
        "outbox": counts,
    }


def main(argv: list[str] | None = None) -> int:
    """Run without the `danbao` entry point: ``python -m pipelines.commands.publish --period …``."""
    parser = argparse.ArgumentParser(prog="danbao")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["publish", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
