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


def test_two_failures_then_success_wait_with_exponential_backoff_and_jitter(endpoint):
    """The retries are tenacity's: attempt n waits half to all of backoff × 2^(n-1)."""
    url = endpoint.publish("g4.zip", b"data")
    endpoint.fail_next("g4.zip", "500", "502")
    slept: list[float] = []
    result = client(backoff=0.4, max_backoff=10.0, sleep=slept.append).fetch(url, TOKEN)
    assert (result.status, result.attempts) == ("new", 3)
    assert len(slept) == 2 and 0.2 <= slept[0] <= 0.4 and 0.4 <= slept[1] <= 0.8
    assert [h["fault"] for h in endpoint.hits("g4.zip")] == ["500", "502", None]


def test_429_is_retried_after_the_servers_retry_after_capped_at_max_backoff(endpoint):
    url = endpoint.publish("g5.zip", b"data")
    endpoint.fail_next("g5.zip", "429:3", "429:3600", "429")
    slept: list[float] = []
    result = client(max_attempts=4, backoff=0.01, max_backoff=30.0, sleep=slept.append).fetch(url, TOKEN)
    assert (result.status, result.attempts) == ("new", 4)
    assert slept[0] == 3.0  # Retry-After: 3, longer than the backoff
    assert slept[1] == 30.0  # Retry-After: 3600, never past max_backoff
    assert slept[2] <= 0.04  # no Retry-After: the backoff alone


def test_a_final_answer_is_not_retried_and_nothing_sleeps(endpoint):
    url = endpoint.publish("g6.zip", b"data")
    endpoint.fail_next("g6.zip", "403")
    slept: list[float] = []
    result = client(sleep=slept.append).fetch(url, TOKEN)
    assert (result.status, result.attempts, result.http_status, slept) == ("failed", 1, 403, [])
