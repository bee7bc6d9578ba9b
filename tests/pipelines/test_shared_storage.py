"""Shared storage by fsspec URL: blobs, the table archive, the published datasets and the landing folder
on an S3-compatible server (moto's, started on loopback by the test, through s3fs), a period taken
end to end, with the same results as on local folders."""

from __future__ import annotations

import hashlib
import itertools
import logging
import shutil
from pathlib import Path

import fsspec
import pytest
from dagster import DagsterInstance

from connectors.datasets import DatasetStore
from connectors.intake.landing import LandingState, copy_tree, scan_landing
from pipelines.io_managers import FilingIOManager
from pipelines.resources import ArchiveResource, DatasetsResource, LandingResource, StoreResource
from store.blobs import BlobCorruptedError, BlobStore, RemoteBlobStore, blob_key
from store.models import SubmissionState
from tests.pipelines.conftest import make_pipeline

BUCKET = "danbao-shared"
_BUCKETS = itertools.count()
DATASETS = ("indicators", "grades", "findings", "guarantees", "subsidies")


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch, tmp_path):
    """A fresh bucket; s3fs pointed at the server as a deployment would be (fsspec's configuration, which
    ``FSSPEC_S3_ENDPOINT_URL`` and the AWS variables set in a worker's environment)."""
    import s3fs

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": s3_server, "skip_instance_cache": True})
    s3fs.S3FileSystem.clear_instance_cache()
    fs = fsspec.filesystem("s3")
    bucket = f"{BUCKET}-{next(_BUCKETS)}"
    fs.call_s3("create_bucket", Bucket=bucket)
    return f"s3://{bucket}"


def test_the_blob_store_on_s3_is_content_addressed_and_write_once(s3, tmp_path):
    blobs = BlobStore(f"{s3}/blobs")
    assert isinstance(blobs, RemoteBlobStore)
    key = blobs.put(b"filed bytes")
    assert key == blob_key(hashlib.sha256(b"filed bytes").hexdigest())
    assert blobs.put(b"filed bytes") == key and blobs.get(key) == b"filed bytes"  # the same bytes: a no-op
    package = tmp_path / "pkg"
    (package / "data").mkdir(parents=True)
    (package / "manifest.json").write_bytes(b"{}")
    (package / "data" / "a.csv").write_bytes(b"x,y\n1,2\n")
    index = blobs.put_folder(package)
    assert blobs.is_folder(index) and not blobs.is_folder(key)
    restored = blobs.restore_folder(index, tmp_path / "restored")
    assert (restored / "data" / "a.csv").read_bytes() == b"x,y\n1,2\n"
    # The object store itself refuses to create a key twice (If-None-Match), whatever the client checked.
    with pytest.raises(FileExistsError):
        blobs.fs.pipe_file(blobs._full(key), b"other bytes", mode="create")
    assert blobs.get(key) == b"filed bytes"
    # Bytes under someone else's key (written around the store) are refused when read or stored again.
    forged = blob_key(hashlib.sha256(b"what was filed").hexdigest())
    blobs.fs.pipe_file(blobs._full(forged), b"something else, longer")
    with pytest.raises(BlobCorruptedError):
        blobs.get(forged)
    with pytest.raises(BlobCorruptedError):
        blobs.put(b"what was filed")  # a different size under the key: never overwritten


def test_a_landing_folder_on_s3_is_scanned_like_a_local_one(s3, generated, tmp_path):
    local = tmp_path / "landing"
    local.mkdir()
    shutil.copyfile(generated.clean[0], local / generated.clean[0].name)
    shutil.copytree(generated.folders[1], local / generated.ids()[1] / generated.folders[1].name)
    copy_tree(local / generated.clean[0].name, f"{s3}/landing/{generated.clean[0].name}")
    copy_tree(local / generated.ids()[1] / generated.folders[1].name,
              f"{s3}/landing/{generated.ids()[1]}/{generated.folders[1].name}")
    fsspec.filesystem("s3").pipe_file(f"{s3}/landing/upload.zip.part", b"PK")  # a temporary name: left alone

    def both(state_local, state_remote):
        ready_local, state_local = scan_landing(local, state_local)
        ready_remote, state_remote = scan_landing(f"{s3}/landing", state_remote)
        return ready_local, state_local, ready_remote, state_remote

    first_local, state_local, first_remote, state_remote = both(LandingState(), LandingState())
    assert first_local == first_remote == []  # seen once: could still be growing
    ready_local, _, ready_remote, state_remote = both(state_local, state_remote)
    as_seen = lambda ready: sorted((p.relpath, p.kind, p.sha256, p.institution_hint) for p in ready)  # noqa: E731
    assert as_seen(ready_remote) == as_seen(ready_local) and len(ready_remote) == 2
    assert scan_landing(f"{s3}/landing", state_remote)[0] == []  # picked up once


