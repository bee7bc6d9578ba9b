"""The landing-folder scan: picked up once, by SHA-256, never half-written."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from connectors.intake.landing import LandingState, scan_landing
from connectors.intake.package import read_package
from connectors.intake.receive import folder_sha256, sha256_file


def scan(root: Path, state: LandingState, **kwargs):
    ready, state = scan_landing(root, state, **kwargs)
    return [p.relpath for p in ready], state, ready


def test_a_package_is_picked_up_on_the_second_look_and_only_once(tmp_path, generated):
    zip_path = shutil.copyfile(generated.clean[0], tmp_path / generated.clean[0].name)
    first, state, _ = scan(tmp_path, LandingState())
    assert first == []  # seen once: could still be growing
    second, state, ready = scan(tmp_path, LandingState.from_json(state.to_json()))  # through the cursor
    assert second == [zip_path.name]
    assert ready[0].sha256 == sha256_file(zip_path) and ready[0].kind == "zip"
    third, state, _ = scan(tmp_path, state)
    assert third == []


def test_same_bytes_under_another_name_are_not_picked_up_again(tmp_path, generated):
    shutil.copyfile(generated.clean[0], tmp_path / "a.zip")
    _, state, _ = scan(tmp_path, LandingState())
    picked, state, _ = scan(tmp_path, state)
    assert picked == ["a.zip"]
    shutil.copyfile(generated.clean[0], tmp_path / "b.zip")
    for _ in range(3):
        picked, state, _ = scan(tmp_path, state)
        assert picked == []


def test_a_changed_file_is_picked_up_again(tmp_path, generated):
    target = tmp_path / "pkg.zip"
    shutil.copyfile(generated.clean[0], target)
    _, state, _ = scan(tmp_path, LandingState())
    assert scan(tmp_path, state)[0] == ["pkg.zip"]
    _, state, _ = scan(tmp_path, state)
    shutil.copyfile(generated.warned[0], target)  # the guarantor replaced its upload
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    first, state, _ = scan(tmp_path, state)
    second, state, ready = scan(tmp_path, state)
    assert (first, second) == ([], ["pkg.zip"])
    assert ready[0].sha256 == sha256_file(generated.warned[0])


def test_a_half_written_zip_is_never_picked_up_until_stale(tmp_path, generated):
    data = generated.clean[0].read_bytes()
    partial = tmp_path / "pkg.zip"
    partial.write_bytes(data[: len(data) // 2])  # stable size, but no end-of-central-directory yet
    state = LandingState()
    for _ in range(3):
        picked, state, _ = scan(tmp_path, state)
        assert picked == []
    picked, state, _ = scan(tmp_path, state, now=time.time() + 7200)  # untouched for two hours: report it
    assert picked == ["pkg.zip"]


def test_growing_file_is_not_picked_up(tmp_path, generated):
    data = generated.clean[0].read_bytes()
    target = tmp_path / "pkg.zip"
    target.write_bytes(data[:100])
    _, state, _ = scan(tmp_path, LandingState())
    with target.open("ab") as handle:
        handle.write(data[100:])
    picked, state, _ = scan(tmp_path, state)
    assert picked == []  # changed since the last look
    picked, state, _ = scan(tmp_path, state)
    assert picked == ["pkg.zip"]


def test_temporary_names_and_dot_files_are_ignored(tmp_path, generated):
    for name in ("pkg.zip.part", "pkg.tmp", ".pkg.zip", "~$pkg.zip", "notes.txt"):
        shutil.copyfile(generated.clean[0], tmp_path / name)
    state = LandingState()
    for _ in range(2):
        picked, state, _ = scan(tmp_path, state)
        assert picked == []


def test_folder_needs_its_manifest_and_every_listed_file(tmp_path, generated):
    source = generated.folders[0]
    folder = tmp_path / source.name
    folder.mkdir()
    for member in source.iterdir():  # the data files first, the manifest last, as an uploader would
        if member.name != "manifest.json":
            shutil.copyfile(member, folder / member.name)
    state = LandingState()
    for _ in range(2):
        picked, state, _ = scan(tmp_path, state)
        assert picked == []
    (folder / "manifest.json.part").write_bytes(b"{")  # the manifest, being written
    picked, state, _ = scan(tmp_path, state)
    assert picked == []
    (folder / "manifest.json.part").rename(folder / "manifest.json")
    shutil.copyfile(source / "manifest.json", folder / "manifest.json")
    picked, state, _ = scan(tmp_path, state)
    picked, state, ready = scan(tmp_path, state)
    assert picked == [source.name]
    assert ready[0].kind == "folder"
    assert ready[0].sha256 == folder_sha256(folder) == read_package(folder).package_sha256


def test_a_file_whose_hash_differs_from_the_manifest_is_still_being_written(tmp_path, generated):
    folder = shutil.copytree(generated.folders[0], tmp_path / "pkg")
    guarantees = next(p for p in folder.iterdir() if p.stem == "guarantees")
    guarantees.write_bytes(guarantees.read_bytes()[:50])
    state = LandingState()
    for _ in range(2):
        picked, state, _ = scan(tmp_path, state)
        assert picked == []
    picked, _, _ = scan(tmp_path, state, now=time.time() + 7200)
    assert picked == ["pkg"]  # left like that for hours: picked up, and FMT-002 will say why


def test_guarantor_drop_folder_gives_the_hint(tmp_path, generated):
    guarantor = generated.ids()[1]
    drop = tmp_path / guarantor
    drop.mkdir()
    shutil.copyfile(generated.clean[1], drop / "upload.zip")
    _, state, _ = scan(tmp_path, LandingState())
    picked, _, ready = scan(tmp_path, state)
    assert picked == [f"{guarantor}/upload.zip"]
    assert ready[0].institution_hint == guarantor


def test_cursor_forgets_files_that_left_the_folder(tmp_path, generated):
    target = shutil.copyfile(generated.clean[0], tmp_path / "a.zip")
    _, state, _ = scan(tmp_path, LandingState())
    _, state, _ = scan(tmp_path, state)
    assert "a.zip" in state.done
    Path(target).unlink()
    _, state, _ = scan(tmp_path, state)
    assert state.done == {} and state.pending == {}
    assert LandingState.from_json("garbage") == LandingState()


def test_a_limit_leaves_the_rest_for_the_next_scan(tmp_path, generated):
    for package in generated.clean:
        shutil.copyfile(package, tmp_path / package.name)
    _, state, _ = scan(tmp_path, LandingState(), limit=3)
    first, state, _ = scan(tmp_path, state, limit=3)
    second, state, _ = scan(tmp_path, state, limit=3)
    assert len(first) == 3 and len(second) == 1
    assert sorted(first + second) == sorted(p.name for p in generated.clean)
