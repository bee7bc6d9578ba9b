"""The pull connector against a real HTTP server on loopback: ETags, token, retries, timeouts."""

from __future__ import annotations

import socket
import time

import pytest

from connectors.intake.pull import EtagCache, PullClient
from connectors.receivers.guarantor_endpoint import PackageEndpoint

TOKEN = "s3cret-token"


@pytest.fixture
def endpoint():
    with PackageEndpoint(token=TOKEN, stall_seconds=1.5) as server:
        yield server


def client(**kwargs) -> PullClient:
    options = {"connect_timeout": 1.0, "read_timeout": 0.5, "max_attempts": 3, "backoff": 0.01, "max_backoff": 0.05}
    return PullClient(**{**options, **kwargs})


def test_new_then_unchanged_with_etag(endpoint):
    url = endpoint.publish("g1/2026-10.zip", b"PK-package-bytes")
    first = client().fetch(url, TOKEN)
    assert (first.status, first.data, first.attempts) == ("new", b"PK-package-bytes", 1)
    assert first.etag
    second = client().fetch(url, TOKEN, first.etag)
    assert (second.status, second.data, second.http_status) == ("unchanged", None, 304)
    assert endpoint.hits("g1/2026-10.zip")[1]["headers"]["If-None-Match"] == first.etag
    endpoint.publish("g1/2026-10.zip", b"PK-corrected")  # a new package: the old ETag no longer matches
    third = client().fetch(url, TOKEN, first.etag)
    assert (third.status, third.data) == ("new", b"PK-corrected")
    assert third.etag != first.etag


def test_bearer_token_is_sent_and_a_wrong_one_is_final(endpoint):
    url = endpoint.publish("g1.zip", b"data")
    result = client().fetch(url, "wrong")
    assert (result.status, result.http_status, result.attempts) == ("failed", 401, 1)
    assert endpoint.hits("g1.zip")[0]["headers"]["Authorization"] == "Bearer wrong"


def test_5xx_then_success(endpoint):
    url = endpoint.publish("g2.zip", b"data")
    endpoint.fail_next("g2.zip", "503", "500")
    result = client().fetch(url, TOKEN)
    assert (result.status, result.data, result.attempts) == ("new", b"data", 3)
    assert [h["fault"] for h in endpoint.hits("g2.zip")] == ["503", "500", None]


def test_5xx_until_attempts_run_out(endpoint):
    url = endpoint.publish("g2.zip", b"data")
    endpoint.fail_next("g2.zip", "502", "502", "502", "502")
    result = client().fetch(url, TOKEN)
    assert (result.status, result.attempts, result.http_status) == ("failed", 3, 502)
    assert len(endpoint.hits("g2.zip")) == 3


def test_timeout_then_success(endpoint):
    url = endpoint.publish("g3.zip", b"data")
    endpoint.fail_next("g3.zip", "stall")
    started = time.monotonic()
    result = client().fetch(url, TOKEN)
    assert (result.status, result.data, result.attempts) == ("new", b"data", 2)
    assert time.monotonic() - started < 1.5  # gave up on the stalled answer at the read timeout


def test_timeouts_until_attempts_run_out(endpoint):
    url = endpoint.publish("g3.zip", b"data")
    endpoint.fail_next("g3.zip", "stall", "stall")
    result = client(max_attempts=2).fetch(url, TOKEN)
    assert (result.status, result.attempts) == ("failed", 2)
    assert "timeout" in result.error


def test_404_is_final_and_means_not_published(endpoint):
    result = client().fetch(endpoint.url("nothing.zip"), TOKEN)
    assert (result.status, result.attempts, result.not_published) == ("failed", 1, True)


def test_connection_refused_is_retried_then_fails():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = client().fetch(f"http://127.0.0.1:{port}/x.zip")
    assert (result.status, result.attempts) == ("failed", 3)
    assert "connection error" in result.error


def test_size_limit(endpoint):
    url = endpoint.publish("big.zip", b"x" * 5000)
    result = client(max_bytes=1000).fetch(url, TOKEN)
    assert result.status == "failed" and "limit" in result.error


def test_etag_cache_survives_a_reload_and_a_corrupt_file(tmp_path):
    cache = EtagCache(tmp_path / "etags.json")
    cache.put("2026-10", "G1", "http://x/1", '"abc"', "f" * 64)
    cache.save()
    assert EtagCache(tmp_path / "etags.json").get("2026-10", "G1", "http://x/1") == {"etag": '"abc"', "sha256": "f" * 64}
    (tmp_path / "etags.json").write_text("{not json")
    assert EtagCache(tmp_path / "etags.json").get("2026-10", "G1", "http://x/1") is None
