"""Open a filing package (folder or ZIP), check its manifest and files, read each data file.

Everything that goes wrong here becomes a phase-1 finding (FMT-001/002/003/007) on the returned
``RawFiling``; nothing raises past this module for bad input. The package is never extracted to disk:
members are read into memory within the limits, counted while inflating.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
import threading
import zipfile
import zlib
from concurrent.futures import Future
from pathlib import Path, PurePosixPath

import pyarrow as pa

from connectors import hash_ahead
from connectors.arrow_sources import read_file_buffer
from connectors.intake.limits import IntakeLimits
from connectors.intake.readers import Handover, ReadError, format_of, read_table
from connectors.intake.receive import MAX_MANIFEST_BYTES, ManifestError, parse_manifest
from connectors.leased_map import LeasedMap, map_leased
from schemas import SUPPORTED_VERSIONS, get_template
from validations.catalog import rule
from validations.filing import RawFile, RawFiling
from validations.manifest import check_manifest, path_problem

MANIFEST = "manifest.json"
log = logging.getLogger(__name__)

# what zipfile and zlib raise on a damaged archive or member (zlib.error on corrupt deflate data)
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError, KeyError)


class _Limit(Exception):
    def __init__(self, zh: str, en: str, rule_id: str = "FMT-007") -> None:
        super().__init__(en)
        self.zh, self.en, self.rule_id = zh, en, rule_id


def _member_key(name: str) -> str:
    """A member's path as the manifest names it: POSIX separators, no ``./``."""
    return PurePosixPath(name.replace("\\", "/")).as_posix()


class _Hash:
    """The SHA-256 of a member, computed in a thread (hashlib releases the GIL on large buffers) so that
    hashing overlaps reading and parsing instead of preceding them."""

    _INLINE = 1 << 20

    def __init__(self, data: bytes | pa.Buffer, ahead: Future[str] | None = None) -> None:
        self._result: str | None = None
        self._thread: threading.Thread | None = None
        self._ahead = ahead  # the same bytes' hash, computed ahead (connectors.hash_ahead)
        if ahead is not None:
            return
        if len(data) < self._INLINE:
            self._result = hashlib.sha256(data).hexdigest()
        else:
            self._thread = threading.Thread(target=self._run, args=(data,), daemon=True)
            self._thread.start()

    def _run(self, data: bytes | pa.Buffer) -> None:
        self._result = hashlib.sha256(data).hexdigest()

    def hexdigest(self) -> str:
        if self._ahead is not None:
            return self._ahead.result()  # an OSError if the file could not be read
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        assert self._result is not None
        return self._result


class _Source:
    """Members of a package by their POSIX path relative to the package root."""

    def digest(self, name: str) -> _Hash | None:
        """The member's hash when it is already being computed (a folder hashes every file once)."""
        return None

    def names(self) -> list[str]:
        raise NotImplementedError

    def read(self, name: str, max_bytes: int | None = None) -> bytes | pa.Buffer | None:
        """The member's bytes (at most ``max_bytes``, when given, and then always ``bytes``), None when
        there is no such member."""
        raise NotImplementedError


_ARROW_READ = 1 << 20  # a member this large is read into Arrow memory, a smaller one into bytes


