"""Importing great_expectations (seconds), tolerating a broken optional PostgreSQL driver."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def import_gx() -> ModuleType:
    """``import great_expectations``, tolerating a broken optional PostgreSQL driver.

    GX imports ``psycopg2`` at import time and only catches ImportError. psycopg2 2.8.x on Python 3.11
    fails with SystemError instead (psycopg/psycopg2#1598), which would make GX unusable for pandas
    work that never touches PostgreSQL; such a driver is then treated as absent for this process.
    """
    if "great_expectations" not in sys.modules and "psycopg2" not in sys.modules:
        try:
            importlib.import_module("psycopg2")
        except ImportError:
            pass
        except Exception:  # any failure to initialise the driver means "not installed" here
            sys.modules["psycopg2"] = None  # type: ignore[assignment]  # later imports raise ImportError
    return importlib.import_module("great_expectations")
