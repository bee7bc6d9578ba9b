"""What happened, per guarantor and submission, as the commands and the demo print it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connectors.archive import FilingArchive
from pipelines.resources import ArchiveResource, StoreResource
from store import repository as repo
from store.models import Submission

STATE_ZH = {
    "received": "已接收",
    "validating": "校验中",
    "rejected": "退回",
    "needs_confirmation": "待确认",
    "accepted": "接受",
    "published": "已发布",
}


@dataclass(frozen=True)
class Row:
    submission_id: int
    institution_id: str
    period: str
    sequence: int
    source: str
    state: str
    errors: int | None
    warnings: int | None
    rules: str  # the rules with findings, most frequent first
    grade: str | None
    of_record: bool  # the accepted submission downstream assets read


def rows(store: StoreResource, archive: ArchiveResource | FilingArchive, submissions: Iterable[Submission]) -> list[Row]:
    tables = archive.archive() if isinstance(archive, ArchiveResource) else archive
    out = []
    with store.session() as session:
        for s in sorted(submissions, key=lambda s: (s.period, s.institution_id, s.sequence)):
            record = repo.last_accepted(session, s.institution_id, s.period)
            counts = s.finding_counts or {}
            rules, grade = "", None
            result = tables.validation(s.period, s.institution_id, s.sequence, tables=["findings"])
            if result is not None:
                grade = (result.meta.get("grade") or {}).get("grade")
                findings = result.tables.get("findings")
                if findings is not None and findings.num_rows:
                    top = findings.group_by("rule_id").aggregate([([], "count_all")]).sort_by([("count_all", "descending")])
                    rules = " ".join(f"{r}×{n}" for r, n in zip(top["rule_id"].to_pylist()[:4], top["count_all"].to_pylist()[:4], strict=True))
            out.append(Row(s.id, s.institution_id, s.period, s.sequence, str(s.source), str(s.state), counts.get("error"),
                           counts.get("warning"), rules, grade, record is not None and record.id == s.id))
    return out


def render(table: list[Row]) -> str:
    header = f"{'guarantor':<20}{'period':<9}{'#':>2}  {'door':<8}{'state':<26}{'err':>5}{'warn':>5}  {'grade':<6}{'record':<7}rules"
    lines = [header, "-" * len(header)]
    for r in table:
        state = f"{r.state} {STATE_ZH.get(r.state, '')}"
        lines.append(
            f"{r.institution_id:<20}{r.period:<9}{r.sequence:>2}  {r.source:<8}{state:<26}"
            f"{_n(r.errors):>5}{_n(r.warnings):>5}  {r.grade or '-':<6}{'yes' if r.of_record else '':<7}{r.rules}"
        )
    return "\n".join(lines)


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)
