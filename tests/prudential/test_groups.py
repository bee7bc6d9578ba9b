"""PRU-003's related groups (rules.md 1.1, docs/phase4-readings.md) computed on the dictionary codes
agree with the definition read row by row in plain Python, on random filings whose parties name
several groups, name none, or name one only on rows that are not counted."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

import pytest

from validations.context import Period
from validations.prudential.measures import Rows, measure
from validations.prudential.reference import ReferenceData

from .helpers import day, financials, guarantees, institution


def _by_definition(records: list[dict]) -> dict[tuple[str, bool], Decimal]:
    """(group_id or party_id, is_group) → exposure: a party's exposure is the sum of its counted rows'
    outstanding_balance × liability_share (active financing rows); it counts in full in every group one
    of its rows names (any row, counted or not), and a party naming none is a group of its own."""
    exposure: dict[str, Decimal] = defaultdict(Decimal)
    for r in records:
        if r["status"] == "active" and r["business_type"] != "non_financing":
            exposure[r["party_id"]] += Decimal(str(r["outstanding_balance"])) * Decimal(str(r["liability_share"]))
    named: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r["related_group_id"]:
            named[r["party_id"]].add(r["related_group_id"])
    groups: dict[tuple[str, bool], Decimal] = defaultdict(Decimal)
    for party, amount in exposure.items():
        if named[party]:
            for group in named[party]:
                groups[(group, True)] += amount
        else:
            groups[(party, False)] += amount
    return dict(groups)


def _random_records(seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for _ in range(rng.randint(1, 60)):
        status = rng.choice(["active", "active", "active", "released"])
        records.append({
            "party_id": f"P{rng.randint(1, 12):017d}",
            "related_group_id": rng.choice([None, None, "", "G-A", "G-B", "G-C", f"G-{rng.randint(1, 30)}"]),
            "business_type": rng.choice(["loan", "loan", "bond", "non_financing", "other_financing"]),
            "status": status,
            "closed_date": day("2026-10-05") if status == "released" else None,
            "outstanding_balance": 0.0 if status == "released" else rng.randint(0, 10**9) / 100,
            "liability_share": rng.choice([1.0, 0.4, 0.25, 0.333]),
        })
    return records


@pytest.mark.parametrize("seed", range(40))
def test_groups_on_codes_agree_with_the_definition(seed):
    records = _random_records(seed)
    table = guarantees(*records)
    period = Period.parse("2026-10")
    m = measure(Rows.of(table, institution()), financials(), ReferenceData.load().as_of(period.end))
    groups = m.groups.to_pylist()
    got = {(g["group_id"], g["is_group"]): g["exposure"] for g in groups}
    assert len(got) == len(groups)  # no group twice
    assert got == _by_definition([{**r, "related_group_id": r["related_group_id"] or ""} for r in records])
    # the groups come first, then the parties alone
    flags = [g["is_group"] for g in groups]
    assert flags == sorted(flags, reverse=True)
