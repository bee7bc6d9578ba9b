"""GX tests run in ``make test`` but can be left out with ``-m "not gx"``: importing GX costs seconds."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gx: runs Great Expectations itself (slow to import; one context per module)")


@pytest.fixture(scope="module")
def gx_ctx() -> Any:
    """One ephemeral GX context per module: creating it (and importing GX) is the expensive part."""
    from validations.gx.runner import gx_context

    return gx_context()
