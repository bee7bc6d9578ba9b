"""Say what a received package is before anything reads it in full: its identity (SHA-256) and whom
and which period its manifest says it is for.

The doors (landing folder, pull, upload) must record a submission before validation starts, and a
submission needs a guarantor and a period. Reading the whole package for that would parse every data
file twice, so this module opens only ``manifest.json``. Nothing here raises for bad input: a package
whose manifest cannot be read simply has no identity, and the caller falls back to what it knows
(the pull endpoint's guarantor, the landing sub-folder's name).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20  # a manifest is a few hundred bytes; anything past this is not one
MAX_MANIFEST_DEPTH = 16  # objects and arrays inside each other (a manifest needs 3)
MAX_NUMBER_CHARS = 40  # no manifest value is a number; a long one is refused before Python converts it

_PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")  # ASCII digits only (rules.md 1.1): not \d
_USCC_SHAPE = re.compile(r"[0-9A-Z]{18}")


@dataclass(frozen=True)
class PackageIdentity:
    """Whom and which period a package is for, as far as can be told (``None`` where unknown)."""

    institution_id: str | None
    period: str | None

    @property
    def complete(self) -> bool:
        return self.institution_id is not None and self.period is not None


class ManifestError(ValueError):
    """``manifest.json`` cannot be read as one unambiguous JSON object (FMT-001); ``key`` names the
    offending key where there is one."""

    def __init__(self, message_zh: str, message_en: str, key: str | None = None) -> None:
        super().__init__(message_en)
        self.message_zh, self.message_en, self.key = message_zh, message_en, key


def is_period(text: object) -> bool:
    return isinstance(text, str) and _PERIOD.fullmatch(text) is not None


def is_uscc_shaped(text: object) -> bool:
    """18 digits or capital letters: the shape of a USCC (the check character is FMT/SCH business)."""
    return isinstance(text, str) and _USCC_SHAPE.fullmatch(text) is not None


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def folder_sha256(path: str | Path) -> str:
    """A package folder's identity, computed exactly as ``connectors.intake.package`` does when it reads
    the folder: SHA-256 over the sorted relative member names and each member's SHA-256."""
    root = Path(path).resolve()
    digest = hashlib.sha256()
    for name in sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()):
        digest.update(f"{name}\0{sha256_file(root / name)}\n".encode())
    return digest.hexdigest()


def manifest_from_zip(source: bytes | str | Path) -> dict[str, Any] | None:
    """The manifest of a ZIP package (at its root or in its single top-level folder), or None."""
    try:
        handle = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    with handle:
        names = {PurePosixPath(i.filename.replace("\\", "/")).as_posix(): i for i in handle.infolist()}
        info = names.get(MANIFEST)
        if info is None:
            nested = [i for n, i in names.items() if n.endswith("/" + MANIFEST) and n.count("/") == 1]
            info = nested[0] if len(nested) == 1 else None
        if info is None or info.file_size > MAX_MANIFEST_BYTES or info.flag_bits & 0x1:
            return None
        try:
            with handle.open(info) as member:  # the header's size is not trusted: read one byte past it
                data = member.read(MAX_MANIFEST_BYTES + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zipfile.LargeZipFile,
                zlib.error, ValueError):
            return None
    return _parse(data)


def manifest_from_folder(path: str | Path) -> dict[str, Any] | None:
    manifest = Path(path) / MANIFEST
    try:
        if not manifest.is_file() or manifest.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        return _parse(manifest.read_bytes())
    except OSError:
        return None


def identify(manifest: dict[str, Any] | None, *, institution_id: str | None = None,
             period: str | None = None) -> PackageIdentity:
    """The package's guarantor and period: the manifest's where they are usable, else the hints.

    The manifest wins because a submission records what was filed (``store.models.Submission``); a
    hint only fills a gap left by a broken manifest, so that the rejection can still be shown to the
    guarantor who sent it.
    """
    manifest = manifest or {}
    found_id = manifest.get("institution_id")
    found_id = found_id.strip() if isinstance(found_id, str) else None
    if not found_id or len(found_id) > 64:
        found_id = institution_id
    found_period = manifest.get("period")
    if not is_period(found_period):
        found_period = period if is_period(period) else None
    return PackageIdentity(found_id or None, found_period)


def parse_manifest(data: bytes) -> dict[str, Any]:
    """``manifest.json``'s bytes as a dict, strictly: UTF-8 (a BOM is allowed), at most
    ``MAX_MANIFEST_BYTES``, one JSON object whose keys are unique at every level, nested at most
    ``MAX_MANIFEST_DEPTH`` deep, no number longer than ``MAX_NUMBER_CHARS`` characters and no
    ``NaN``/``Infinity``. Raises ``ManifestError`` (never anything else) saying what is wrong."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"manifest.json 超过 {MAX_MANIFEST_BYTES} 字节，不是清单",
                            f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes: not a manifest")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError("manifest.json 不是 UTF-8 编码",
                            f"manifest.json is not UTF-8 (invalid byte at offset {exc.start})") from None
    try:
        manifest = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_number(int),
                              parse_float=_number(float), parse_constant=_no_constant)
    except ManifestError:
        raise
    except json.JSONDecodeError as exc:
        raise ManifestError("manifest.json 不是有效的 JSON",
                            f"not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        manifest = None
    except (ValueError, OverflowError) as exc:  # belt and braces: the hooks refuse what Python cannot convert
        raise ManifestError("manifest.json 不是有效的 JSON", f"not valid JSON ({type(exc).__name__})") from None
    if manifest is None or _depth(manifest) > MAX_MANIFEST_DEPTH:
        raise ManifestError(f"manifest.json 嵌套超过 {MAX_MANIFEST_DEPTH} 层",
                            f"manifest.json nests objects or arrays more than {MAX_MANIFEST_DEPTH} levels deep")
    if not isinstance(manifest, dict):
        raise ManifestError("manifest.json 不是 JSON 对象", "not a JSON object")
    return manifest


def _depth(value: Any) -> int:
    """How deep objects and arrays nest, counted without recursion; a string holding a lone surrogate
    (``"\\ud800"``, which no UTF-8 text can carry) is refused on the way."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise ManifestError("manifest.json 含无效的 Unicode 转义（孤立代理项）",
                                    "manifest.json holds an invalid Unicode escape (a lone surrogate)")
        elif isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_MANIFEST_DEPTH:
                children = [*item, *item.values()] if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
    return deepest


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ManifestError(f"manifest.json 中键 {key[:80]} 出现两次",
                                f"key {key[:80]!r} appears twice in manifest.json", key=key[:80])
        seen[key] = value
    return seen


def _number(convert: Any) -> Any:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise ManifestError(f"manifest.json 含 {len(text)} 位的数字", f"manifest.json holds a {len(text)}-character number")
        return convert(text)

    return parse


def _no_constant(name: str) -> Any:
    raise ManifestError(f"manifest.json 含 {name}（不是 JSON）", f"manifest.json holds {name}, which is not JSON")


def _parse(data: bytes) -> dict[str, Any] | None:
    try:
        return parse_manifest(data)
    except ManifestError:
        return None
