"""Hand-made guarantors, filings and store rows for the publication tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from schemas.v1_0 import GUARANTEES
from store import repository as repo
from store.models import Submission, SubmissionState
from tests.prudential.helpers import cast_table
from validations.checksums import ric_check_char, uscc_check_char
from validations.context import Institution
from validations.findings import FINDINGS_SCHEMA
from validations.prudential import grade

GUARANTOR = "91500113MA5U00001" + uscc_check_char("91500113MA5U00001")
OTHER = "91500113MA5U00002" + uscc_check_char("91500113MA5U00002")
AREA = "A1000150011300"
OTHER_AREA = "A1000150011301"
DEPLOYMENT_KEY = "deployment-key-for-tests-0123456789"
GUARANTOR_KEY = "guarantor-own-key-9876543210"
SM4_KEY = "00112233445566778899aabbccddeeff"


def envelope():
    from connectors.publish.envelope import Sm4Envelope

    return Sm4Envelope(bytes.fromhex(SM4_KEY))


def uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def ric(body17: str) -> str:
    return body17 + ric_check_char(body17)


def institution(institution_id: str = GUARANTOR, area: str = AREA, name: str = "重庆市巴南区测试融资担保有限公司") -> Institution:
    return Institution(institution_id, name, "government", False, "500113", "渝0113001", area, "active")


def registry_row(inst: Institution) -> dict[str, Any]:
    return {"institution_id": inst.institution_id, "name": inst.name, "kind": inst.kind,
            "focus_small_micro_agri": inst.focus_small_micro_agri, "district_code": inst.district_code,
            "license_no": inst.license_no, "pboc_area_code": inst.pboc_area_code, "status": inst.status}


def guarantee(guarantee_id: str, **values: str) -> dict[str, str]:
    """One guarantees row as text (template 1.0), active by default."""
    row = {
        "guarantee_id": guarantee_id, "contract_no": "", "party_id_type": "USCC",
        "party_id": uscc("91500113MA5U0A0Q1"), "party_name": "重庆顺达汽配有限公司", "party_category": "small",
        "agri": "false", "industry_code": "3670", "district_code": "500113", "related_group_id": "",
        "guarantor_relation": "none", "business_type": "loan", "bond_issuer_rating": "", "lender_code": "C1025000100",
        "loan_amount": "1000000.00", "guaranteed_amount": "800000.00", "outstanding_balance": "800000.00",
        "liability_share": "1", "fee_rate": "0.01", "loan_interest_rate": "0.045", "start_date": "2026-01-15",
        "maturity_date": "2027-01-14", "status": "active", "closed_date": "", "counter_guarantee": "mortgage",
        "account_type": "policy", "subsidy_program": "none", "five_category": "1",
    }  # fmt: skip
    unknown = set(values) - set(row)
    assert not unknown, unknown
    row.update(values)
    return row


def guarantees(*rows: dict[str, str]) -> pa.Table:
    names = GUARANTEES.arrow_schema.names
    raw = pa.table({name: pa.array([r[name] for r in rows], pa.string()) for name in names})
    return cast_table(raw, GUARANTEES)


INDICATORS: dict[str, Any] = {
    "financing_exposure": 800000.0, "measured_financing_liability": 600000.0, "non_financing_exposure": 0.0,
    "net_assets_for_leverage": 300000000.0, "leverage_ratio": 0.002, "leverage_cap": 10,
    "max_party_ratio": 0.0026, "max_party_id": "91500113MA5U0A0Q1X", "max_group_ratio": 0.0026,
    "max_group_id": "91500113MA5U0A0Q1X", "in_district_households": 1, "small_micro_agri_households": 1,
    "small_micro_agri_household_share": 1.0, "small_micro_agri_exposure_share": 1.0, "weighted_fee_rate": 0.01,
    "small_micro_agri_weighted_fee_rate": 0.01, "compensated_in_period": 0.0, "compensation_rate": None,
    "class_i_ratio": 0.4, "class_i_ii_ratio": 0.8, "class_iii_ratio": 0.2, "subsidy_amount": 0.0,
    "subsidy_by_program": {},
}  # fmt: skip


def no_findings() -> pa.Table:
    return FINDINGS_SCHEMA.empty_table()


def accepted_submission(session: Session, institution_id: str, period: str, payload: bytes | None = None) -> Submission:
    """A submission recorded and accepted (its package is not read by these tests)."""
    payload = payload or f"{institution_id}/{period}/{dt.datetime.now().timestamp()}".encode()
    digest = hashlib.sha256(payload).hexdigest()
    submission = repo.record_submission(session, institution_id=institution_id, period=period, package_sha256=digest,
                                        package_bytes=len(payload), blob_key=f"sha256/{digest[:2]}/{digest}",
                                        source="cli")
    repo.set_state(session, submission, SubmissionState.ACCEPTED)
    return submission


def filing_for(submission: Submission, table: pa.Table, inst: Institution | None = None, findings: pa.Table | None = None):
    from validations.results import AcceptedFiling, Phase4Outcome

    findings = findings if findings is not None else no_findings()
    return AcceptedFiling(
        institution=inst or institution(submission.institution_id),
        period=submission.period,
        submission_id=submission.id,
        sequence=submission.sequence,
        accepted_at=submission.accepted_at,
        template_version="1.0",
        tables={"guarantees": table},
        findings=findings,
        outcome=Phase4Outcome(dict(INDICATORS), grade(findings), pa.table({})),
    )
