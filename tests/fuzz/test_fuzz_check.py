"""A short fuzz run in every test run (a few seconds); ``DANBAO_FUZZ_EXAMPLES=N`` for more."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.harness import TARGETS, check_never_raises, mutations, package_bytes

EXAMPLES = int(os.environ.get("DANBAO_FUZZ_EXAMPLES", "60"))


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize="DANBAO_FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(target=st.sampled_from(TARGETS), ops=mutations, resign=st.booleans())
def test_mutated_package_gives_findings_never_an_exception(target, ops, resign):
    check_never_raises(package_bytes(target, ops, resign))
