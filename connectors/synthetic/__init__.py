"""Synthetic filings for tests, the demo and benchmarks: valid by construction, breakable on purpose.

Tables are all-string Arrow tables in template 1.0 column order, generated column-wise with numpy
(a million ``guarantees`` rows in a few seconds). ``inject`` breaks them in named ways and returns the
findings the rule engine should report; ``write_package`` writes them in any accepted file format.
"""

from connectors.synthetic.financials import Exposure, make_compensations, make_financials, measure
from connectors.synthetic.formats import FORMATS
from connectors.synthetic.generate import REGISTRY_FILE, generate_period
from connectors.synthetic.guarantees import NEGATIVE_LIST, make_guarantees
from connectors.synthetic.inject import KINDS, Expected, inject, package_errors, parse_kinds, reported, status
from connectors.synthetic.package import PACKAGE_ERRORS, write_package
from connectors.synthetic.registry import make_registry, write_registry_csv

__all__ = [
    "FORMATS",
    "KINDS",
    "NEGATIVE_LIST",
    "PACKAGE_ERRORS",
    "REGISTRY_FILE",
    "Expected",
    "Exposure",
    "generate_period",
    "inject",
    "make_compensations",
    "make_financials",
    "make_guarantees",
    "make_registry",
    "measure",
    "package_errors",
    "parse_kinds",
    "reported",
    "status",
    "write_package",
    "write_registry_csv",
]
