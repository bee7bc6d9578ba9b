"""Both receivers, started and stopped together."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from connectors.http_server import LoopbackServer
from connectors.publish.envelope import Envelope, envelope_from_env
from connectors.publish.signing import SigningKeys
from connectors.receivers.cbrc import CbrcApp
from connectors.receivers.pboc import PbocApp
from connectors.receivers.server import Faults
from connectors.receivers.store import ReceiverStore


class Receivers:
    """The PBOC and CBRC receivers on ``host`` (ports 0: any free port), holding their data in
    ``data_dir/pboc`` and ``data_dir/cbrc``. Keys and the PBOC envelope default to the environment's."""

    def __init__(self, data_dir: Path | str, *, pboc_port: int = 0, cbrc_port: int = 0, host: str = "127.0.0.1",
                 keys: SigningKeys | None = None, faults: Faults | None = None,
                 envelope: Envelope | None = None) -> None:
        keys = keys or SigningKeys.from_env()
        envelope = envelope or envelope_from_env()
        faults = faults or Faults()
        data = Path(data_dir)
        self.pboc_store, self.cbrc_store = ReceiverStore(data / "pboc"), ReceiverStore(data / "cbrc")
        self.pboc = PbocApp(self.pboc_store, keys, faults, envelope)
        self.cbrc = CbrcApp(self.cbrc_store, keys, faults)
        self._servers = [LoopbackServer(app.asgi(), host, port, name=f"danbao-receiver-{app.endpoint}")
                         for app, port in ((self.pboc, pboc_port), (self.cbrc, cbrc_port))]

    @property
    def pboc_url(self) -> str:
        return self._servers[0].url

    @property
    def cbrc_url(self) -> str:
        return self._servers[1].url

    def start(self) -> Receivers:
        for server in self._servers:
            server.start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self.pboc_store.close()
        self.cbrc_store.close()

    def __enter__(self) -> Receivers:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