class _FolderSource(_Source):
    """A package folder, walked once without following links: it may hold only regular files (a
    symbolic link could read bytes from outside the package, or loop; a FIFO would block)."""

    def __init__(self, root: Path, limits: IntakeLimits) -> None:
        self.limits = limits
        try:
            self.root = root.resolve(strict=True)
        except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python 3.11)
            raise _Limit("无法打开报送包文件夹", "the package folder cannot be opened", "FMT-003") from None
        self.sizes: dict[str, int] = {}
        errors: list[OSError] = []
        for current, dirnames, filenames in os.walk(self.root, onerror=errors.append, followlinks=False):
            here = Path(current)
            dirnames.sort()
            for name in sorted([*dirnames, *filenames]):
                path = here / name
                relative = path.relative_to(self.root).as_posix()
                try:
                    st = path.lstat()
                except OSError:
                    errors.append(OSError(relative))
                    continue
                if stat.S_ISLNK(st.st_mode):
                    raise _Limit(f"报送包含符号链接 {relative}（报送包只能包含文件）",
                                 f"the package holds a symbolic link, {relative!r}: a package holds only files",
                                 "FMT-003")
                if stat.S_ISDIR(st.st_mode):
                    continue
                if not stat.S_ISREG(st.st_mode):
                    raise _Limit(f"报送包含特殊文件 {relative}", f"{relative!r} is not a regular file", "FMT-003")
                self.sizes[relative] = st.st_size
        if errors:
            raise _Limit("报送包文件夹无法完整读取", "part of the package folder cannot be read", "FMT-003")
        self._held: dict[str, bytes | pa.Buffer] = {}  # files read for the folder digest, until the parse takes them
        self.hashes: dict[str, _Hash] = {}
        self._leases: list[LeasedMap] = []  # large files read in place, until the package is read
        self._mapped: dict[str, hash_ahead.Identity] = {}  # which file each one read in place is
        self._ahead = hash_ahead.current()  # hashes this process started before its imports, if any

    def close(self) -> None:
        """Give back the leases of the files read in place, once their hashes are done (the parse is)."""
        self._held.clear()
        for digest in self.hashes.values():
            digest.hexdigest()  # a hash still reading a mapped file finishes first
        for lease in self._leases:
            lease.release()
        self._leases.clear()
        if self._ahead is not None:
            hash_ahead.stop()
            self._ahead = None

    def hold(self, name: str) -> None:
        """Read a file once for both the folder digest and its parse, and start hashing it."""
        data = self.read(name) or b""
        self._held[name] = data
        key = _member_key(name)
        identity = self._mapped.get(key)  # read in place: the very file, under a lease since it was mapped
        ahead = self._ahead.digest(self.root / key, identity) if self._ahead and identity else None
        self.hashes[name] = _Hash(data, ahead)

    def digest(self, name: str) -> _Hash | None:
        return self.hashes.get(_member_key(name))

    def names(self) -> list[str]:
        return sorted(self.sizes)

    def read(self, name: str, max_bytes: int | None = None) -> bytes | pa.Buffer | None:
        key = _member_key(name)
        size = self.sizes.get(key)
        if size is None:
            return None
        if size > self.limits.max_package_bytes:
            raise _Limit("文件超过大小限制", f"{name} is larger than {self.limits.max_package_bytes} bytes")
        held = getattr(self, "_held", {})
        if key in held:
            if max_bytes is None:
                return held.pop(key)
            head = held[key][:max_bytes]
            return head.to_pybytes() if isinstance(head, pa.Buffer) else head
        try:
            if max_bytes is None and size >= _ARROW_READ:
                # in place (the page cache, under a lease that keeps writers away), else straight into
                # Arrow memory: either way the CSV reader parses it without a copy
                lease = map_leased(self.root / key, size)
                if lease is not None:
                    self._leases.append(lease)
                    if lease.identity is not None:
                        self._mapped[key] = lease.identity
                    return lease.take()
                buffer = read_file_buffer(self.root / key, size)
                if buffer is not None:
                    return buffer
            with open(self.root / key, "rb") as handle:
                return handle.read(-1 if max_bytes is None else max_bytes)
        except OSError as exc:
            raise _Limit("文件无法读取", f"{name} cannot be read ({exc.strerror or type(exc).__name__})",
                         "FMT-003") from None


