"""FMT-001: the manifest's keys and the form of their values."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from schemas import SUPPORTED_VERSIONS, get_template
from validations.catalog import rule
from validations.findings import Finding

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MANIFEST = "manifest.json"


def check_manifest(manifest: dict[str, Any]) -> list[Finding]:
    fmt001 = rule("FMT-001")

    def bad(zh: str, en: str, key: str, value: Any = None) -> Finding:
        return fmt001.finding(zh, en, file=MANIFEST, column=key, value=value)

    findings: list[Finding] = []
    version = manifest.get("template_version")
    if version not in SUPPORTED_VERSIONS:
        if "template_version" not in manifest:
            return [bad("缺少键 template_version", "missing key template_version", "template_version")]
        return [bad("不支持的模板版本", f"unsupported template_version (known: {', '.join(SUPPORTED_VERSIONS)})",
                    "template_version", version)]
    template = get_template(version)
    for key in template.manifest_keys:
        if key not in manifest or manifest[key] in (None, ""):
            findings.append(bad(f"缺少键 {key}", f"missing key {key}", key))
    iid = manifest.get("institution_id")
    if "institution_id" in manifest and (not isinstance(iid, str) or len(iid) != 18):
        findings.append(bad("institution_id 应为 18 位统一社会信用代码", "institution_id must be an 18-character USCC",
                            "institution_id", iid))
    period = manifest.get("period")
    if "period" in manifest and (not isinstance(period, str) or not PERIOD.match(period)):
        findings.append(bad("period 应为 YYYY-MM", "period must be YYYY-MM", "period", period))
    submitted = manifest.get("submitted_at")
    if "submitted_at" in manifest and parse_submitted_at(submitted) is None:
        findings.append(bad("submitted_at 应为带时区的 ISO 8601 时间", "submitted_at must be ISO 8601 with an offset",
                            "submitted_at", submitted))
    files = manifest.get("files")
    if "files" in manifest:
        if not isinstance(files, dict):
            findings.append(bad("files 应为对象", "files must be an object", "files"))
        else:
            for spec in template.files:
                entry = files.get(spec.name)
                if entry is None:
                    if not spec.optional:
                        findings.append(bad(f"files 缺少 {spec.name}", f"files lacks {spec.name}", f"files.{spec.name}"))
                    continue
                if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
                    findings.append(bad(f"files.{spec.name} 缺少 path", f"files.{spec.name} lacks path",
                                        f"files.{spec.name}.path"))
                elif not isinstance(entry.get("sha256"), str):
                    findings.append(bad(f"files.{spec.name} 缺少 sha256", f"files.{spec.name} lacks sha256",
                                        f"files.{spec.name}.sha256"))
    return findings


def parse_submitted_at(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
