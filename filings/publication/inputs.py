"""What publishing takes of one accepted filing: its ``AcceptedFiling``, read from the result archive.

The engine's conclusions were archived when the submission was validated (``filings.validation``), so
``danbao publish`` and the Dagster assets hand on exactly what was recorded and never validate a
package again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connectors.archive import FilingArchive
from connectors.archive.results import accepted_filing_of
from store.blobs import BlobStore
from store.models import Submission
from validations.context import Institution
from validations.results import AcceptedFiling, NotPublishableError

__all__ = ["AcceptedFiling", "Loader", "NotPublishableError", "from_archive"]

Loader = Callable[[BlobStore, Submission, Mapping[str, Institution]], AcceptedFiling]


def from_archive(archive: FilingArchive) -> Loader:
    """A loader of accepted filings from ``archive`` (the blob store and registry are not needed: the
    result names the guarantor as registered when it was validated)."""

    def load(blobs: BlobStore, submission: Submission, registry: Mapping[str, Institution]) -> AcceptedFiling:
        bundle = archive.validation(submission.period, submission.institution_id, submission.sequence)
        if bundle is None:
            raise NotPublishableError(f"submission {submission.id} has no archived result: validate it first")
        return accepted_filing_of(bundle, submission.accepted_at)

    return load
