"""The filing template as code (filing-template.md). Imports nothing outside the standard library and pyarrow."""

from schemas.template import Column, ColumnType, FileSpec, Template
from schemas.versions import SUPPORTED_VERSIONS, get_template

__all__ = ["SUPPORTED_VERSIONS", "Column", "ColumnType", "FileSpec", "Template", "get_template"]
