"""Regulator access: the published datasets listed, filtered and downloaded (Parquet, CSV, JSON), and the
dashboard's charts drawn from them."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from connectors.datasets import DatasetStore
from connectors.datasets.tables import guarantees_table
from connectors.intake import read_package
from connectors.registry import read_registry_csv
from tests.packages import GOV_ID, REGISTRY_CSV, SAMPLES
from tests.web.conftest import PSEUDONYM_KEY, PUBLISHED_PERIODS, as_json, start_live
from validations.engine import validate
from web.charts import marks


@pytest.fixture
def live(live_sqlite):
    return live_sqlite


def test_the_catalog_lists_every_dataset_and_its_partitions(live, published):
    catalog = {d["name"]: d for d in as_json(live.get("/api/datasets", "regulator"))["datasets"]}
    assert set(catalog) == {"indicators", "findings", "grades", "subsidies", "guarantees", "compensations",
                            "discipline_list"}
    assert catalog["indicators"]["periods"] == list(PUBLISHED_PERIODS)
    partition = next(p for p in catalog["grades"]["partitions"] if p["institution_id"] == published.late[0])
    assert partition["version"] == 1 and partition["rows"] == 1
    assert catalog["discipline_list"]["partitions"] == []


def test_download_by_period_and_guarantor_in_each_format(live, published):
    one = published.ids[0]
    parquet = live.get(f"/api/datasets/indicators?period=2026-09&institution_id={one}&format=parquet", "regulator")
    assert parquet.status_code == 200 and parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert 'filename="indicators-2026-09-' in parquet.headers["content-disposition"]
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == 1 and table["institution_id"].to_pylist() == [one]
    assert table["period"].to_pylist() == ["2026-09"] and "leverage_ratio" in table.column_names

    whole = live.get("/api/datasets/indicators?period=2026-10&format=csv", "regulator")
    assert whole.headers["content-type"].startswith("text/csv") and whole.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(whole.content.decode("utf-8-sig"))))
    assert {r["institution_id"] for r in rows} == {*published.ids, GOV_ID}

    subsidies = live.get(f"/api/datasets/subsidies?period=2026-10&institution_id={GOV_ID}&format=json", "regulator")
    amounts = [r["amount"] for r in subsidies.json()]
    assert amounts and all(re.fullmatch(r"\d+\.\d{2}", a) for a in amounts)  # exact to the fen, as text

    everything = live.get("/api/datasets/grades?format=json", "regulator").json()
    assert {r["period"] for r in everything} == set(PUBLISHED_PERIODS)
    assert [r["institution_id"] for r in everything if r["late_filing"]] == [published.late[0]]
    audit = live.audit(1)[0]
    assert audit.outcome == "download" and audit.detail["dataset"] == "grades"


def test_bad_and_empty_selections(live):
    assert live.get("/api/datasets/secrets", "regulator").status_code == 404
    assert live.get("/api/datasets/indicators?period=2019-01", "regulator").status_code == 404
    assert live.get("/api/datasets/indicators?period=2026-13", "regulator").status_code == 422
    assert live.get("/api/datasets/indicators?institution_id=../etc", "regulator").status_code == 422
    assert live.get("/api/datasets/indicators?format=xlsx", "regulator").status_code == 422
    assert live.get("/api/datasets", None).status_code == 401


def test_the_dashboard_draws_every_chart_from_the_published_data(live, published):
    browser = live.login("regulator")
    html = browser.get(live.url + "/dashboard").text
    for chart in ("leverage", "grades", "household_share", "subsidies", "late"):
        assert f'data-chart="{chart}"' in html, chart
    svg = {c: html.split(f'data-chart="{c}"', 1)[1].split("</svg>", 1)[0] for c in
           ("leverage", "grades", "household_share", "subsidies", "late")}
    mark = {c: marks(v) for c, v in svg.items()}

    def of(chart: str, role: str) -> list[str]:
        return [label for r, label in mark[chart] if r == role]

    assert len(of("leverage", "bar")) == 4  # 2026-10: three synthetic guarantors and A
    assert len(of("leverage", "cap")) == 4
    grades = dict(label.split(": ") for label in of("grades", "bar"))
    assert set(grades) == {"A", "B", "C", "D"} and sum(int(v) for v in grades.values()) == 4
    assert len(of("household_share", "point")) == 3 * 3 - 1 + 1  # one late filer has no indicators
    assert of("household_share", "target") == ["目标 target 75%"]
    assert of("subsidies", "bar") and all("¥" in label for label in of("subsidies", "bar"))
    late = dict(label.split(": ") for label in of("late", "bar"))
    assert late == {"2026-08": "0", "2026-09": "1", "2026-10": "0"}
    september = browser.get(live.url + "/dashboard?period=2026-09").text
    assert published.late[0] in september  # the late filer is named under its chart


def test_guarantees_are_served_with_natural_persons_names_masked(request, tmp_path_factory, published):
    """outputs.md 2.0 §2: a natural person's name (a `RIC` party) is masked to its first character
    followed by `*` (`赵*`). Also in a version published before 2.0 with the names in clear: versions are
    never rewritten, so the portal masks on the way out (in every format)."""
    folder = tmp_path_factory.mktemp("portal-masked")
    result = validate(read_package(SAMPLES / "valid-2026-10"), read_registry_csv(REGISTRY_CSV))
    filed = result.tables["guarantees"]
    ric_names = set(pc.filter(filed["party_name"], pc.equal(filed["party_id_type"], "RIC")).to_pylist())
    uscc_names = set(pc.filter(filed["party_name"], pc.equal(filed["party_id_type"], "USCC")).to_pylist())
    assert ric_names and uscc_names
    store = DatasetStore(folder / "datasets")
    store.write("guarantees", "2026-10", guarantees_table(result, 1, PSEUDONYM_KEY), institution_id=GOV_ID)
    in_clear = guarantees_table(result, 1, PSEUDONYM_KEY)  # as published before 2.0: names in clear
    for name, column in (("party_name", filed["party_name"]), ("period", pa.array(["2026-09"] * len(filed)))):
        in_clear = in_clear.set_column(in_clear.schema.get_field_index(name), name, column)
    store.write("guarantees", "2026-09", in_clear, institution_id=GOV_ID)
    assert ric_names <= set(store.read("guarantees", "2026-09")["party_name"].to_pylist())  # on disk in clear
    masked = {n[0] + "*" for n in ric_names}
    for live in start_live(request, folder, dataclasses.replace(published, root=folder / "datasets"), "sqlite"):
        for period in ("2026-10", "2026-09"):
            for who in ("regulator", "a"):
                rows = as_json(live.get(f"/api/datasets/guarantees?period={period}&format=json", who))
                names = {r["party_name"] for r in rows}
                assert not ric_names & names and masked <= names and uscc_names <= names, (period, who)
            text = live.get(f"/api/datasets/guarantees?period={period}&format=csv", "regulator").content.decode("utf-8-sig")
            assert not any(n in text for n in ric_names)
            parquet = pq.read_table(io.BytesIO(live.get(f"/api/datasets/guarantees?period={period}", "regulator").content))
            assert not ric_names & set(parquet["party_name"].to_pylist())
