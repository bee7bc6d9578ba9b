"""Build test packages from the shared worked examples: copy, edit a cell, re-sign the manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

from connectors.registry import read_registry_csv

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"  # the repository's copy of the regulator's worked examples
REGISTRY_CSV = SAMPLES / "registry.csv"
GOV_ID = "91500113095M34E68F"


def registry():
    return read_registry_csv(REGISTRY_CSV)


class Package:
    """A writable copy of a sample package."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def copy(cls, tmp_path: Path, sample: str = "valid-2026-10", name: str = "pkg") -> Package:
        root = tmp_path / name
        shutil.copytree(SAMPLES / sample, root)
        return cls(root)

    @property
    def manifest(self) -> dict:
        return json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))

    def write_manifest(self, manifest: dict) -> None:
        (self.root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    def rows(self, file: str) -> tuple[list[str], list[list[str]]]:
        text = (self.root / f"{file}.csv").read_text(encoding="utf-8-sig")
        records = list(csv.reader(io.StringIO(text)))
        return records[0], records[1:]

    def write_rows(self, file: str, header: list[str], rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
        self.write_bytes(f"{file}.csv", buffer.getvalue().encode("utf-8"), file)

    def set(self, file: str, row: int, column: str, value: str) -> Package:
        """Set one cell (1-based data row) and re-sign the manifest."""
        header, rows = self.rows(file)
        rows[row - 1][header.index(column)] = value
        self.write_rows(file, header, rows)
        return self

    def get(self, file: str, row: int, column: str) -> str:
        header, rows = self.rows(file)
        return rows[row - 1][header.index(column)]

    def write_bytes(self, member: str, data: bytes, file: str | None = None) -> None:
        """Write a member; when ``file`` names a template file, point the manifest at it and re-sign."""
        (self.root / member).write_bytes(data)
        if file is not None:
            manifest = self.manifest
            manifest["files"][file] = {"path": member, "sha256": hashlib.sha256(data).hexdigest()}
            self.write_manifest(manifest)

    def zip(self, path: Path | None = None) -> Path:
        path = path or self.root.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in sorted(self.root.iterdir()):
                archive.write(member, member.name)
        return path


def copy_folder(folder: Path, into: Path) -> Path:
    """A copy of a package folder (its files, byte for byte) under ``into``, by the same name."""
    target = into / folder.name
    target.mkdir()
    for member in folder.iterdir():
        target.joinpath(member.name).write_bytes(member.read_bytes())
    return target