def _run_period(pipeline, packages) -> dict:
    launched = pipeline.runner.intake(settle_seconds=0)
    assert launched and all(run.success for run in launched)
    return {s.institution_id: (s.state, s.package_sha256) for s in pipeline.submissions()}


def _datasets(store: DatasetStore, period: str) -> dict:
    """Every row of each dataset of ``period``, without the store's own numbering (submission ids follow
    the order the receiving threads commit in)."""
    tables = {}
    for name in DATASETS:
        table = store.read(name, period)
        if table is not None and "submission_id" in table.column_names:
            table = table.drop_columns(["submission_id"])
        tables[name] = None if table is None else sorted(map(repr, table.to_pylist()))
    return tables


def test_a_period_on_s3_gives_what_local_folders_give(s3, danbao_env, generated, tmp_path, monkeypatch):
    monkeypatch.setenv("DANBAO_RUN_LAYOUT", "batch")
    packages = [*generated.clean[:3], generated.rejected[3]]

    local_home = danbao_env
    local = make_pipeline(local_home, DagsterInstance.ephemeral(), generated.registry_csv)
    for package in packages:
        local.drop(package)
    local_states = _run_period(local, packages)

    remote_home = tmp_path / "remote-home"
    monkeypatch.setenv("DANBAO_HOME", str(remote_home))
    archive = ArchiveResource(url=f"{s3}/tables")
    remote = make_pipeline(
        remote_home, DagsterInstance.ephemeral(), generated.registry_csv,
        store=StoreResource(database_url=f"sqlite:///{tmp_path / 'remote.db'}", blob_root=f"{s3}/blobs"),
        landing=LandingResource(path=f"{s3}/landing"), archive=archive, filing_io_manager=FilingIOManager(archive=archive),
        datasets=DatasetsResource(root=f"{s3}/datasets"))
    for package in packages:
        copy_tree(package, f"{s3}/landing/{package.name}")
    remote_states = _run_period(remote, packages)

    assert remote_states == local_states
    states = sorted(state for state, _ in remote_states.values())
    assert states.count(SubmissionState.REJECTED) == 1 and len(states) == 4
    assert all(state in (SubmissionState.ACCEPTED, SubmissionState.PUBLISHED, SubmissionState.REJECTED)
               for state in states)
    remote_datasets = _datasets(DatasetStore(f"{s3}/datasets"), generated.period)
    assert remote_datasets["indicators"] and remote_datasets == _datasets(DatasetStore(local_home / "datasets"),
                                                                          generated.period)
    # Every filed package is in the shared blob store, byte for byte; nothing went to the local defaults.
    blobs = BlobStore(f"{s3}/blobs")
    for submission in remote.submissions():
        assert blobs.exists(submission.blob_key)
    assert not any(Path(remote_home / "blobs").rglob("sha256/*/*")) and not (remote_home / "datasets").exists()
    assert not (remote_home / "tables").exists()


def test_every_door_keeps_a_storage_url_as_a_url(monkeypatch, tmp_path):
    """``Path("s3://b/x")`` would be ``s3:/b/x``: the portal's settings, the resources and the run's
    settings keep URLs whole (and local folders absolute)."""
    from pipelines.resources import run_settings
    from web.settings import WebSettings

    monkeypatch.setenv("DANBAO_BLOB_ROOT", "s3://bucket/blobs")
    monkeypatch.setenv("DANBAO_DATASETS_DIR", "s3://bucket/datasets")
    web = WebSettings.from_env()
    assert (web.blob_root, web.datasets_dir) == ("s3://bucket/blobs", "s3://bucket/datasets")
    settings = run_settings(StoreResource(blob_root="s3://bucket/blobs"), ArchiveResource(url="s3://bucket/tables"),
                            DatasetsResource(root="s3://bucket/datasets"))
    assert (settings.blob_root, settings.tables_url, settings.datasets_root) == (
        "s3://bucket/blobs", "s3://bucket/tables", "s3://bucket/datasets")
    assert LandingResource(path="s3://bucket/landing").root() == "s3://bucket/landing"
    monkeypatch.setenv("DANBAO_BLOB_ROOT", str(tmp_path / "blobs"))
    assert WebSettings.from_env().blob_root == tmp_path / "blobs"
    assert type(BlobStore(f"file://{tmp_path / 'blobs'}")) is BlobStore
