"""Finding and loading instrument packs: shipped ones, then the organisation's."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

from flask import current_app

from feedback.instruments.schema import Instrument, PackError, validate_pack

SHIPPED = Path(__file__).parent / "packs"


def load_pack(path: Path) -> Instrument:
    """Load and validate one pack file; raises :class:`PackError` naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(str(path), [f"not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise PackError(str(path), ["not UTF-8 text"]) from None
    return validate_pack(data, str(path))


def load_packs(extra_dir: str | Path | None = None) -> dict[str, Instrument]:
    """All packs by id: shipped first; a pack in ``extra_dir`` with the same id overrides.

    An organisation loads its licensed wording this way without touching code.
    """
    packs: dict[str, Instrument] = {}
    dirs = [SHIPPED] + ([Path(extra_dir)] if extra_dir else [])
    for directory in dirs:
        if not directory.is_dir():
            raise PackError(str(directory), ["instrument directory does not exist"])
        seen: dict[str, Path] = {}
        for path in sorted(directory.glob("*.toml")):
            pack = load_pack(path)
            if pack.id in seen:
                raise PackError(str(path), [f"id {pack.id!r} is also used by {seen[pack.id]}"])
            seen[pack.id] = path
            packs[pack.id] = pack
    return packs


_lock = threading.Lock()


def registry() -> dict[str, Instrument]:
    """The current app's packs, loaded on first use."""
    ext = current_app.extensions
    if "feedback.instruments" not in ext:
        with _lock:
            if "feedback.instruments" not in ext:
                ext["feedback.instruments"] = load_packs(
                    current_app.config.get("FEEDBACK_INSTRUMENTS_DIR") or None
                )
    return ext["feedback.instruments"]


def get_instrument(pack_id: str) -> Instrument:
    """The installed pack with this id; :class:`LookupError` if there is none."""
    try:
        return registry()[pack_id]
    except KeyError:
        raise LookupError(pack_id) from None
