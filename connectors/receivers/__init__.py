"""Reference receivers for the PBOC credit feed and the CBRC supervisory report (outputs.md §5):
real HTTP servers that speak the delivery protocol (signatures, idempotency keys, receipts,
feedback files), with fault injection, for the tests, the demo and guarantors' integration testing.

``Receivers`` runs both in threads of the calling process; ``danbao receivers serve`` runs them as a
command.
"""

from connectors.receivers.run import Receivers
from connectors.receivers.server import Faults

__all__ = ["Faults", "Receivers"]
