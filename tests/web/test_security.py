"""Bad input and attacks: each gets a clear 4xx, and nothing is stored but an audit record.

Oversized bodies, wrong content types, the ZIP tricks of the intake corpus, a filing for another
guarantor, unknown, expired and revoked tokens, CSRF on the forms, HTML in party names."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest

from tests.hostile import corrupt_deflate
from tests.packages import GOV_ID
from tests.web.conftest import MAX_UPLOAD, OTHER_ID, as_json, csrf_of, fresh_package, fresh_zip, zip_folder


@pytest.fixture
def live(live_sqlite):
    return live_sqlite


def refused(live, response, status: int, error: str | None = None, *, before: tuple[int, int]) -> None:
    """The answer is ``status`` (with ``error``), nothing new is stored, and the refusal is audited."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    if error is not None:
        assert as_json(response)["error"] == error
    assert live.counts() == before, "a refused request stored something"
    event = live.audit(1)[0]
    assert event.status == status, (event.route, event.status, event.outcome)


def _zip(members: dict[str, bytes], tweak=None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if tweak:
                tweak(info)
            archive.writestr(info, data)
    return buffer.getvalue()


def _members(tmp_path) -> dict[str, bytes]:
    pkg = fresh_package(tmp_path)
    return {p.name: p.read_bytes() for p in sorted(pkg.root.iterdir())}


# -- size and content type ------------------------------------------------------------------------


def test_an_oversized_upload_is_refused_before_anything_is_stored(live):
    before = live.counts()
    refused(live, live.upload(b"PK\x03\x04" + b"\0" * (MAX_UPLOAD + (100 << 10))), 413, "too_large", before=before)
    assert live.audit(1)[0].outcome == "too_large"
    body = {"package": ("big.zip", b"PK\x03\x04" + b"\0" * (MAX_UPLOAD + (200 << 10)), "application/zip")}
    refused(live, live.post("/api/submissions", "a", files=body), 413, "too_large", before=before)


def test_chunked_bodies_are_stopped_at_the_limit_too(live):
    before = live.counts()

    def chunks():
        for _ in range(40):
            yield b"PK\x03\x04" + b"\0" * (64 << 10)

    response = live.post("/api/submissions", "a", data=chunks(), headers={"Content-Type": "application/zip"})
    refused(live, response, 413, "too_large", before=before)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "text/html"])
def test_wrong_content_types_are_415(live, tmp_path, content_type):
    before = live.counts()
    response = live.post("/api/submissions", "a", data=fresh_zip(tmp_path), headers={"Content-Type": content_type})
    refused(live, response, 415, "unsupported_media_type", before=before)


def test_files_that_are_no_package_are_415_and_bytes_that_are_no_zip_422(live):
    before = live.counts()
    files = [("package", ("manifest.json", b"{}", "application/json")),
             ("package", ("report.pdf", b"%PDF-1.7", "application/pdf"))]
    refused(live, live.post("/api/submissions", "a", files=files), 415, "unsupported_file_type", before=before)
    refused(live, live.upload(b"this is not a zip at all"), 422, "not_a_zip", before=before)
    refused(live, live.post("/api/submissions", "a", files=[("package", ("g.csv", b"a,b\n", "text/csv"))]),
            422, "no_manifest", before=before)


# -- ZIP tricks -----------------------------------------------------------------------------------


def _symlink(info: zipfile.ZipInfo) -> None:
    info.external_attr = (stat.S_IFLNK | 0o777) << 16


def _encrypted(members: dict[str, bytes]) -> bytes:
    """Every member marked encrypted (zipfile cannot write encrypted members: the flag is set by hand
    in each local and central header)."""
    data = bytearray(_zip(members))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + offset] |= 0x1
            at = data.find(signature, at + 4)
    return bytes(data)


