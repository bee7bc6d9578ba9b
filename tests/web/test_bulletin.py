"""The period bulletin (通报): grades with ratings, early warnings, the discipline list, the district
roll-up and run-off (六(十四)), built from the published datasets and the registry, as a page and a
printable document. The sections are checked against hand-made datasets with hand-computed figures;
the served page and download against what the portal's fixture published."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa
import pytest

from connectors.datasets import DatasetStore
from connectors.datasets.tables import discipline_table, grades_table
from connectors.publish import cbrc
from tests.web.conftest import PUBLISHED_PERIODS, as_json
from web import bulletin

G = [f"91500113{n:09d}X"[:18] for n in range(1, 7)]  # ids only need to be distinct here


def _institution(i: int, *, kind="government", status="active", systemic=False, rating=None):
    agency, grade, date = rating or (None, None, None)
    return SimpleNamespace(institution_id=G[i], name=f"担保公司{i}", kind=kind, status=status, systemic=systemic,
                           rating_agency=agency, rating_grade=grade, rating_date=date)


def _indicators(store: DatasetStore, i: int, period: str, financing: float, non_financing: float = 0.0,
                households: int = 0, small_micro: int = 0) -> None:
    store.write("indicators", period, pa.Table.from_pylist([{
        "institution_id": G[i], "period": period, "submission_id": 1, "financing_exposure": financing,
        "non_financing_exposure": non_financing, "in_district_households": households,
        "small_micro_agri_households": small_micro, "subsidy_amount": 0.0, "leverage_ratio": 2.5,
    }]), institution_id=G[i])  # fmt: skip


@pytest.fixture
def made(tmp_path):
    store = DatasetStore(tmp_path / "datasets")
    registry = [
        _institution(0, rating=("中诚信国际", "AA", "2026-06-30"), systemic=True),
        _institution(1, kind="commercial"),
        _institution(2, kind="commercial", rating=("联合资信", "A+", "2026-03-31")),
        _institution(3, status="exited"), _institution(4, status="exited"), _institution(5, status="exited"),
    ]
    p = "2026-10"
    for i, grade, late in ((0, "A", False), (1, "D", True), (2, "B", False)):
        store.write("grades", p, grades_table(G[i], p, grade, f"措施{grade}", f"measures {grade}", [], None, late),
                    institution_id=G[i])
    _indicators(store, 0, p, 1_000_000.0, households=100, small_micro=80)
    _indicators(store, 2, p, 500_000.0, households=50, small_micro=10)
    store.write("findings", p, pa.table({
        "institution_id": [G[0], G[0], G[0], G[0], G[2]], "period": [p] * 5,
        "rule_id": ["EWS-001", "EWS-001", "BNK-001", "PRU-001", "EWS-003"],
    }))
    store.write("discipline_list", p, discipline_table(p, [(G[1], "2026-09", p)]))
    _indicators(store, 3, "2026-08", 300_000.5, 20.0)  # exited with guarantees in force: in run-off
    _indicators(store, 3, "2026-11", 0.0)  # after the bulletin's period: not read for 2026-10
    _indicators(store, 4, "2026-09", 0.0, 0.0)  # exited and run off
    return store, registry  # G[5]: exited, nothing ever published


def test_grades_ratings_and_distribution(made):
    store, registry = made
    b = bulletin.build(store, registry, "2026-10")
    assert [(r["institution_id"], r["grade"]) for r in b.grades] == [(G[0], "A"), (G[2], "B"), (G[1], "D")]
    first = b.grades[0]
    assert (first["rating_agency"], first["rating_grade"], first["rating_date"], first["systemic"]) == (
        "中诚信国际", "AA", "2026-06-30", True)
    assert b.grades[2]["late_filing"] and b.grades[2]["rating_grade"] is None
    assert b.distribution == {"A": 1, "B": 1, "C": 0, "D": 1}


def test_early_warnings_are_the_ews_and_bnk_findings_counted(made):
    store, registry = made
    warnings = {(w["institution_id"], w["rule_id"]): w["count"] for w in bulletin.build(store, registry, "2026-10").warnings}
    assert warnings == {(G[0], "EWS-001"): 2, (G[0], "BNK-001"): 1, (G[2], "EWS-003"): 1}  # PRU-001 is no warning


def test_discipline_list_and_district_rollup(made):
    store, registry = made
    b = bulletin.build(store, registry, "2026-10")
    assert [(d["institution_id"], d["previous_period"], d["name"]) for d in b.discipline] == [(G[1], "2026-09", "担保公司1")]
    # households of the government guarantors only (POL-001's population): 80 / 100
    assert b.rollup["small_micro_agri_household_share"] == 0.8 and b.rollup["meets_household_target"] is True
    assert b.rollup["financing_exposure"] == 1_500_000.0
    assert b.rollup["grade_distribution"] == {"A": 1, "B": 1, "C": 0, "D": 1} and b.rollup["late_filers"] == 1


def test_run_off_of_exited_guarantors(made):
    store, registry = made
    lines = {r["institution_id"]: r for r in bulletin.build(store, registry, "2026-10").run_off}
    assert set(lines) == {G[3], G[4], G[5]}
    assert (lines[G[3]]["last_period"], lines[G[3]]["financing_exposure"], lines[G[3]]["non_financing_exposure"],
            lines[G[3]]["in_run_off"]) == ("2026-08", 300_000.5, 20.0, True)
    assert (lines[G[4]]["last_period"], lines[G[4]]["in_run_off"]) == ("2026-09", False)
    assert (lines[G[5]]["last_period"], lines[G[5]]["in_run_off"]) == (None, None)
    later = {r["institution_id"]: r for r in bulletin.run_off(store, registry, "2026-11")}
    assert later[G[3]]["in_run_off"] is False  # its 2026-11 filing shows the book run off


def test_the_cbrc_summary_lists_run_off_only_when_there_is_any():
    report = {"period": "2026-08", "indicators": {"financing_exposure": 300_000.5, "non_financing_exposure": 20.0}}
    line = cbrc.run_off_line(G[3], "担保公司3", report)
    summary = cbrc.build_summary("2026-10", [], [], [line, cbrc.run_off_line(G[5], "担保公司5", None)])
    assert summary["run_off"] == [
        {"institution_id": G[3], "name": "担保公司3", "last_period": "2026-08", "financing_exposure": 300_000.5,
         "non_financing_exposure": 20.0, "in_run_off": True},
        {"institution_id": G[5], "name": "担保公司5", "last_period": None, "financing_exposure": None,
         "non_financing_exposure": None, "in_run_off": None}]  # fmt: skip
    assert "run_off" not in cbrc.build_summary("2026-10", [], [])  # without exits: as before


def test_the_document_is_printable_and_self_contained(made):
    from web.pages import ENV

    store, registry = made
    html = ENV.get_template("bulletin_document.html").render(b=bulletin.build(store, registry, "2026-10"))
    assert "<script" not in html and "http://" not in html and "https://" not in html and "@media print" in html
    for text in ("担保公司0", "中诚信国际", "EWS-001", "清收中 in run-off", "已结清 run off", "80.00%"):
        assert text in html, text


# -- served ---------------------------------------------------------------------------------------


def test_the_regulator_reads_and_downloads_the_bulletin(live_sqlite, published):
    live = live_sqlite
    period = PUBLISHED_PERIODS[1]  # the period with a late filer
    page = live.get(f"/bulletin?period={period}", "regulator")
    assert page.status_code == 200 and "监管通报" in page.text
    grades = as_json(live.get(f"/api/datasets/grades?period={period}&format=json", "regulator"))
    assert page.text.count('class="grade-row"') == len(grades) == 3
    document = live.get(f"/bulletin/download?period={period}", "regulator")
    assert document.status_code == 200 and document.headers["content-type"].startswith("text/html")
    assert document.headers["content-disposition"] == f'attachment; filename="bulletin-{period}.html"'
    body = as_json(live.get(f"/bulletin/download?period={period}&format=json", "regulator"))
    assert {(r["institution_id"], r["grade"]) for r in body["grades"]} == {(r["institution_id"], r["grade"]) for r in grades}
    assert [r["institution_id"] for r in body["grades"] if r["late_filing"]] == [published.late[0]]
    assert body["district_rollup"]["late_filers"] == 1 and body["period"] == period
    for who in ("a", "bank"):
        assert live.get(f"/bulletin?period={period}", who).status_code == 403
