"""A whole synthetic period: a registry and one package per guarantor, as the demo and benchmarks use."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa

from connectors.synthetic.financials import make_compensations, make_financials
from connectors.synthetic.guarantees import make_guarantees
from connectors.synthetic.inject import Expected, inject, package_errors, reported, status
from connectors.synthetic.package import package_name, write_package
from connectors.synthetic.registry import make_registry, write_registry_csv
from connectors.synthetic.v1_1 import extend, extend_registry
from schemas import SUPPORTED_VERSIONS
from schemas.versions import LATEST

REGISTRY_FILE = "registry.csv"


def generate_period(
    out_dir: str | Path,
    n_guarantors: int,
    rows_per_guarantor: int,
    period: str,
    fmt: str = "csv",
    seed: int = 0,
    inject_kinds: Iterable[str] | None = None,
    zip: bool = False,
    *,
    district: str = "500113",
    progress: Callable[[str], None] | None = None,
    template: str = LATEST,
) -> list[Path]:
    """Write ``registry.csv`` and one package per guarantor into ``out_dir``; return the package paths.

    The registry is always ``out_dir / REGISTRY_FILE``, so the list holds packages only, one per
    guarantor in registry order (``generate_period(...)[0]`` is the first guarantor's package).

    Guarantor i is generated with seed ``seed * 100_003 + i``, so adding guarantors leaves the existing ones
    unchanged. With ``inject_kinds`` every package is broken the same way (on its own random rows) and
    the expected findings go beside it as ``<package>.expected.json``, like the shared samples: the
    phase 1–3 ``status``, the ``findings`` the engine should report, and every ``injected`` one (some
    hide behind an earlier phase's error).

    ``template`` is the template version written: 1.1 (the default, Danbao's proposal) or 1.0. A 1.1
    period's registry carries the third-party ratings; the ``low_rating`` kind lowers them all to A.
    """
    if template not in SUPPORTED_VERSIONS:
        raise ValueError(f"unknown template version {template!r} (known: {', '.join(SUPPORTED_VERSIONS)})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    registry = make_registry(n_guarantors, seed=seed, district=district)
    kinds = list(inject_kinds or [])
    if template == "1.1":
        registry = extend_registry(registry, period, seed)
        if any(kind.partition(":")[0].strip() == "low_rating" for kind in kinds):
            registry = registry.set_column(registry.column_names.index("rating_grade"), "rating_grade",
                                           pa.array(["A"] * registry.num_rows, pa.string()))
    write_registry_csv(registry, out_dir / REGISTRY_FILE)
    paths: list[Path] = []
    institutions = registry.to_pylist()
    for i, institution in enumerate(institutions):
        guarantor_seed = seed * 100_003 + i
        if progress is not None:
            progress(f"package {i + 1:,}/{len(institutions):,}: generating {rows_per_guarantor:,} rows")
        guarantees = make_guarantees(
            rows_per_guarantor, period, guarantor_seed, institution["kind"], district,
            focus_small_micro_agri=institution["focus_small_micro_agri"], id_prefix=f"G{i + 1:03d}",
        )
        tables = {
            "guarantees": guarantees,
            "financials": make_financials(guarantees, period, guarantor_seed),
            "compensations": make_compensations(guarantees, period, guarantor_seed),
        }
        if template == "1.1":
            tables = extend(tables, period, guarantor_seed)
        errors: list[str] = []
        if kinds:
            tables, expected = inject(tables, kinds, guarantor_seed, period=period,
                                      institution_kind=institution["kind"])
            errors = package_errors(expected)
            sidecar = out_dir / f"{package_name(institution['institution_id'], period)}.expected.json"
            sidecar.write_text(json.dumps(_sidecar(expected), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if progress is not None:
            progress(f"package {i + 1:,}/{len(institutions):,}: writing {fmt}")
        paths.append(write_package(out_dir, institution, period, tables, fmt, zip, package_errors=errors,
                                   template_version=template))
    return paths


def _sidecar(expected: list[Expected]) -> dict:
    return {
        "status": status(expected),
        "findings": [e._asdict() for e in reported(expected)],
        "injected": [e._asdict() for e in expected],
    }
