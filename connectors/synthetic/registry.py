"""A synthetic regulator's registry (filing-template.md §5): the guarantors that synthetic packages file for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from connectors.synthetic import ids
from connectors.synthetic.formats import csv_bytes
from connectors.synthetic.text import integers, join
from schemas import codes, get_template

_NAMES = ("兴农", "渝南", "鑫源", "惠民", "巴渝", "聚丰", "恒信", "同心", "长盛", "瑞丰", "安泰", "嘉禾")


def make_registry(n_guarantors: int, seed: int = 0, district: str = "500113") -> pa.Table:
    """``n_guarantors`` active guarantors of ``district``.

    Kinds cycle government → commercial → mixed so that any three guarantors exercise every
    kind-dependent rule (BIZ-009, POL-001/002); the mixed ones are marked ``focus_small_micro_agri``
    (leverage cap 15×, POL-003), like the third guarantor of the shared samples.
    """
    rng = np.random.default_rng([seed, 0x5E6])
    n = n_guarantors
    index = np.arange(n)
    kinds = np.asarray(codes.INSTITUTION_KINDS)[index % len(codes.INSTITUTION_KINDS)]
    names = [
        f"重庆市{_NAMES[i % len(_NAMES)]}{'' if i < len(_NAMES) else i // len(_NAMES) + 1}"
        f"{'政策性' if kinds[i] == 'government' else ''}融资担保有限公司"
        for i in range(n)
    ]
    table = pa.table(
        {
            "institution_id": ids.uscc(91, int(district), n, rng),
            "name": pa.array(names, pa.string()),
            "kind": pa.array(kinds.tolist(), pa.string()),
            "focus_small_micro_agri": pa.array(kinds == "mixed", pa.bool_()),
            "district_code": pa.array([district] * n, pa.string()),
            "license_no": join(f"渝{district[2:]}", integers(index + 1, 3)),
            "pboc_area_code": join(district, integers(index + 1, 8)),
            "status": pa.array(["active"] * n, pa.string()),
        }
    )
    assert table.column_names == list(get_template("1.0").registry_columns)
    return table


def write_registry_csv(table: pa.Table, path: str | Path) -> Path:
    """The registry as a UTF-8 CSV in the shared samples' layout (``true``/``false`` booleans, no quotes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(table))
    return path
