"""Refusing NUL bytes and invalid UTF-8 before anything reads the request.

PostgreSQL refuses NUL in text columns (a 500, or a dropped connection), SQLite
stores it, and Werkzeug quietly replaces invalid UTF-8 with U+FFFD. Neither may
reach a form, a query or the audit log. The check sits in front of the Flask
app as WSGI middleware, because by the time a ``before_request`` hook runs,
Flask-WTF's CSRF check may already have read (and consumed) the form.

It covers the path, the query string and form bodies, URL-encoded and
multipart alike. A refused request reaches Flask with its query and body
removed and a mark in the environ; :func:`refuse_marked` (the app's first
``before_request`` hook) answers it with 400 and the error page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from urllib.parse import unquote_to_bytes

from flask import abort, request
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

#: Set in the WSGI environ of a refused request, with the reason.
REFUSED = "feedback.refused_input"

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Malformed(ValueError):
    """Input that is not NUL-free UTF-8."""


def _text(raw: bytes) -> str:
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("invalid UTF-8") from None
    if "\x00" in value:
        raise Malformed("NUL byte")
    return value


def check_urlencoded(raw: bytes) -> None:
    """Raise :class:`Malformed` unless every key and value decodes to NUL-free UTF-8.

    Raw (unescaped) bytes are judged like percent-escaped ones.
    """
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            _text(unquote_to_bytes(part.replace(b"+", b" ")))


def check_multipart(raw: bytes, boundary: str) -> None:
    """Raise :class:`Malformed` unless every field name, file name and text field is clean.

    File contents are bytes by nature and are left to whoever reads them.
    """
    try:
        decoder = MultipartDecoder(boundary.encode("latin-1"))
        decoder.receive_data(raw)
        decoder.receive_data(None)
        value: list[bytes] | None = None
        while True:
            event = decoder.next_event()
            if isinstance(event, (NeedData, Epilogue)):
                break
            if isinstance(event, File):
                _text(event.name.encode("utf-8"))
                _text(event.filename.encode("utf-8"))
                value = None
            elif isinstance(event, Field):
                _text(event.name.encode("utf-8"))
                value = []
            elif isinstance(event, Data) and value is not None:
                value.append(event.data)
                if not event.more_data:
                    _text(b"".join(value))
                    value = None
    except Malformed:
        raise
    except ValueError as error:  # a broken body or boundary, or undecodable headers
        raise Malformed(f"malformed multipart body: {error}") from None


def _raw(environ: dict, key: str) -> bytes:
    """A WSGI string as the bytes it stands for (PEP 3333: latin-1 characters of the bytes)."""
    try:
        return environ.get(key, "").encode("latin-1")
    except UnicodeEncodeError:
        raise Malformed(f"{key} is not a WSGI byte string") from None


def _path(environ: dict) -> str:
    # The path arrives already unescaped, as latin-1 characters of its bytes.
    return _text(_raw(environ, "PATH_INFO"))


def _read_body(environ: dict, limit: int | None) -> bytes | None:
    """The form body, read once and put back for Flask; ``None`` when it is not ours to check."""
    length = environ.get("CONTENT_LENGTH")
    try:
        length = int(length) if length else None
    except ValueError:
        return None  # Werkzeug answers a nonsense length itself
    if length is None and not environ.get("wsgi.input_terminated"):
        return None  # no body
    if length is not None and limit is not None and length > limit:
        return None  # Flask answers 413 without reading it
    stream = environ["wsgi.input"]
    if length is None:
        body = stream.read(limit + 1) if limit is not None else stream.read()
    else:
        body = stream.read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    return body


def inspect(environ: dict, limit: int | None) -> None:
    """Raise :class:`Malformed` if the request carries NUL bytes or invalid UTF-8."""
    _path(environ)
    check_urlencoded(_raw(environ, "QUERY_STRING"))
    mimetype, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
    if mimetype not in _FORM_TYPES:
        return
    body = _read_body(environ, limit)
    if body is None:
        return
    if mimetype == "multipart/form-data":
        if options.get("boundary"):
            check_multipart(body, options["boundary"])
    else:
        check_urlencoded(body)


class InputGuard:
    """WSGI middleware: marks requests with NUL bytes or invalid UTF-8 for a 400."""

    def __init__(self, app: Callable, limit: Callable[[], int | None]):
        self.app = app
        #: The body size limit (Flask's ``MAX_CONTENT_LENGTH``), asked per request.
        self.limit = limit

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Pass the request on, emptied and marked if it is malformed."""
        try:
            inspect(environ, self.limit())
        except Malformed as error:
            try:
                _path(environ)
            except Malformed:
                environ["PATH_INFO"] = "/"
            environ.update({
                REFUSED: str(error), "QUERY_STRING": "", "CONTENT_LENGTH": "0",
                "wsgi.input": io.BytesIO(b""),
            })
        return self.app(environ, start_response)


def refuse_marked() -> None:
    """The app's first ``before_request`` hook: 400 for a request the guard marked."""
    if request.environ.get(REFUSED):
        abort(400)