class _ZipSource(_Source):
    def __init__(self, data: bytes, limits: IntakeLimits) -> None:
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (*ZIP_ERRORS, NotImplementedError, RuntimeError) as exc:
            raise _Limit("ZIP 文件损坏", f"corrupt ZIP ({_plain(exc)})", "FMT-003") from None
        if len(infos) > limits.max_members:
            raise _Limit("ZIP 成员过多", f"the ZIP holds {len(infos)} members, more than {limits.max_members}")
        total = 0
        self.infos: dict[str, list[zipfile.ZipInfo]] = {}
        folded: dict[str, str] = {}
        for info in infos:
            name = info.filename
            pure = PurePosixPath(name.replace("\\", "/"))
            if (pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0])
                    or any(ord(c) < 32 or c == "\x7f" for c in name)):
                raise _Limit("ZIP 成员路径不安全", f"unsafe ZIP member path {name[:120]!r}", "FMT-003")
            if info.is_dir():
                continue
            key = pure.as_posix()
            total += info.file_size
            # names that differ only in case are one file once extracted on Windows or macOS
            self.infos.setdefault(folded.setdefault(key.casefold(), key), []).append(info)
        if total > limits.max_expanded_bytes:
            raise _Limit("ZIP 解压后超过大小限制", f"the ZIP expands to {total} bytes, past the limit")
        self.expanded = 0
        # a single top-level folder holding the manifest is the root
        self.prefix = ""
        if MANIFEST not in self.infos:
            roots = [n[: -len(MANIFEST)] for n in self.infos if n.endswith("/" + MANIFEST) and n.count("/") == 1]
            if len(roots) == 1:
                self.prefix = roots[0]

    def names(self) -> list[str]:
        return sorted(n[len(self.prefix):] for n in self.infos if n.startswith(self.prefix))

    def read(self, name: str, max_bytes: int | None = None) -> bytes | None:
        found = self.infos.get(self.prefix + _member_key(name))
        if found is None:
            return None
        if len(found) > 1:
            names = sorted({i.filename for i in found})
            case = "" if len(names) == 1 else f" ({', '.join(map(repr, names))}: names equal up to case)"
            raise _Limit(f"ZIP 中有 {len(found)} 个名为 {name} 的成员（重复成员），无法确定报送的是哪一个",
                         f"duplicate ZIP member: the ZIP holds {len(found)} members named {name!r}{case}; "
                         "which one is filed is ambiguous", "FMT-003")
        info = found[0]
        if info.flag_bits & 0x1:
            raise _Limit(f"ZIP 成员 {name} 已加密（设有密码），请不加密重新打包",
                         f"ZIP member {name!r} is encrypted (password-protected): send the package unencrypted",
                         "FMT-003")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _Limit(f"ZIP 成员 {name} 是符号链接", f"ZIP member {name!r} is a symbolic link, not a file", "FMT-003")
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
                    if self.expanded + size > self.limits.max_expanded_bytes:
                        raise _Limit("ZIP 解压后超过大小限制",
                                     f"the ZIP's members expand past {self.limits.max_expanded_bytes} bytes")
                    chunks.append(chunk)
                    if max_bytes is not None and size >= max_bytes:
                        break
        except NotImplementedError:
            raise _Limit("ZIP 压缩方式不受支持", f"{name}: unsupported compression method {info.compress_type}",
                         "FMT-003") from None
        except (*ZIP_ERRORS, RuntimeError) as exc:
            raise _Limit(f"ZIP 成员 {name} 已损坏", f"ZIP member {name!r} is damaged ({_plain(exc)})", "FMT-003") from None
        self.expanded += size
        return b"".join(chunks)


def _plain(exc: BaseException) -> str:
    """An exception as a short sentence for a guarantor: never a Python repr."""
    text = str(exc)
    if not text or "<" in text or len(text) > 160:
        return type(exc).__name__
    return text


def read_package(path: str | Path, limits: IntakeLimits | None = None) -> RawFiling:
    """Read a package from a folder or a ``.zip`` file."""
    limits = limits or IntakeLimits()
    path = Path(path)
    try:
        return _read_path(path, limits)
    except Exception as exc:  # the last line of defence: a reader bug must not become a traceback
        _log_unexpected(exc, "reading the package %s", path)
        return _unexpected(RawFiling(manifest=None), exc)


def _read_path(path: Path, limits: IntakeLimits) -> RawFiling:
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except (OSError, ValueError):  # ValueError: a NUL in the path
        is_dir = is_file = False
    if is_dir:
        filing = RawFiling(manifest=None)
        source: _FolderSource | None = None
        try:
            source = _FolderSource(path, limits)
            total = sum(source.sizes.values())
            filing.package_bytes = total
            if total > limits.max_package_bytes:
                raise _Limit("报送包超过大小限制", f"the package is {total} bytes, over {limits.max_package_bytes}")
            for name in source.names():
                source.hold(name)
        except _Limit as exc:
            if source is not None:
                source.close()
            filing.findings.add(rule(exc.rule_id).finding(exc.zh, exc.en))
            return filing
        try:
            _read(source, filing, limits)
            filing.package_sha256 = _folder_digest(source)
        finally:
            source.close()
        return filing
    if not is_file:
        filing = RawFiling(manifest=None)
        filing.findings.add(rule("FMT-001").finding("报送包不存在", f"no package at {str(path)[:200]}"))
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
    except Exception as exc:  # the last line of defence: a reader bug must not become a traceback
        _log_unexpected(exc, "reading a %d-byte package", len(data))
        return _unexpected(filing, exc)


