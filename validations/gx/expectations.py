"""Custom GX expectations for what a regex cannot say: the USCC (GB 32100-2015) and RIC (GB 11643-1999)
check characters of SCH-003, computed by the engine's own functions (``validations/checksums.py``).

Importing this module imports great_expectations (seconds) and registers the two expectation types,
so a suite that names them loads: ``expect_column_values_to_have_valid_uscc_check_character`` and
``expect_column_values_to_have_valid_ric_check_character``. Only ``validations.gx.runner`` and
``validations.gx.datadocs`` import it, lazily; the engine, the CLI's other commands and the Dagster code
location never do.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from validations.checksums import ric_valid, uscc_valid
from validations.gx.loader import import_gx
from validations.gx.suites import RIC_FORMAT_REGEX, USCC_FORMAT_REGEX

import_gx()  # tolerate a broken psycopg2 before GX's modules are imported below

from great_expectations.execution_engine import PandasExecutionEngine  # noqa: E402
from great_expectations.expectations.expectation import ColumnMapExpectation  # noqa: E402
from great_expectations.expectations.metrics import (  # noqa: E402
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.render import RenderedStringTemplateContent  # noqa: E402
from great_expectations.render.renderer.renderer import renderer  # noqa: E402

USCC_TYPE = "expect_column_values_to_have_valid_uscc_check_character"
RIC_TYPE = "expect_column_values_to_have_valid_ric_check_character"


def _mask(column: pd.Series, check, format_regex: str) -> pd.Series:
    """Non-null values checked column-wise; a value of the wrong shape passes here, since it is the
    format expectation's failure (one finding, one expectation)."""
    text = column.astype(object).where(column.notna(), None).map(lambda v: None if v is None else str(v))
    shaped = text.str.contains(format_regex, regex=True, na=False).to_numpy(dtype=bool)
    valid = np.asarray(check(pa.array(text, type=pa.string())), dtype=bool)
    return pd.Series(~shaped | valid, index=column.index)


class ColumnValuesValidUscc(ColumnMapMetricProvider):
    condition_metric_name = "column_values.danbao_valid_uscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        return _mask(column, uscc_valid, USCC_FORMAT_REGEX)


class ColumnValuesValidRic(ColumnMapMetricProvider):
    condition_metric_name = "column_values.danbao_valid_ric"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: object) -> pd.Series:
        return _mask(column, ric_valid, RIC_FORMAT_REGEX)  # check character and a real birth date


def _rendered(configuration, text: str) -> list:
    column = (configuration.kwargs if configuration else {}).get("column", "")
    return [RenderedStringTemplateContent(**{
        "content_block_type": "string_template",
        "string_template": {"template": "$column " + text, "params": {"column": column},
                            "styling": {"params": {"column": {"classes": ["badge", "badge-secondary"]}}}},
    })]


class ExpectColumnValuesToHaveValidUsccCheckCharacter(ColumnMapExpectation):
    """Each value is a unified social credit code whose 18th character is the GB 32100-2015 check
    character of the first 17 (SCH-003)."""

    map_metric: ClassVar[str] = "column_values.danbao_valid_uscc"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["danbao", "SCH-003"], "contributors": ["danbao"]}

    @classmethod
    @renderer(renderer_type="renderer.prescriptive")
    def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
        return _rendered(configuration, "values must carry a valid USCC check character (GB 32100-2015) · "
                                        "统一社会信用代码校验位正确")


class ExpectColumnValuesToHaveValidRicCheckCharacter(ColumnMapExpectation):
    """Each value is a resident identity card number with a real birth date and the GB 11643-1999 check
    character (SCH-003)."""

    map_metric: ClassVar[str] = "column_values.danbao_valid_ric"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["danbao", "SCH-003"], "contributors": ["danbao"]}

    @classmethod
    @renderer(renderer_type="renderer.prescriptive")
    def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
        return _rendered(configuration, "values must carry a real birth date and a valid RIC check character "
                                        "(GB 11643-1999) · 身份证号码出生日期与校验位正确")
