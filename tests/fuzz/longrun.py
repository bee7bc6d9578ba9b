"""A long fuzz campaign: ``python -m tests.fuzz.longrun [EXAMPLES] [SEED]`` (default 5,000 examples).

Runs the harness of tests/fuzz (every target, random mutations, hypothesis shrinking on a failure) and
prints the figures: examples, time, and the outcomes (status and first error rule). A failure prints
hypothesis' minimal example and exits non-zero.
"""

from __future__ import annotations

import sys
import time

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.fuzz.harness import OUTCOMES, TARGETS, check_never_raises, mutations, package_bytes


def main(argv: list[str]) -> int:
    examples = int(argv[0]) if argv else 5000
    chosen_seed = int(argv[1]) if len(argv) > 1 else 20261202

    @seed(chosen_seed)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(target=st.sampled_from(TARGETS), ops=mutations, resign=st.booleans())
    def campaign(target, ops, resign):
        check_never_raises(package_bytes(target, ops, resign))

    started = time.monotonic()
    failed = False
    try:
        campaign()
    except Exception as exc:  # hypothesis re-raises the shrunk failure
        failed = True
        print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
    elapsed = time.monotonic() - started
    total = sum(OUTCOMES.values())
    print(f"fuzz: {total} checks ({examples} examples asked, seed {chosen_seed}) in {elapsed:.1f} s, "
          f"{'a failure' if failed else 'no exception'}")
    for outcome, n in OUTCOMES.most_common():
        print(f"  {n:6d}  {outcome}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
