"""Static files under names that carry a hash of their content.

``url_for("static", filename="css/respond.css")`` gives
``/static/css/respond.<hash>.css``, where ``<hash>`` is the first
``HASH_LENGTH`` hex digits of the file's SHA-256. A new release with a changed
file gives a new URL, so browsers (and nginx, which matches the pattern) may
cache hashed URLs for a year: a tablet never keeps an old script. Hashes are
computed once per process, when a file's URL is first built.

The static view serves ``name.<hash>.ext`` as ``name.ext`` only while the hash
is the file's current one (then with a one-year immutable ``Cache-Control``);
a hash of another content is a 404, so a hashed URL never names two contents.
The plain name still works, revalidated on every use (``no-cache`` + ETag).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory
from werkzeug.security import safe_join

HASH_LENGTH = 12
#: One year: the longest lifetime browsers honour, for URLs whose content never changes.
IMMUTABLE_MAX_AGE = 365 * 24 * 3600
#: A hashed name as ``url_for`` makes it (deploy/nginx/feedback.conf matches the same).
HASHED_NAME = re.compile(
    r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{" + str(HASH_LENGTH) + r"})(?P<ext>\.[A-Za-z0-9]+)$")


def init_app(app: Flask) -> None:
    """Hash every ``url_for("static", ...)`` and serve the hashed names."""
    app.url_defaults(_hash_static_filename)
    app.view_functions["static"] = serve_static


@lru_cache(maxsize=512)
def content_hash(path: str) -> str:
    """The file's content hash (memoised: static files do not change while a process runs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()[:HASH_LENGTH]


def hashed_name(static_folder: str, filename: str) -> str:
    """``css/respond.css`` → ``css/respond.<hash>.css``; unchanged when there is no such file."""
    path = safe_join(static_folder, filename)
    stem, dot, ext = filename.rpartition(".")
    if path is None or not dot or "/" in ext or not Path(path).is_file():
        return filename
    return f"{stem}.{content_hash(path)}.{ext}"


def _hash_static_filename(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values:
        values["filename"] = hashed_name(current_app.static_folder, values["filename"])


def serve_static(filename: str):
    """Flask's static view, plus the hashed names ``url_for`` hands out."""
    folder = current_app.static_folder
    match = HASHED_NAME.match(filename)
    plain = safe_join(folder, filename)
    if match is None or (plain is not None and Path(plain).is_file()):
        return current_app.send_static_file(filename)
    original = match["stem"] + match["ext"]
    path = safe_join(folder, original)
    if path is None or not Path(path).is_file() or content_hash(path) != match["hash"]:
        abort(404)
    response = send_from_directory(folder, original, max_age=IMMUTABLE_MAX_AGE)
    response.cache_control.immutable = True
    return response
