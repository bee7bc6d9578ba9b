"""Run the SCH suites through GX checkpoints on a package's typed tables and build Data Docs that open
offline: `danbao suites run PACKAGE --docs DIR`.

One ephemeral GX context; per template file a validation definition (the file's typed frame, as the
engine parses it: amounts as decimals, dates as dates, never text) and a checkpoint whose
``UpdateDataDocsAction`` writes the Data Docs site into ``DIR``. GX's pages load Bootstrap, jQuery and
bootstrap-table from public CDNs; here they are copied into ``DIR/static/offline/`` and every page's
links are rewritten to them, and links to other hosts (fonts, icons, Vega, a logo) are dropped, so the
folder opens from disk with no network and can be zipped and sent to a guarantor.

great_expectations is imported inside the functions (seconds): the engine, the rest of the CLI and the
Dagster code location never import this module.
"""

from __future__ import annotations

import re
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validations.filing import RawFiling
from validations.gx.suites import load_suite

OFFLINE = Path(__file__).resolve().parent / "offline"
SITE = "danbao"
# CDN file name (the last path part) → the vendored copy in validations/gx/offline/
LOCAL_ASSETS = {
    "bootstrap.min.css": "bootstrap.min.css",
    "bootstrap.min.js": "bootstrap.min.js",
    "jquery-3.7.1.min.js": "jquery.min.js",
    "popper.min.js": "popper.min.js",
    "bootstrap-table.min.css": "bootstrap-table.min.css",
    "bootstrap-table.min.js": "bootstrap-table.min.js",
    "bootstrap-table-filter-control.css": "bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
}
_EXTERNAL = re.compile(r"""<(link|script|img)\b[^>]*?\b(?:href|src)="(https?://[^"]+)"[^>]*>(?:\s*</script>)?""",
                       re.IGNORECASE)


@dataclass
class FileOutcome:
    file: str
    suite: str
    success: bool
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)  # rule_id, expectation, column, unexpected


@dataclass
class SuitesRun:
    success: bool
    files: list[FileOutcome]
    docs_index: Path | None
    validation_pages: dict[str, Path] = field(default_factory=dict)


def run_suites(filing: RawFiling, docs_dir: Path | None = None, progress: Any = None) -> SuitesRun:
    """Validate every template file of ``filing`` with its suite through a GX checkpoint; with
    ``docs_dir``, build the Data Docs site there (offline)."""
    from validations.gx.runner import gx_context, import_gx, package_frames

    gx = import_gx()
    context = gx_context()
    frames = package_frames(filing)
    if docs_dir is not None:
        docs_dir = Path(docs_dir).resolve()
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(site_name=SITE, site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    source = context.data_sources.add_pandas(name="danbao")
    outcomes = []
    for name, frame in frames.items():
        if progress is not None:
            progress.update(description=f"GX: {name}")
        suite = context.suites.add(gx.ExpectationSuite(**load_suite(name)))
        batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(f"{name} ({filing.period})")
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[SITE])] if docs_dir else []
        checkpoint = context.checkpoints.add(gx.Checkpoint(name=f"danbao-{name}", validation_definitions=[definition],
                                                           actions=actions, result_format="SUMMARY"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = checkpoint.run(batch_parameters={"dataframe": frame})
        for validation in result.run_results.values():
            outcomes.append(_outcome(name, suite.name, validation))
        if progress is not None:
            progress.advance(1)
    run = SuitesRun(all(o.success for o in outcomes), outcomes, None)
    if docs_dir is not None:
        make_offline(docs_dir)
        run.docs_index = docs_dir / "index.html"
        for name in frames:
            pages = sorted((docs_dir / "validations").rglob(f"danbao-{name}.html"))
            if pages:
                run.validation_pages[name] = pages[-1]
    return run


def _outcome(name: str, suite_name: str, validation: Any) -> FileOutcome:
    failed = []
    for r in validation.results:
        if r.success:
            continue
        config = r.expectation_config
        failed.append({
            "rule_id": config.meta.get("rule_id"),
            "expectation": config.type,
            "column": config.kwargs.get("column"),
            "description": config.description,
            "unexpected_count": (r.result or {}).get("unexpected_count"),
            "unexpected": [str(v) for v in (r.result or {}).get("partial_unexpected_list", [])[:5]],
        })
    stats = validation.statistics
    return FileOutcome(name, suite_name, bool(validation.success), int(stats.get("evaluated_expectations", 0)), failed)


def make_offline(docs_dir: Path) -> int:
    """Copy the vendored assets into ``docs_dir/static/offline`` and point every page at them; drop any
    other reference to another host. Returns the number of pages rewritten."""
    target = docs_dir / "static" / "offline"
    target.mkdir(parents=True, exist_ok=True)
    for asset in OFFLINE.iterdir():
        if asset.suffix in (".css", ".js"):
            shutil.copyfile(asset, target / asset.name)
    pages = 0
    for page in docs_dir.rglob("*.html"):
        depth = len(page.relative_to(docs_dir).parts) - 1
        prefix = "../" * depth + "static/offline/"
        html = page.read_text(encoding="utf-8")

        def local(match: re.Match[str], prefix: str = prefix) -> str:
            tag, url = match.group(1).lower(), match.group(2)
            name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            local_name = LOCAL_ASSETS.get(name)
            if local_name is None:
                return ""  # fonts, icons, Vega, the date picker, a remote logo: not needed to read the page
            if tag == "link":
                return f'<link rel="stylesheet" href="{prefix}{local_name}">'
            return f'<script src="{prefix}{local_name}"></script>'

        rewritten = _EXTERNAL.sub(local, html)
        rewritten = re.sub(r"""url\(\s*['"]?https?://[^)]*\)""", "none", rewritten)
        if rewritten != html:
            page.write_text(rewritten, encoding="utf-8")
            pages += 1
    return pages


def external_references(docs_dir: Path) -> list[tuple[Path, str]]:
    """Every ``src``/``href``/``url()`` pointing at another host that a browser would load (links a
    person may click, ``<a href>``, are not loads)."""
    found = []
    for page in docs_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for m in _EXTERNAL.finditer(html):
            found.append((page, m.group(2)))
        for m in re.finditer(r"""url\(\s*['"]?(https?://[^)'"]+)""", html):
            found.append((page, m.group(1)))
    return found
