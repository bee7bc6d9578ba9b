"""The embedded setup's local secrets, where production sets variables: one place says where they live
(``$DANBAO_HOME/secrets``), so the sender, the receivers and the datasets of one installation agree."""

from __future__ import annotations

from pathlib import Path

from connectors.publish.envelope import Envelope, envelope_from_env
from store.config import danbao_home


def secrets_dir() -> Path:
    return danbao_home() / "secrets"


def default_envelope() -> Envelope:
    """``$DANBAO_PBOC_SM4_KEY`` (or the PBOC's own tool), else the embedded setup's local SM4 key."""
    return envelope_from_env(local_key_file=secrets_dir() / "pboc-sm4.key")
