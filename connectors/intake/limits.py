"""Configured intake limits (FMT-007): package size, ZIP expansion, line length."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class IntakeLimits:
    max_package_bytes: int = 1 << 30  # 1 GiB as received
    max_expanded_bytes: int = 4 << 30  # a ZIP's members, uncompressed, together
    max_expansion_ratio: float = 200.0  # uncompressed / compressed, per member
    max_line_bytes: int = 64 << 10  # one CSV line
    max_members: int = 64

    @classmethod
    def from_env(cls) -> IntakeLimits:
        """Limits from ``DANBAO_MAX_*`` environment variables, defaults otherwise."""
        d = cls()
        return cls(
            max_package_bytes=int(os.environ.get("DANBAO_MAX_PACKAGE_BYTES", d.max_package_bytes)),
            max_expanded_bytes=int(os.environ.get("DANBAO_MAX_EXPANDED_BYTES", d.max_expanded_bytes)),
            max_expansion_ratio=float(os.environ.get("DANBAO_MAX_EXPANSION_RATIO", d.max_expansion_ratio)),
            max_line_bytes=int(os.environ.get("DANBAO_MAX_LINE_BYTES", d.max_line_bytes)),
        )
