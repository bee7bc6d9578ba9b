"""Run a suite with Great Expectations itself, and read the same pass/fail off our engine's findings.

The engine executes the SCH rules (GX is far too slow for a million rows); GX runs here only to show,
on sample data, that the published suites and the engine agree expectation by expectation.
great_expectations is imported inside the functions that need it: importing it costs seconds.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from schemas import get_template
from validations.filing import RawFiling
from validations.findings import Findings
from validations.gx.loader import import_gx
from validations.parse import ParsedFile, parse_file

if TYPE_CHECKING:
    import pandas as pd

    from validations.engine import CheckResult

_INDEX_KEY = "danbao_index"  # added to each expectation's meta in memory only, to map results back


def gx_context() -> Any:
    """An ephemeral (in-memory) GX data context, without progress bars; create one and reuse it."""
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    import validations.gx.expectations  # noqa: F401  # registers the check-character expectations

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def run_suite_with_gx(
    df: pd.DataFrame, suite_dict: dict[str, Any], context: Any = None, result_format: str = "BOOLEAN_ONLY"
) -> dict[int, bool]:
    """Validate ``df`` with GX 1.x's pandas engine; success of each expectation by its index in the suite."""
    gx = import_gx()
    import validations.gx.expectations  # noqa: F401  # registers the check-character expectations

    context = context if context is not None else gx_context()
    run = uuid.uuid4().hex[:12]
    source = context.data_sources.add_or_update_pandas(name="danbao")
    asset = source.add_dataframe_asset(name=f"{suite_dict['name']}-{run}")
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": df})
    suite_dict = copy.deepcopy(suite_dict)  # GX adds to meta and kwargs in place
    for index, expectation in enumerate(suite_dict["expectations"]):
        expectation.setdefault("meta", {})[_INDEX_KEY] = index
    suite = gx.ExpectationSuite(**{**suite_dict, "name": f"{suite_dict['name']}-{run}"})
    try:
        result = batch.validate(suite, result_format=result_format)
    finally:
        source.delete_asset(asset.name)  # the context is reused: keep it from accumulating assets
    outcome = {int(r.expectation_config.meta[_INDEX_KEY]): bool(r.success) for r in result.results}
    if len(outcome) != len(suite_dict["expectations"]):
        raise RuntimeError(f"GX returned {len(outcome)} results for {len(suite_dict['expectations'])} expectations")
    return outcome


def parsed_frame(parsed: ParsedFile) -> pd.DataFrame:
    """The typed columns of a parsed file as pandas: an empty cell is NaN/None, which GX reads as null."""
    return parsed.typed.to_pandas()


def package_frames(filing: RawFiling) -> dict[str, pd.DataFrame]:
    """Every template file of a package as read (``connectors.intake.read_package``) as a typed pandas
    frame, whether or not the filing is rejected.

    ``CheckResult.tables`` is empty for a rejected filing, so the frames are rebuilt from the files.
    """
    template = get_template(filing.template_version or "")
    frames = {}
    for spec in template.files:
        raw = filing.files.get(spec.name)
        parsed = parse_file(spec, raw.take_table(), Findings()) if raw is not None else None
        if parsed is not None:
            frames[spec.name] = parsed_frame(parsed)
    return frames


def _condition_mask(frame: pd.DataFrame, condition: dict[str, Any]) -> pd.Series:
    """Evaluate a serialized GX row condition (the kinds suites.py writes) with plain pandas."""
    kind = condition.get("type")
    if kind in ("and", "or"):
        masks = [_condition_mask(frame, c) for c in condition["conditions"]]
        out = masks[0]
        for m in masks[1:]:
            out = (out & m) if kind == "and" else (out | m)
        return out
    if kind == "nullity":
        isnull = frame[condition["column"]["name"]].isna()
        return isnull if condition["is_null"] else ~isnull
    if kind != "comparison":
        raise ValueError(f"unsupported row condition {condition!r}")
    values, op = frame[condition["column"]["name"]], condition["operator"]
    parameter = condition["parameter"]
    if op in ("IN", "NOT_IN"):
        mask = values.isin(parameter)
        return mask if op == "IN" else ~mask & values.notna()
    if op == "==":
        return values == parameter
    if op == "!=":
        return (values != parameter) & values.notna()
    raise ValueError(f"unsupported operator {op!r}")


def engine_outcome(check_result: CheckResult, suite_dict: dict[str, Any], frame: pd.DataFrame) -> dict[int, bool]:
    """Success of each expectation as our engine's findings say it.

    An expectation fails iff the findings hold its rule on its file and column at a row where its row
    condition holds (``frame`` is the file's typed data, to evaluate conditions). SCH-003 has two parts
    on the same column: for ``part: format`` only rows whose value fails its regex count, for ``part:
    check_character`` only rows whose value passes it (the engine reports both under SCH-003).
    """
    if 2 not in check_result.phases_run:
        raise ValueError("the schema phase did not run: an earlier phase found errors")
    file = suite_dict["meta"]["file"]
    findings = check_result.findings
    in_file = findings.filter(pc.equal(findings["file"], file))
    by_rule_column: dict[tuple[str, str], list[tuple[int, str | None]]] = {}
    for rule_id, column, row, value in zip(*(in_file[c].to_pylist() for c in ("rule_id", "column", "row", "value")),
                                           strict=True):
        by_rule_column.setdefault((rule_id, column), []).append((row, value))
    outcome = {}
    for index, expectation in enumerate(suite_dict["expectations"]):
        meta, kwargs = expectation["meta"], expectation["kwargs"]
        hits = by_rule_column.get((meta["rule_id"], kwargs["column"]), [])
        condition = kwargs.get("row_condition")
        if condition is not None and hits:
            applies = _condition_mask(frame, condition).to_numpy()
            hits = [(row, value) for row, value in hits if applies[row - 1]]
        if meta.get("part") in ("format", "check_character"):
            pattern = re.compile(_format_regex(suite_dict, expectation))
            fails_format = meta["part"] == "format"
            hits = [(row, value) for row, value in hits
                    if (value is None or not pattern.search(value)) == fails_format]
        outcome[index] = not hits
    return outcome


def _format_regex(suite_dict: dict[str, Any], expectation: dict[str, Any]) -> str:
    """The regex of the ``part: format`` expectation with the same column and row condition."""
    for other in suite_dict["expectations"]:
        if (other["meta"].get("part") == "format" and other["kwargs"]["column"] == expectation["kwargs"]["column"]
                and other["kwargs"].get("row_condition") == expectation["kwargs"].get("row_condition")):
            return other["kwargs"]["regex"]
    raise ValueError(f"no format expectation for {expectation['type']}")
