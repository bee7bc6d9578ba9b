"""Where deliveries go: a base URL per regulator endpoint (``DANBAO_PBOC_URL``, ``DANBAO_CBRC_URL``, read
by the application's settings, ``filings.settings``; the reference receivers' ports by default).

Items store only the path under their endpoint (``/pboc/files/<name>``, ``/cbrc/reports``), so an
operator can point the sender at another receiver (a staging endpoint, a guarantor's test receiver)
without touching the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping

PBOC, CBRC = "pboc", "cbrc"
DEFAULT_PORTS = {PBOC: 8441, CBRC: 8442}
ENDPOINT_OF_KIND = {"pboc": PBOC, "cbrc": CBRC, "cbrc_summary": CBRC}  # an outbox item's kind → its endpoint


def url_for(endpoints: Mapping[str, str], kind: str, path: str) -> str:
    return endpoints[ENDPOINT_OF_KIND[str(kind)]].rstrip("/") + path