UNEXPECTED = "an unexpected error"  # in the message of a finding that stands for a reader bug


def _unexpected(filing: RawFiling, exc: Exception, file: str | None = None) -> RawFiling:
    filing.findings.add(rule("FMT-003").finding(
        f"{'文件' if file else '报送包'}无法读取（读取时发生意外错误 {type(exc).__name__}，已记录）",
        f"the {'file' if file else 'package'} cannot be read ({UNEXPECTED}, {type(exc).__name__}, logged)", file=file))
    return filing


def _log_unexpected(exc: Exception, what: str, *args: object) -> None:
    """Log a reader bug: one line, and the traceback only at DEBUG (``danbao check`` prints no traceback)."""
    log.error(what + " failed unexpectedly: %s: %s", *args, type(exc).__name__, str(exc)[:200],
              exc_info=exc if log.isEnabledFor(logging.DEBUG) else None)


def _folder_digest(source: _FolderSource) -> str:
    """A folder's identity: SHA-256 over its sorted member names and their SHA-256s (each file hashed
    once, while it was parsed)."""
    digest = hashlib.sha256()
    for name in source.names():
        digest.update(f"{name}\0{source.hashes[name].hexdigest()}\n".encode())
    return digest.hexdigest()


def _read(source: _Source, filing: RawFiling, limits: IntakeLimits) -> RawFiling:
    fmt001 = rule("FMT-001")
    try:
        manifest_bytes = source.read(MANIFEST, max_bytes=MAX_MANIFEST_BYTES + 1)
    except _Limit as exc:
        filing.findings.add(rule(exc.rule_id).finding(exc.zh, exc.en, file=MANIFEST))
        return filing
    if manifest_bytes is None:
        filing.findings.add(fmt001.finding("缺少 manifest.json", "manifest.json is missing", file=MANIFEST))
        return filing
    try:
        manifest = parse_manifest(manifest_bytes)
    except ManifestError as exc:
        filing.findings.add(fmt001.finding(exc.message_zh, exc.message_en, file=MANIFEST, column=exc.key))
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
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or path_problem(entry["path"]):
            continue  # reported by check_manifest
        try:
            _read_member(source, filing, spec.name, entry, limits)
        except Exception as exc:  # the last line of defence: one file's reader bug is that file's finding
            _log_unexpected(exc, "reading %s of a package", spec.name)
            _unexpected(filing, exc, spec.name)
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
    digest = source.digest(member) or _Hash(data)
    expected = entry.get("sha256")
    fmt = format_of(member)
    outcome: tuple | None = None
    failure: Exception | None = None
    held = Handover(data)
    del data  # the reader holds the bytes only while it needs them (the hash thread until it is done)
    if fmt is not None and isinstance(expected, str):
        try:  # parsed while the hash is computed; the hash is judged first, as if it had come first
            outcome = read_table(held, fmt, limits)
        except Exception as exc:  # re-raised below unless the SHA-256 differs
            failure = exc
    del held
    actual = digest.hexdigest()
    if not isinstance(expected, str) or actual != expected.strip().lower():
        filing.findings.add(
            rule("FMT-002").finding(
                f"{member} 的 SHA-256 与清单不符", f"SHA-256 of {member} differs from the manifest ({expected})",
                file=name, column="sha256", value=actual,
            )
        )
        return
    if fmt is None:
        filing.findings.add(
            rule("FMT-003").finding("不支持的文件类型", f"{member}: unsupported file type (CSV, XLSX or Parquet)", file=name)
        )
        return
    if isinstance(failure, ReadError):
        exc = failure
        filing.findings.add(
            rule(exc.rule_id).finding(exc.message_zh, f"{member}: {exc.message_en}", file=name, row=exc.row,
                                      column=exc.column)
        )
        return
    if failure is not None:
        raise failure
    assert outcome is not None
    table, encoding, formulas = outcome
    for row, column in formulas:
        filing.findings.add(
            rule("FMT-005").finding("单元格是公式，应填写数值", "the cell holds a formula, not a value", file=name,
                                    row=row, column=column)
        )
    filing.files[name] = RawFile(name=name, path=member, table=table, format=fmt, encoding=encoding)
