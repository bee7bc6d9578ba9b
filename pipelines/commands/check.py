"""`danbao check PACKAGE [--registry CSV] [--json]`: validate one package exactly as the pipeline would,
storing nothing (outputs.md §1)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from typing import Any

from connectors.intake import IntakeLimits, read_package
from connectors.registry import RegistryError, read_registry_csv
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
    try:
        registry = _registry(args.registry)
    except UsageError as exc:
        print(f"danbao check: {exc}", file=sys.stderr)
        return 2
    try:
        result = check_package(args.package, registry)
    except Exception as exc:  # a bug, not bad input (that is a finding): one line, never a traceback
        if os.environ.get("DANBAO_DEBUG"):
            raise
        print(f"danbao check: internal error while checking {args.package}: {type(exc).__name__}: "
              f"{str(exc)[:200]} (set DANBAO_DEBUG=1 for the traceback)", file=sys.stderr)
        return 3
    if args.json:
        json.dump(result.to_json_dict(), sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render_summary(result, args.package))
    return 1 if result.status == FilingStatus.REJECTED else 0


def check_package(package: str, registry: dict[str, Institution]) -> CheckResult:
    filing = read_package(package, IntakeLimits.from_env())
    return validate(filing, registry)


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
        return registry_from_store()
    except Exception as exc:  # the store is configured from the environment: say why it failed
        raise UsageError(f"cannot read the registry from the store ({type(exc).__name__}: {exc})") from None


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
    rows = result.findings.to_pylist()
    by_rule = Counter(f["rule_id"] for f in rows)
    if by_rule:
        lines.append("  按规则 by rule:")
        for rule_id, n in sorted(by_rule.items()):
            severity = next(f["severity"] for f in rows if f["rule_id"] == rule_id)
            lines.append(f"    {rule_id}  {severity:<7}  {n}")
        for rule_id in sorted(by_rule):
            lines.append(f"  {rule_id}:")
            shown = [f for f in rows if f["rule_id"] == rule_id][:FIRST_PER_RULE]
            for f in shown:
                lines.append(f"    {_where(f)}  {f['message_zh']}")
                lines.append(f"    {' ' * len(_where(f))}  {f['message_en']}")
            if by_rule[rule_id] > len(shown):
                lines.append(f"    … 另有 {by_rule[rule_id] - len(shown)} 条 / {by_rule[rule_id] - len(shown)} more")
    return "\n".join(lines)


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
