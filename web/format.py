"""How numbers and times read on the pages: Beijing time (the regulation's clock), percentages with two
decimals, amounts in yuan with thousands separators, the indicators with their Chinese and English names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(value: dt.datetime | None, seconds: bool = True) -> str:
    """A stored time (UTC; naive means UTC) as Beijing time: ``2026-11-27 19:17:41 北京时间``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " 北京时间"


def pct(value: Any, digits: int = 2) -> str:
    """0.0141094247 → ``1.41%``."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:,.{digits}f}%"


def yuan(value: Any) -> str:
    """21790200.0 → ``¥21,790,200.00`` (exact for a Decimal)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return f"¥{value.quantize(Decimal('0.01')):,}"
    return f"¥{float(value):,.2f}"


def times(value: Any) -> str:
    """A multiple: 0.057539 → ``0.06×``."""
    if value is None or value == "":
        return "—"
    return f"{float(value):,.2f}×"


def count(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{int(value):,}"


# key: (Chinese, English, formatter)
INDICATORS: dict[str, tuple[str, str, Any]] = {
    "leverage_ratio": ("融资担保放大倍数", "leverage", times),
    "leverage_cap": ("放大倍数上限", "leverage cap", times),
    "financing_exposure": ("融资担保责任余额", "financing exposure", yuan),
    "measured_financing_liability": ("折算后融资担保责任余额", "measured financing liability", yuan),
    "non_financing_exposure": ("非融资担保责任余额", "non-financing exposure", yuan),
    "net_assets_for_leverage": ("计算放大倍数的净资产", "net assets for leverage", yuan),
    "max_party_ratio": ("单户最大责任余额占净资产比", "largest party / net assets", pct),
    "max_party_id": ("单户最大被担保人", "largest party", str),
    "max_group_ratio": ("单一集团最大责任余额占净资产比", "largest group / net assets", pct),
    "max_group_id": ("最大关联集团", "largest group", str),
    "in_district_households": ("区内被担保户数", "in-district households", count),
    "small_micro_agri_households": ("小微/三农户数", "small-micro & agri households", count),
    "small_micro_agri_household_share": ("小微/三农户数占比", "small-micro & agri household share", pct),
    "small_micro_agri_exposure_share": ("小微/三农责任余额占比", "small-micro & agri exposure share", pct),
    "weighted_fee_rate": ("加权平均担保费率", "weighted fee rate", pct),
    "small_micro_agri_weighted_fee_rate": ("小微/三农加权平均担保费率", "small-micro & agri weighted fee rate", pct),
    "compensated_in_period": ("本期代偿额", "compensated in the period", yuan),
    "compensation_rate": ("代偿率", "compensation rate", pct),
    "class_i_ratio": ("Ⅰ级资产占比", "class I assets", pct),
    "class_i_ii_ratio": ("Ⅰ、Ⅱ级资产占比", "class I + II assets", pct),
    "class_iii_ratio": ("Ⅲ级资产占比", "class III assets", pct),
    "subsidy_amount": ("担保费补贴", "fee subsidy", yuan),
}
PROGRAMS = {"sme_fee": ("中小微企业", "SME fee"), "rural_startup": ("农村创业", "rural start-up"),
            "land_income": ("土地收益", "land income")}


def indicator_rows(indicators: dict[str, Any] | None) -> list[dict[str, str]]:
    """Every indicator as (key, Chinese, English, formatted value), known ones first in a fixed order."""
    if not indicators:
        return []
    rows = []
    for key, (zh, en, fmt) in INDICATORS.items():
        if key in indicators:
            rows.append({"key": key, "zh": zh, "en": en, "value": fmt(indicators[key]) if indicators[key] is not None else "—"})
    for program, amount in (indicators.get("subsidy_by_program") or {}).items():
        zh, en = PROGRAMS.get(program, (program, program))
        rows.append({"key": f"subsidy_{program}", "zh": f"补贴 · {zh}", "en": f"subsidy · {en}", "value": yuan(amount)})
    for key, value in indicators.items():
        if key not in INDICATORS and key != "subsidy_by_program":
            rows.append({"key": key, "zh": key, "en": key, "value": str(value)})
    return rows


def finding_value(finding: dict[str, Any]) -> str:
    """A finding's value as a person reads it: a whole filing's ratio (PRU/POL/SUB findings carry the
    indicator, e.g. ``0.0141094247``) as a percentage; a cell's value exactly as filed."""
    value = finding.get("value")
    if value is None:
        return ""
    if finding.get("file"):
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if 0 <= number <= 1 and "." in str(value):
        return pct(number)
    return f"{number:,.2f}" if "." in str(value) else str(value)
