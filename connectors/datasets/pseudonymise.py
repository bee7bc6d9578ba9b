"""Resident ID numbers never leave Danbao in the clear: a keyed hash (HMAC-SHA256) stands in for them.
Natural persons' names are masked to their first character (outputs.md 2.0 §2, :func:`mask_person_names`).

The key comes from the environment (``DANBAO_PSEUDONYM_KEY``), so that the same person gets the same
pseudonym in every period (regulators can follow a party) while nobody without the key can recover the
number by hashing all plausible IDs (there are few enough of those to enumerate). Hashing runs once per
distinct value, then ``take`` spreads the results: the per-value work is over parties, not rows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from connectors.local_secret import local_secret_hex

PREFIX = "ric:"
NAME_MASK = "*"
ENTERPRISE_ID_TYPE = "USCC"
RIC_SHAPE = r"^[0-9]{17}[0-9Xx]$"


class MissingKeyError(RuntimeError):
    pass


def pseudonym_key(local_key_file: Path | None = None) -> bytes:
    """The pseudonymisation key: ``DANBAO_PSEUDONYM_KEY`` (production), else, for the embedded local
    setup only, a random key kept in ``local_key_file`` (created once, mode 0600 in a 0700 folder, under
    DANBAO_HOME, never in the repository). With neither, publishing refuses to run."""
    key = os.environ.get("DANBAO_PSEUDONYM_KEY", "")
    if key:
        if len(key) < 16:
            raise MissingKeyError("DANBAO_PSEUDONYM_KEY must be at least 16 characters")
        return key.encode()
    if local_key_file is None:
        raise MissingKeyError("DANBAO_PSEUDONYM_KEY must be set to publish datasets")
    return local_secret_hex(local_key_file, 32).encode()


def _hash_values(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    digests = [
        None if v is None else PREFIX + hmac.new(key, v.upper().encode(), hashlib.sha256).hexdigest()
        for v in encoded.dictionary.to_pylist()
    ]
    return pa.array(digests, pa.string()).take(encoded.indices)


def pseudonymise_party_ids(ids: pa.ChunkedArray | pa.Array, id_types: pa.ChunkedArray | pa.Array,
                           key: bytes) -> pa.ChunkedArray | pa.Array:
    """``party_id`` with every ``RIC`` row replaced by its keyed hash; USCC (enterprises) stay as filed."""
    is_ric = pc.fill_null(pc.equal(id_types, "RIC"), False)
    if not pc.any(is_ric).as_py():
        return ids
    return pc.if_else(is_ric, _hash_values(ids, key), ids)


def pseudonymise_resident_ids(values: pa.ChunkedArray | pa.Array, key: bytes) -> pa.ChunkedArray | pa.Array:
    """Any value shaped like a resident ID (17 digits and a check character) replaced by its keyed hash:
    for free columns (a finding's value, an indicator's party id) where the id type is not at hand. A
    USCC made only of digits is hashed too, which errs on the side of privacy."""
    if len(values) == 0:
        return values
    looks = pc.fill_null(pc.match_substring_regex(values, RIC_SHAPE), False)
    if not pc.any(looks).as_py():
        return values
    return pc.if_else(looks, _hash_values(values, key), values)


def mask_person_names(names: pa.ChunkedArray | pa.Array, id_types: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """outputs.md 2.0 §2: "The name of a natural person (a ``RIC`` party) is masked to its first character
    followed by ``*`` (``赵*``)". One ``*`` whatever the name's length, so the mask tells nothing of it;
    the first character is the first one after leading blanks (a code point: ``欧阳修`` → ``欧*``).
    Enterprises' names (``USCC`` parties) stay as filed; a row whose id type is missing or unknown is
    masked too (the template allows only the two, so that errs on the side of privacy only). Masking a
    masked name gives it back unchanged."""
    if len(names) == 0:
        return names
    enterprise = pc.fill_null(pc.equal(id_types, ENTERPRISE_ID_TYPE), False)
    if pc.all(enterprise).as_py():
        return names
    first = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(names), 0, 1)
    return pc.if_else(enterprise, names, pc.binary_join_element_wise(first, NAME_MASK, ""))
