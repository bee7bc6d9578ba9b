"""`danbao receivers serve --pboc PORT --cbrc PORT`: run the reference PBOC and CBRC receivers (real
HTTP servers speaking the delivery protocol of outputs.md §5) until interrupted, for the demo, the
tests and guarantors' own integration testing. Fault injection: ``--fail-rate`` (500s),
``--drop-rate`` (connections closed after the body is read and stored, before the answer),
``--delay`` with ``--delay-rate`` (answers held past the client's timeout), ``--latency``, ``--seed``.
Keys: ``$DANBAO_SIGNING_KEY`` and ``$DANBAO_SIGNING_KEY_<INSTITUTION_ID>``, as the sender's, else the
local key of the embedded setup (``$DANBAO_HOME/secrets/signing.key``, which `danbao publish` shares)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from connectors.receivers import Faults, Receivers
from filings.secrets import default_envelope, signing_keys
from store.config import danbao_home


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not within [0, 1]")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port")
    return int(text)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("receivers", help="the reference PBOC and CBRC receivers")
    sub = parser.add_subparsers(dest="receivers_command", required=True)
    serve = sub.add_parser("serve", help="serve both receivers until interrupted", description=__doc__.split(": ", 1)[1])
    serve.add_argument("--pboc", type=_port, default=8441, metavar="PORT", help="PBOC port (default 8441; 0: any)")
    serve.add_argument("--cbrc", type=_port, default=8442, metavar="PORT", help="CBRC port (default 8442; 0: any)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--data", metavar="DIR", help="where they keep what they receive (default $DANBAO_HOME/receivers)")
    serve.add_argument("--fail-rate", type=_rate, default=0.0, metavar="F")
    serve.add_argument("--drop-rate", type=_rate, default=0.0, metavar="F")
    serve.add_argument("--delay-rate", type=_rate, default=0.0, metavar="F")
    serve.add_argument("--delay", type=_seconds, default=0.0, metavar="S")
    serve.add_argument("--latency", type=_seconds, default=0.0, metavar="S")
    serve.add_argument("--seed", type=int, default=None)
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    keys, key_source = signing_keys()
    try:
        faults = Faults(args.fail_rate, args.drop_rate, args.delay_rate, args.delay, args.latency, args.seed)
    except ValueError as exc:
        print(f"danbao receivers: {exc}", file=sys.stderr)
        return 2
    data = Path(args.data) if args.data else danbao_home() / "receivers"
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        receivers = Receivers(data, pboc_port=args.pboc, cbrc_port=args.cbrc, host=args.host, keys=keys, faults=faults,
                              envelope=default_envelope())
    except OSError as exc:
        print(f"danbao receivers: {exc}", file=sys.stderr)
        return 2
    with receivers:
        print(f"PBOC receiver: {receivers.pboc_url}", flush=True)
        print(f"CBRC receiver: {receivers.cbrc_url}", flush=True)
        print(f"data: {data}", flush=True)
        print(f"signing key: {key_source}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="danbao")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["receivers", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
