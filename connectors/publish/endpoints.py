"""Where deliveries go: a base URL per regulator endpoint, from the environment.

Items store only the path under their endpoint (``/pboc/files/<name>``, ``/cbrc/reports``), so an
operator can point the sender at another receiver (a staging endpoint, a guarantor's test receiver)
without touching the outbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PBOC, CBRC = "pboc", "cbrc"
DEFAULT_PORTS = {PBOC: 8441, CBRC: 8442}
ENV = {PBOC: "DANBAO_PBOC_URL", CBRC: "DANBAO_CBRC_URL"}
ENDPOINT_OF_KIND = {"pboc": PBOC, "cbrc": CBRC, "cbrc_summary": CBRC}  # an outbox item's kind → its endpoint


def endpoints_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``$DANBAO_PBOC_URL`` and ``$DANBAO_CBRC_URL``, defaulting to the reference receivers on loopback."""
    env = os.environ if environ is None else environ
    return {name: (env.get(var) or f"http://127.0.0.1:{DEFAULT_PORTS[name]}").rstrip("/") for name, var in ENV.items()}


def url_for(endpoints: Mapping[str, str], kind: str, path: str) -> str:
    return endpoints[ENDPOINT_OF_KIND[str(kind)]].rstrip("/") + path
