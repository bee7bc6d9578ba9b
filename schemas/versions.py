"""Registry of template versions: a manifest's ``template_version`` selects one.

1.0 is the regulator's template; 1.1 is Danbao's proposal (filing-template.md, "Version 1.1-draft"),
accepted beside it. ``LATEST`` is what ``danbao generate`` writes by default.
"""

from schemas.template import Template
from schemas.v1_0 import TEMPLATE_1_0
from schemas.v1_1 import TEMPLATE_1_1

_TEMPLATES: dict[str, Template] = {t.version: t for t in (TEMPLATE_1_0, TEMPLATE_1_1)}
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(_TEMPLATES)
LATEST = TEMPLATE_1_1.version


def get_template(version: str) -> Template:
    """The template of ``version``; KeyError for a version this build does not know."""
    return _TEMPLATES[version]
