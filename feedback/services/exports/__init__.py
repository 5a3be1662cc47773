"""Analysts' exports: pseudonymised data out of the service, streamed."""

from feedback.services.exports.long import (
    LONG_COLUMNS,
    export_long_csv,
    long_rows_query,
    pseudonym,
    safe_text,
)

__all__ = ["LONG_COLUMNS", "export_long_csv", "long_rows_query", "pseudonym", "safe_text"]