ZIP_TRICKS = {
    "path traversal": (lambda m: _zip({**m, "../../etc/evil.csv": b"x"}), 422, "zip_unsafe_path"),
    "absolute path": (lambda m: _zip({**m, "/etc/cron.d/evil": b"x"}), 422, "zip_unsafe_path"),
    "windows drive": (lambda m: _zip({**m, "C:\\evil.csv": b"x"}), 422, "zip_unsafe_path"),
    "symbolic link": (lambda m: _symlinked(m), 422, "zip_symlink"),
    "encrypted member": (_encrypted, 422, "zip_encrypted"),
    "duplicate names": (lambda m: _duplicated(m), 422, "zip_duplicate_member"),
    "too many members": (lambda m: _zip({**m, **{f"x{i}.csv": b"a\n" for i in range(20)}}), 422, "zip_too_many_members"),
    "zip bomb": (lambda m: _zip({**m, "guarantees.csv": b"0" * (40 << 20)}), 413, "zip_bomb"),
    "truncated": (lambda m: _zip(m)[:-30], 422, None),
    "lying sizes": (lambda m: _lying(m), 422, None),
    "corrupt deflate data": (lambda m: corrupt_deflate(_zip(m), "guarantees.csv"), 422, "corrupt_zip"),
}


def _symlinked(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        info = zipfile.ZipInfo("compensations.csv.lnk")
        _symlink(info)
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _duplicated(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        with pytest.warns(UserWarning):  # zipfile warns about the duplicate, and writes it
            archive.writestr("guarantees.csv", b"guarantee_id\nother\n")
    return buffer.getvalue()


def _lying(members: dict[str, bytes]) -> bytes:
    """A member whose header claims a small size but which holds more: the CRC/size check catches it."""
    data = bytearray(_zip(members))
    index = data.find(b"PK\x01\x02")  # first central directory entry: corrupt its CRC
    data[index + 16:index + 20] = b"\0\0\0\0"
    return bytes(data)


@pytest.mark.parametrize("trick", list(ZIP_TRICKS))
def test_zip_tricks_are_refused_and_nothing_is_stored(live, tmp_path, trick):
    make, status, error = ZIP_TRICKS[trick]
    data = make(_members(tmp_path))
    assert len(data) < MAX_UPLOAD, "a trick must pass the size limit to be tested at all"
    before = live.counts()
    response = live.upload(data)
    refused(live, response, status, error, before=before)
    assert as_json(response)["error"] in {"zip_unsafe_path", "zip_symlink", "zip_encrypted", "zip_duplicate_member",
                                          "zip_too_many_members", "zip_bomb", "corrupt_zip", "not_a_zip"}


def test_unsafe_loose_file_names_are_refused(live, tmp_path):
    before = live.counts()
    files = [("package", (name, data, "text/csv")) for name, data in _members(tmp_path).items()]
    files.append(("package", ("..\\..\\evil.csv", b"x", "text/csv")))
    refused(live, live.post("/api/submissions", "a", files=files), 422, "unsafe_file_name", before=before)


# -- tenancy at the door --------------------------------------------------------------------------


def test_a_filing_for_another_guarantor_is_403_and_not_stored(live, tmp_path):
    before = live.counts()
    response = live.upload(fresh_zip(tmp_path), who="b")  # the package says GOV_ID; the token is OTHER_ID's
    refused(live, response, 403, "wrong_guarantor", before=before)
    event = live.audit(1)[0]
    assert event.token_id == live.token_ids["b"] and event.institution_id == OTHER_ID
    assert event.detail["manifest_institution_id"] == GOV_ID


def test_only_guarantor_tokens_upload(live, tmp_path):
    before = live.counts()
    for who in ("regulator", "admin"):
        refused(live, live.upload(fresh_zip(tmp_path), who=who), 403, "forbidden", before=before)


# -- tokens ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "error"), [("expired", "expired_token"), ("revoked", "revoked_token")])
def test_expired_and_revoked_tokens_are_401(live, tmp_path, who, error):
    before = live.counts()
    refused(live, live.upload(fresh_zip(tmp_path), who=who), 401, error, before=before)
    refused(live, live.get("/api/submissions", who), 401, error, before=before)
    assert live.audit(1)[0].token_id is None  # not authenticated: no token is credited with the request


def test_unknown_missing_and_malformed_credentials_are_401(live, tmp_path):
    before = live.counts()
    data = fresh_zip(tmp_path)
    cases = [({"Authorization": "Bearer dbt_not-a-real-token"}, "unknown_token"),
             ({}, "unauthenticated"),
             ({"Authorization": "Basic dXNlcjpwYXNz"}, "bad_authorization")]
    for headers, error in cases:
        response = live.post("/api/submissions", data=data, headers={"Content-Type": "application/zip", **headers})
        refused(live, response, 401, error, before=before)
        assert "WWW-Authenticate" in response.headers
    secrets_seen = json.dumps([e.detail for e in live.audit(200)])
    assert "dbt_" not in secrets_seen and all(t not in secrets_seen for t in live.tokens.values())


def test_api_writes_need_a_bearer_token_not_a_cookie(live, tmp_path):
    browser = live.login("a")
    before = live.counts()
    response = browser.post(live.url + "/api/submissions", data=fresh_zip(tmp_path),
                            headers={"Content-Type": "application/zip"})
    refused(live, response, 401, "unauthenticated", before=before)


def test_revoking_a_token_ends_its_browser_session(live):
    with live.portal.session() as session:
        from store import portal as store_portal

        token, secret = store_portal.create_token(session, "guarantor", institution_id=GOV_ID, label="short-lived")
    live.tokens["short"] = secret
    browser = live.login("short")
    assert browser.get(live.url + "/submissions").status_code == 200
    revoke = live.post(f"/api/admin/tokens/{token.id}/revoke", "admin")
    assert revoke.status_code == 200 and as_json(revoke)["status"] == "revoked"
    page = browser.get(live.url + "/submissions", allow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_logout_ends_the_session_on_the_server(live):
    """A session cookie copied before logout (by a shared machine's next user, a proxy log, malware) is
    dead after it: the session is ended in the store, not only dropped by this browser."""
    import requests

    browser = live.login("a")
    stolen = browser.cookies.get("danbao_session")
    assert stolen
    thief = requests.Session()
    thief.cookies.set("danbao_session", stolen)
    assert thief.get(live.url + "/api/me").status_code == 200  # the copy works while the session is open
    another = live.login("a")  # the same token in a second browser: its own session
    logout = browser.post(live.url + "/logout", data={"csrf_token": csrf_of(browser.get(live.url + "/login").text)},
                          allow_redirects=False)
    assert logout.status_code == 303 and logout.headers["location"] == "/login"
    assert "danbao_session" not in browser.cookies
    response = thief.get(live.url + "/api/me")
    assert response.status_code == 401 and as_json(response)["error"] == "session_ended"
    page = thief.get(live.url + "/submissions", allow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert another.get(live.url + "/api/me").status_code == 200  # only the session logged out of ended
    event = next(e for e in live.audit(10) if e.route == "/logout")
    assert event.outcome == "logout" and event.detail == {"session_token_id": live.token_ids["a"]}


def test_a_session_cookie_without_a_stored_session_is_refused(live):
    """A cookie signed with the server's secret but naming no stored session (the format before
    sessions were stored, or a forged session id) does not authenticate."""
    import requests
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(live.portal.settings.secret, salt="danbao.session")
    for data in ({"t": live.token_ids["a"]}, {"t": live.token_ids["a"], "s": "made-up"}, {"t": "x", "s": 1}):
        client = requests.Session()
        client.cookies.set("danbao_session", serializer.dumps(data))
        response = client.get(live.url + "/api/me")
        assert response.status_code == 401 and as_json(response)["error"] in ("bad_session", "session_ended"), data
    # a real session id under another token's id is no session of that token
    browser = live.login("a")
    session_id = serializer.loads(browser.cookies.get("danbao_session"))["s"]
    client = requests.Session()
    client.cookies.set("danbao_session", serializer.dumps({"t": live.token_ids["regulator"], "s": session_id}))
    assert client.get(live.url + "/api/me").status_code == 401


# -- CSRF and cookies -----------------------------------------------------------------------------


def test_the_login_form_needs_its_csrf_token(live):
    import requests

    response = requests.post(live.url + "/login", data={"token": live.tokens["a"]}, timeout=30)
    assert response.status_code == 403 and "CSRF" in response.text
    assert "danbao_session" not in response.cookies


def test_session_cookies_are_httponly_and_samesite_strict(live):
    import requests

    session = requests.Session()
    page = session.get(live.url + "/login")
    response = session.post(live.url + "/login", data={"token": live.tokens["a"], "csrf_token": csrf_of(page.text)},
                            allow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "danbao_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert live.tokens["a"] not in cookie  # the cookie holds a signed token id, never the secret
    bad = session.post(live.url + "/login", data={"token": "dbt_wrong", "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 401 and "unknown token" in bad.text


def test_the_upload_form_needs_its_csrf_token(live, tmp_path):
    browser = live.login("a")
    before = live.counts()
    files = {"package": ("p.zip", fresh_zip(tmp_path), "application/zip")}
    missing = browser.post(live.url + "/submissions", files=files)
    refused(live, missing, 403, before=before)
    assert live.audit(1)[0].outcome == "csrf"
    forged = browser.post(live.url + "/submissions", files=files, data={"csrf_token": "0" * 64})
    refused(live, forged, 403, before=before)
    other = live.login("b")  # a valid token from another session does not fit this one's cookie
    other_token = csrf_of(other.get(live.url + "/submissions").text)
    refused(live, browser.post(live.url + "/submissions", files=files, data={"csrf_token": other_token}), 403,
            before=before)


def test_the_confirm_form_needs_its_csrf_token(live, tmp_path):
    sid = as_json(live.upload(fresh_zip(tmp_path)))["submission_id"]
    browser = live.login("a")
    response = browser.post(f"{live.url}/submissions/{sid}/confirm",
                            data={"rule_id": ["POL-002", "SUB-001"], "justification": "a cross-site attempt"})
    assert response.status_code == 403
    assert as_json(live.get(f"/api/submissions/{sid}", "a"))["warnings"]["confirmed"] == 0


def test_security_headers(live):
    import requests

    response = requests.get(live.url + "/login", timeout=30)
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none': no script
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"


# -- HTML in what guarantors file -----------------------------------------------------------------


def test_html_in_a_party_name_is_shown_escaped(live, tmp_path):
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>" + "某" * 40  # > 80 characters: FMT-005
    pkg = fresh_package(tmp_path).set("guarantees", 2, "party_name", evil)
    receipt = as_json(live.upload(zip_folder(pkg.root)))
    assert receipt["state"] == "rejected"
    items = as_json(live.get(f"/api/submissions/{receipt['submission_id']}/findings", "a"))["items"]
    assert any(f["value"] == evil for f in items)
    browser = live.login("a")
    html = browser.get(f"{live.url}/submissions/{receipt['submission_id']}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>" not in html and "<img src=x" not in html


def test_the_audit_trail_masks_resident_id_numbers_in_client_text(live):
    before = live.counts()
    files = [("package", ("manifest.json", b"{}", "application/json")),
             ("package", ("50011319650721970X.pdf", b"%PDF", "application/pdf"))]
    refused(live, live.post("/api/submissions", "a", files=files), 415, "unsupported_file_type", before=before)
    detail = live.audit(1)[0].detail
    assert detail["file_name"] == "[RIC].pdf"
