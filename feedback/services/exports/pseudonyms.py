"""Pseudonymous ids (decision 15), with a bounded cache per export."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

#: Distinct ids remembered per export. Cases, people and meetings recur on nearby rows
#: (rows are in time order); a response's id is formatted once anyway.
CACHE_SIZE = 16_384


def pseudonym(key: bytes, internal_id) -> str:
    """First 16 hex characters of HMAC-SHA256(key, internal UUID) (decision 15)."""
    return hmac.new(key, str(internal_id).encode(), hashlib.sha256).hexdigest()[:16]


def domain(key: bytes) -> str:
    """A short fingerprint of the key: exports with the same fingerprint link up.

    Derived with the key itself, so it says nothing about the key.
    """
    return hmac.new(key, b"feedback pseudonym domain", hashlib.sha256).hexdigest()[:8]


def _uuid_text(raw) -> str:
    # Rows are read without type conversion: SQLite gives 32 hex digits, PostgreSQL a
    # UUID. Both become the canonical text, so the pseudonym is the same on both.
    if isinstance(raw, str) and len(raw) == 32:
        h = raw.lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(raw)


class Pseudonyms:
    """Pseudonyms for one export: ``pseudonyms(raw_id)``, with a bounded LRU cache."""

    def __init__(self, key: bytes, size: int = CACHE_SIZE):
        self.key = key
        # The keyed state is set up once and copied per id (the same HMAC, less work).
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._cached = lru_cache(maxsize=size)(self._compute)

    def _compute(self, raw) -> str:
        mac = self._keyed.copy()
        mac.update(_uuid_text(raw).encode())
        return mac.hexdigest()[:16]

    def __call__(self, raw) -> str:
        """The pseudonym of an internal id (raw from the database or a UUID); '' for None."""
        if raw is None:
            return ""
        return self._cached(raw)

    def once(self, raw) -> str:
        """The pseudonym of an id seen only once (a response's): not cached."""
        return "" if raw is None else self._compute(raw)
