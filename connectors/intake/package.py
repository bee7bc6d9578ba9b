"""Open a filing package (folder or ZIP), check its manifest and files, read each data file.

Everything that goes wrong here becomes a phase-1 finding (FMT-001/002/003/007) on the returned
``RawFiling``; nothing raises past this module for bad input.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path, PurePosixPath

from connectors.intake.limits import IntakeLimits
from connectors.intake.readers import ReadError, format_of, read_table
from schemas import SUPPORTED_VERSIONS, get_template
from validations.catalog import rule
from validations.filing import RawFile, RawFiling
from validations.manifest import check_manifest

MANIFEST = "manifest.json"


class _Limit(Exception):
    def __init__(self, zh: str, en: str, rule_id: str = "FMT-007") -> None:
        super().__init__(en)
        self.zh, self.en, self.rule_id = zh, en, rule_id


class _Source:
    """Members of a package by their POSIX path relative to the package root."""

    def names(self) -> list[str]:
        raise NotImplementedError

    def read(self, name: str) -> bytes | None:
        raise NotImplementedError


class _FolderSource(_Source):
    def __init__(self, root: Path, limits: IntakeLimits) -> None:
        self.root, self.limits = root.resolve(), limits

    def names(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def read(self, name: str) -> bytes | None:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            raise _Limit("文件路径越出报送包", f"path {name!r} leaves the package", "FMT-003")
        if not path.is_file():
            return None
        if path.stat().st_size > self.limits.max_package_bytes:
            raise _Limit("文件超过大小限制", f"{name} is larger than {self.limits.max_package_bytes} bytes")
        return path.read_bytes()


class _ZipSource(_Source):
    def __init__(self, data: bytes, limits: IntakeLimits) -> None:
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _Limit("ZIP 文件损坏", f"corrupt ZIP ({exc})", "FMT-003") from None
        if len(infos) > limits.max_members:
            raise _Limit("ZIP 成员过多", f"the ZIP holds {len(infos)} members, more than {limits.max_members}")
        total = 0
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            pure = PurePosixPath(name.replace("\\", "/"))
            if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
                raise _Limit("ZIP 成员路径不安全", f"unsafe ZIP member path {name!r}", "FMT-003")
            if info.is_dir():
                continue
            total += info.file_size
            self.infos[pure.as_posix()] = info
        if total > limits.max_expanded_bytes:
            raise _Limit("ZIP 解压后超过大小限制", f"the ZIP expands to {total} bytes, past the limit")
        # a single top-level folder holding the manifest is the root
        self.prefix = ""
        if MANIFEST not in self.infos:
            roots = [n[: -len(MANIFEST)] for n in self.infos if n.endswith("/" + MANIFEST) and n.count("/") == 1]
            if len(roots) == 1:
                self.prefix = roots[0]

    def names(self) -> list[str]:
        return sorted(n[len(self.prefix):] for n in self.infos if n.startswith(self.prefix))

    def read(self, name: str) -> bytes | None:
        info = self.infos.get(self.prefix + str(PurePosixPath(name)))
        if info is None:
            return None
        budget = min(
            self.limits.max_expanded_bytes,
            max(int(info.compress_size * self.limits.max_expansion_ratio), 1 << 20),
        )
        chunks, size = [], 0
        try:
            with self.zip.open(info) as member:  # sizes in the header are not trusted: count while reading
                while chunk := member.read(1 << 20):
                    size += len(chunk)
                    if size > budget:
                        raise _Limit(
                            "ZIP 成员解压比例或大小超过限制",
                            f"{name} expands past the limit (ratio {self.limits.max_expansion_ratio:g})",
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
            raise _Limit("ZIP 成员损坏", f"corrupt ZIP member {name} ({exc})", "FMT-003") from None
        except NotImplementedError:
            raise _Limit("ZIP 压缩方式不受支持", f"unsupported compression in {name}", "FMT-003") from None
        except RuntimeError as exc:  # encrypted members
            raise _Limit("ZIP 成员已加密", f"cannot read {name} ({exc})", "FMT-003") from None
        return b"".join(chunks)


def read_package(path: str | Path, limits: IntakeLimits | None = None) -> RawFiling:
    """Read a package from a folder or a ``.zip`` file."""
    limits = limits or IntakeLimits()
    path = Path(path)
    if path.is_dir():
        filing = RawFiling(manifest=None)
        try:
            source = _FolderSource(path, limits)
            total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            filing.package_bytes = total
            if total > limits.max_package_bytes:
                raise _Limit("报送包超过大小限制", f"the package is {total} bytes, over {limits.max_package_bytes}")
            filing.package_sha256 = _folder_digest(source)
        except _Limit as exc:
            filing.findings.add(rule(exc.rule_id).finding(exc.zh, exc.en))
            return filing
        return _read(source, filing, limits)
    if not path.is_file():
        filing = RawFiling(manifest=None)
        filing.findings.add(rule("FMT-001").finding("报送包不存在", f"no package at {path}"))
        return filing
    size = path.stat().st_size
    if size > limits.max_package_bytes:
        filing = RawFiling(manifest=None, package_bytes=size)
        filing.findings.add(
            rule("FMT-007").finding("报送包超过大小限制", f"the package is {size} bytes, over {limits.max_package_bytes}")
        )
        return filing
    return read_package_bytes(path.read_bytes(), limits)


def read_package_bytes(data: bytes, limits: IntakeLimits | None = None) -> RawFiling:
    """Read a package received as the bytes of a ZIP (upload, pull)."""
    limits = limits or IntakeLimits()
    filing = RawFiling(manifest=None, package_sha256=hashlib.sha256(data).hexdigest(), package_bytes=len(data))
    try:
        if len(data) > limits.max_package_bytes:
            raise _Limit("报送包超过大小限制", f"the package is {len(data)} bytes, over {limits.max_package_bytes}")
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise _Limit("报送包不是 ZIP 文件", "the package is not a ZIP file", "FMT-003")
        source = _ZipSource(data, limits)
    except _Limit as exc:
        filing.findings.add(rule(exc.rule_id).finding(exc.zh, exc.en))
        return filing
    return _read(source, filing, limits)


def _folder_digest(source: _FolderSource) -> str:
    """A folder's identity: SHA-256 over its sorted member names and their SHA-256s."""
    digest = hashlib.sha256()
    for name in source.names():
        data = source.read(name) or b""
        digest.update(f"{name}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    return digest.hexdigest()


def _read(source: _Source, filing: RawFiling, limits: IntakeLimits) -> RawFiling:
    fmt001 = rule("FMT-001")
    try:
        manifest_bytes = source.read(MANIFEST)
    except _Limit as exc:
        filing.findings.add(rule(exc.rule_id).finding(exc.zh, exc.en, file=MANIFEST))
        return filing
    if manifest_bytes is None:
        filing.findings.add(fmt001.finding("缺少 manifest.json", "manifest.json is missing", file=MANIFEST))
        return filing
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        filing.findings.add(fmt001.finding("manifest.json 不是有效的 JSON", f"not valid JSON ({exc})", file=MANIFEST))
        return filing
    if not isinstance(manifest, dict):
        filing.findings.add(fmt001.finding("manifest.json 不是 JSON 对象", "not a JSON object", file=MANIFEST))
        return filing
    filing.manifest = manifest
    manifest_findings = check_manifest(manifest)
    filing.findings.extend(manifest_findings)
    version = manifest.get("template_version")
    if version not in SUPPORTED_VERSIONS or not isinstance(manifest.get("files"), dict):
        return filing
    template = get_template(version)
    for spec in template.files:
        entry = manifest["files"].get(spec.name)
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue  # reported by check_manifest
        _read_member(source, filing, spec.name, entry, limits)
    return filing


def _read_member(source: _Source, filing: RawFiling, name: str, entry: dict, limits: IntakeLimits) -> None:
    member = entry["path"]
    try:
        data = source.read(member)
    except _Limit as exc:
        filing.findings.add(rule(exc.rule_id).finding(exc.zh, exc.en, file=name))
        return
    if data is None:
        filing.findings.add(
            rule("FMT-002").finding(f"文件 {member} 不存在", f"file {member} is missing", file=name, value=member)
        )
        return
    actual = hashlib.sha256(data).hexdigest()
    expected = entry.get("sha256")
    if not isinstance(expected, str) or actual != expected.strip().lower():
        filing.findings.add(
            rule("FMT-002").finding(
                f"{member} 的 SHA-256 与清单不符", f"SHA-256 of {member} differs from the manifest ({expected})",
                file=name, column="sha256", value=actual,
            )
        )
        return
    fmt = format_of(member)
    if fmt is None:
        filing.findings.add(
            rule("FMT-003").finding("不支持的文件类型", f"{member}: unsupported file type (CSV, XLSX or Parquet)", file=name)
        )
        return
    try:
        table, encoding, formulas = read_table(data, fmt, limits)
    except ReadError as exc:
        filing.findings.add(
            rule(exc.rule_id).finding(exc.message_zh, f"{member}: {exc.message_en}", file=name, row=exc.row,
                                      column=exc.column)
        )
        return
    for row, column in formulas:
        filing.findings.add(
            rule("FMT-005").finding("单元格是公式，应填写数值", "the cell holds a formula, not a value", file=name,
                                    row=row, column=column)
        )
    filing.files[name] = RawFile(name=name, path=member, table=table, format=fmt, encoding=encoding)
