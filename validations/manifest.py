"""FMT-001: the manifest's keys and the form of their values."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from schemas import SUPPORTED_VERSIONS, get_template
from validations.catalog import rule
from validations.findings import Finding

PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")  # ASCII digits only (rules.md 1.1), never \d
MANIFEST = "manifest.json"
_CONTROL = re.compile("[\x00-\x1f\x7f]")
MAX_PATH_CHARS = 255


def check_manifest(manifest: dict[str, Any]) -> list[Finding]:
    fmt001 = rule("FMT-001")

    def bad(zh: str, en: str, key: str, value: Any = None) -> Finding:
        return fmt001.finding(zh, en, file=MANIFEST, column=key, value=_shown(value))

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
    if "institution_id" in manifest and (not isinstance(iid, str) or len(iid) != 18 or not iid.isascii()):
        findings.append(bad("institution_id 应为 18 位统一社会信用代码", "institution_id must be an 18-character USCC",
                            "institution_id", iid))
    period = manifest.get("period")
    if "period" in manifest and (not isinstance(period, str) or not PERIOD.fullmatch(period)):
        if isinstance(period, str) and PERIOD.fullmatch(_ascii_digits(period)):
            findings.append(bad("period 应为 YYYY-MM，且只用 ASCII 数字（不得用全角或其他数字）",
                                "period must be YYYY-MM in ASCII digits (not full-width or other digits)",
                                "period", period))
        else:
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
                elif (problem := path_problem(entry["path"])) is not None:
                    findings.append(bad(f"files.{spec.name}.path 不是报送包内的相对路径（{problem[0]}）",
                                        f"files.{spec.name}.path is not a relative path inside the package ({problem[1]})",
                                        f"files.{spec.name}.path", entry["path"]))
                elif not isinstance(entry.get("sha256"), str):
                    findings.append(bad(f"files.{spec.name} 缺少 sha256", f"files.{spec.name} lacks sha256",
                                        f"files.{spec.name}.sha256"))
    return findings


def path_problem(path: str) -> tuple[str, str] | None:
    """Why a manifest ``path`` cannot name a member of the package (zh, en), or None when it can: a
    relative path (``/`` or ``\\`` separated) without ``..``, a drive or control characters (NUL)."""
    if _CONTROL.search(path):
        return "含控制字符", "it holds a control character such as NUL"
    if len(path) > MAX_PATH_CHARS:
        return f"超过 {MAX_PATH_CHARS} 个字符", f"longer than {MAX_PATH_CHARS} characters"
    parts = path.replace("\\", "/").split("/")
    if path.startswith(("/", "\\")) or ":" in parts[0]:
        return "是绝对路径", "it is absolute"
    if ".." in parts:
        return "含 ..", "it holds .."
    return None


def _ascii_digits(text: str) -> str:
    """Digits of any script (full-width ２, Arabic-Indic ٢, …) as ASCII, to say why a value was refused."""
    return "".join(str(int(c)) if c.isdecimal() and not c.isascii() else c for c in text)


def _shown(value: Any) -> str | None:
    """A manifest value as a finding shows it: text, at most 200 characters."""
    if value is None:
        return None
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:200] + "…"


def parse_submitted_at(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value.isascii():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
