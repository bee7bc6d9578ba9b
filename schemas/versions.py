"""Registry of template versions: a manifest's ``template_version`` selects one."""

from schemas.template import Template
from schemas.v1_0 import TEMPLATE_1_0

_TEMPLATES: dict[str, Template] = {TEMPLATE_1_0.version: TEMPLATE_1_0}
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(_TEMPLATES)


def get_template(version: str) -> Template:
    """The template of ``version``; KeyError for a version this build does not know."""
    return _TEMPLATES[version]
