"""The regulator's registry: CSV loading and checking, upserts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from store import repository as repo
from store.models import InstitutionKind, InstitutionStatus
from tests.store.backends import sqlite_only

HEADER = "institution_id,name,kind,focus_small_micro_agri,district_code,license_no,pboc_area_code,status"
ROWS = [
    "91500113MA5U000001,重庆市巴南区融资担保有限公司,government,true,500113,渝0113001,A1000150011300,active",
    "91500113MA5U000002,巴南兴农融资担保有限公司,commercial,FALSE,500113,渝0113002,A1000150011301,suspended",
    '91500000MA5U000003,"重庆某某融资担保有限公司, 渝中分部",mixed,false,500103,渝0103003,A1000150010300,exited',
]


def _write(tmp_path: Path, lines: list[str], encoding: str = "utf-8", name: str = "registry.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_load_registry_csv(tmp_path: Path) -> None:
    rows = repo.load_registry_csv(_write(tmp_path, [HEADER, *ROWS, ",,,,,,,"], "utf-8-sig"))
    assert [r["institution_id"] for r in rows] == [
        "91500113MA5U000001",
        "91500113MA5U000002",
        "91500000MA5U000003",
    ]
    assert rows[0] == {
        "institution_id": "91500113MA5U000001",
        "name": "重庆市巴南区融资担保有限公司",
        "kind": "government",
        "focus_small_micro_agri": True,
        "district_code": "500113",
        "license_no": "渝0113001",
        "pboc_area_code": "A1000150011300",
        "status": "active",
    }
    assert rows[1]["focus_small_micro_agri"] is False
    assert rows[2]["name"] == "重庆某某融资担保有限公司, 渝中分部"
    assert "pull_url" not in rows[0]


def test_load_registry_csv_in_gb18030_with_pull_urls(tmp_path: Path) -> None:
    lines = [HEADER + ",pull_url", ROWS[0] + ",https://guarantor.example/danbao", ROWS[1] + ","]
    rows = repo.load_registry_csv(_write(tmp_path, lines, "gb18030"))
    assert rows[0]["name"] == "重庆市巴南区融资担保有限公司"
    assert [r["pull_url"] for r in rows] == ["https://guarantor.example/danbao", None]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (ROWS[1].replace("commercial", "private"), "row 2 (line 3), column 'kind': 'private' is not one of"),
        (ROWS[1].replace("FALSE", "no"), "row 2 (line 3), column 'focus_small_micro_agri': 'no' is not true"),
        (ROWS[1].replace("91500113MA5U000002", "9150011"), "row 2 (line 3), column 'institution_id'"),
        (ROWS[1].replace(",suspended", ","), "row 2 (line 3), column 'status': empty"),
        (ROWS[1].replace("A1000150011301", "A10"), "column 'pboc_area_code': 'A10' is not a 14-character"),
        (ROWS[1].replace(",500113,", ",巴南,"), "column 'district_code'"),
        (ROWS[1] + ",extra", "row 2 (line 3): more fields than the header"),
        (ROWS[0], "row 2 (line 3), column 'institution_id': 91500113MA5U000001 already appears in row 1"),
    ],
)
def test_bad_registry_row_is_named(tmp_path: Path, row: str, message: str) -> None:
    path = _write(tmp_path, [HEADER, ROWS[0], row, ROWS[2]])
    with pytest.raises(ValueError) as info:
        repo.load_registry_csv(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_bad_registry_header(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing column.*status"):
        repo.load_registry_csv(_write(tmp_path, [HEADER.replace(",status", ""), ROWS[0].rsplit(",", 1)[0]]))
    with pytest.raises(ValueError, match=r"unknown column.*pul_url"):
        repo.load_registry_csv(_write(tmp_path, [HEADER + ",pul_url", ROWS[0] + ","]))
    with pytest.raises(ValueError, match="empty file"):
        repo.load_registry_csv(_write(tmp_path, [""]))


def test_upsert_and_list_institutions(session: Session, tmp_path: Path) -> None:
    rows = repo.load_registry_csv(_write(tmp_path, [HEADER + ",pull_url", *(r + "," for r in ROWS)]))
    rows[0]["pull_url"] = "https://guarantor.example/danbao"
    assert repo.upsert_institutions(session, rows) == repo.UpsertResult(inserted=3, updated=0, unchanged=0)
    session.commit()

    first = repo.get_institution(session, "91500113MA5U000001")
    assert first is not None
    assert first.kind is InstitutionKind.GOVERNMENT and first.focus_small_micro_agri is True
    assert first.pull_url == "https://guarantor.example/danbao"
    stamp = first.updated_at
    assert stamp.tzinfo is not None
    assert [i.institution_id for i in repo.list_institutions(session, status="active")] == [
        "91500113MA5U000001"
    ]
    assert len(repo.list_institutions(session)) == 3
    assert repo.get_institution(session, "91500113MA5U000009") is None

    # A registry without the pull_url column: the stored URL stays; a change to status is applied.
    again = repo.load_registry_csv(_write(tmp_path, [HEADER, *ROWS], name="v2.csv"))
    again[1]["status"] = "active"
    assert repo.upsert_institutions(session, again) == repo.UpsertResult(inserted=0, updated=1, unchanged=2)
    session.commit()
    session.expire_all()
    assert repo.get_institution(session, "91500113MA5U000001").pull_url == "https://guarantor.example/danbao"
    assert repo.get_institution(session, "91500113MA5U000001").updated_at == stamp
    assert repo.get_institution(session, "91500113MA5U000002").status is InstitutionStatus.ACTIVE
    assert [i.institution_id for i in repo.list_institutions(session, InstitutionStatus.ACTIVE)] == [
        "91500113MA5U000001",
        "91500113MA5U000002",
    ]


@sqlite_only
def test_upsert_checks_every_row_before_writing(session: Session) -> None:
    good = {
        "institution_id": "91500113MA5U000001",
        "name": "A",
        "kind": "government",
        "focus_small_micro_agri": False,
        "district_code": "500113",
        "license_no": "L1",
        "pboc_area_code": "A1000150011300",
        "status": "active",
    }
    bad = {**good, "institution_id": "91500113MA5U000002", "kind": "state"}
    with pytest.raises(ValueError, match="registry row 2, column 'kind'"):
        repo.upsert_institutions(session, [good, bad])
    assert repo.list_institutions(session) == []
