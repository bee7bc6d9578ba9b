"""Reading filing packages (folder or ZIP) into Arrow tables of strings."""

from connectors.intake.limits import IntakeLimits
from connectors.intake.package import read_package, read_package_bytes

__all__ = ["IntakeLimits", "read_package", "read_package_bytes"]
