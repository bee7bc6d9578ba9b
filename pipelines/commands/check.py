"""`danbao check PACKAGE [--registry CSV] [--json]`: validate one package exactly as the pipeline would,
storing nothing (outputs.md §1)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from typing import Any, TextIO

import pyarrow.compute as pc

from connectors.intake import IntakeLimits, read_package
from connectors.registry import RegistryError, read_registry_csv
from filings.settings import SettingsError, load
from pipelines.progress import Progress, silent
from validations.context import Institution
from validations.engine import CheckResult, FilingStatus, validate

FIRST_PER_RULE = 5


class UsageError(Exception):
    pass


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("check", help="validate one filing package (folder or .zip)")
    parser.add_argument("package", help="the package folder or .zip")
    parser.add_argument("--registry", help="registry CSV (default: the configured store)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not os.path.exists(args.package):  # a typo is a usage error, not a rejected filing
        print(f"danbao check: no package at {args.package} (a folder with manifest.json, or a .zip)", file=sys.stderr)
        return 2
    try:
        registry = _registry(args.registry)
    except UsageError as exc:
        print(f"danbao check: {exc}", file=sys.stderr)
        return 2
    try:
        settings = load()
    except SettingsError as exc:
        print(f"danbao check: configuration error: {exc}", file=sys.stderr)
        return 2
    progress = Progress.for_terminal(quiet=args.json)
    try:
        result = check_package(args.package, registry, progress, settings.intake_limits())
    except Exception as exc:  # a bug, not bad input (that is a finding): one line, never a traceback
        if settings.debug:
            raise
        print(f"danbao check: internal error while checking {args.package}: {type(exc).__name__}: "
              f"{str(exc)[:200]} (set DANBAO_DEBUG=1 for the traceback)", file=sys.stderr)
        return 3
    finally:
        progress.done()
    if args.json:
        write_json(result, sys.stdout)
    else:
        print(render_summary(result, args.package))
    return 1 if result.status == FilingStatus.REJECTED else 0


def check_package(package: str, registry: dict[str, Institution], progress=silent,
                  limits: IntakeLimits | None = None) -> CheckResult:
    """Each step (reading, rows read, each phase) is shown by rich's spinner on a terminal (or with
    ``DANBAO_PROGRESS=always``), else handed to ``progress``."""
    from pipelines.commands import term

    with term.status(f"读取 reading {package} …") as spinner:
        shown = not isinstance(spinner, term.Quiet)

        def report(line: str) -> None:
            if shown:
                spinner.update(f"校验 validating {package}: {line}")
            else:
                progress(line)

        report(f"reading {package}")
        filing = read_package(package, limits or load().intake_limits())
        rows = sum(f.table.num_rows for f in filing.files.values())
        report(f"{rows:,} rows read from {len(filing.files)} file(s)")
        # the statistical sections feed the CBRC report; a check prints none of them (outputs.md §1)
        return validate(filing, registry, progress=report, with_statistics=False)


def _registry(path: str | None) -> dict[str, Institution]:
    if path:
        try:
            return read_registry_csv(path)
        except RegistryError as exc:
            raise UsageError(str(exc)) from None
    try:
        from store.registry import registry_from_store
    except ImportError:  # pragma: no cover - the store ships with the distribution
        raise UsageError("no --registry given and no store available") from None
    try:
        registry = registry_from_store()
    except Exception as exc:  # the store is configured from the environment: say why it failed
        raise UsageError(f"cannot read the registry from the store ({_store_reason(exc)}); "
                         "pass --registry registry.csv") from None
    return registry


def _store_reason(exc: Exception) -> str:
    """One readable reason, never a raw SQL statement: the store is missing, empty or unreachable."""
    text = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if "no such table" in text or "does not exist" in text or "UndefinedTable" in type(exc).__name__:
        return "the store at DANBAO_DATABASE_URL / DANBAO_HOME has no registry yet"
    if "connect" in text.lower() or "unable to open" in text.lower():
        return f"the store cannot be opened: {text[:120]}"
    return f"{type(exc).__name__}: {text[:160]}"


def write_json(result: CheckResult, out: TextIO) -> None:
    """The JSON of outputs.md §1, as ``json.dump(result.to_json_dict(), indent=2)`` writes it, but with
    the findings streamed from Arrow in batches: a million findings never become a million dicts at once."""
    head = {
        "institution_id": result.institution_id,
        "period": result.period,
        "template_version": result.template_version,
        "status": str(result.status),
    }
    out.write("{\n")
    for key, value in head.items():
        out.write(f"  {json.dumps(key)}: {_indented(value)},\n")
    out.write('  "findings": [')
    first = True
    for batch in result.findings.to_batches(max_chunksize=10_000):
        for finding in batch.to_pylist():
            out.write("\n    " if first else ",\n    ")
            out.write(json.dumps(finding, ensure_ascii=False, indent=2, default=str).replace("\n", "\n    "))
            first = False
    out.write("]" if first else "\n  ]")
    out.write(f',\n  "indicators": {_indented(result.indicators)},\n  "grade": {_indented(result.grade)}\n}}\n')


def _indented(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str).replace("\n", "\n  ")


def render_summary(result: CheckResult, package: str) -> str:
    """A readable bilingual summary: status, counts by rule, then the first findings of each rule."""
    counts = result.counts()
    lines = [
        f"{package}",
        f"  机构 institution: {result.institution_id or '?'}   期间 period: {result.period or '?'}"
        f"   模板 template: {result.template_version or '?'}",
        f"  结论 status: {_STATUS_ZH[result.status]} / {result.status}"
        f"   错误 errors: {counts['error']}   警告 warnings: {counts['warning']}",
    ]
    if result.grade:
        lines.append(f"  监管评级 grade: {result.grade}")
    table = result.findings
    by_rule = Counter(dict(zip(*(c.to_pylist() for c in pc.value_counts(table["rule_id"]).flatten()), strict=True)))
    first_of_rule = {}
    if by_rule:  # the first findings of each rule, without turning every finding into a dict
        for rule_id in by_rule:
            first_of_rule[rule_id] = table.filter(pc.equal(table["rule_id"], rule_id)).slice(0, FIRST_PER_RULE).to_pylist()
        lines.append("  按规则 by rule:")
        rows = []
        for rule_id, n in sorted(by_rule.items()):
            severity = first_of_rule[rule_id][0]["severity"]
            title_zh, title_en = _titles(rule_id)
            rows.append((rule_id, severity, str(n), title_zh, title_en))
        lines += ["    " + line for line in columns(rows, right=(2,))]
        for rule_id in sorted(by_rule):
            lines.append(f"  {rule_id}:")
            shown = first_of_rule[rule_id]
            for f in shown:
                lines.append(f"    {_where(f)}  {f['message_zh']}")
                lines.append(f"    {' ' * len(_where(f))}  {f['message_en']}")
            if by_rule[rule_id] > len(shown):
                lines.append(f"    … 另有 {by_rule[rule_id] - len(shown)} 条 / {by_rule[rule_id] - len(shown)} more")
    return "\n".join(lines)


def _titles(rule_id: str) -> tuple[str, str]:
    from validations.catalog import rule

    try:
        r = rule(rule_id)
    except KeyError:
        return "", ""
    return r.title_zh, r.title_en


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: wide (East Asian W/F) characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def columns(rows: list[tuple[str, ...]], right: tuple[int, ...] = ()) -> list[str]:
    """Rows as lines whose columns line up by display width (Chinese text counts double)."""
    if not rows:
        return []
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = []
        for i, cell in enumerate(r):
            pad = " " * (widths[i] - display_width(cell))
            cells.append(pad + cell if i in right else (cell + pad if i < len(r) - 1 else cell))
        out.append("  ".join(cells))
    return out


_STATUS_ZH = {FilingStatus.REJECTED: "退回", FilingStatus.NEEDS_CONFIRMATION: "待确认", FilingStatus.ACCEPTED: "接受"}


def _where(f: dict[str, Any]) -> str:
    parts = [f["file"] or "filing"]
    if f["row"] is not None:
        parts.append(f"row {f['row']}")
    if f["column"]:
        parts.append(f["column"])
    text = ":".join(parts)
    if f["value"] is not None:
        text += f" = {f['value'][:40]!r}"
    return text
