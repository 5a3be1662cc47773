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


def scan_packs(extra_dir: str | Path | None = None) -> tuple[dict[str, Instrument],
                                                              list[PackError]]:
    """Every pack that loads, by id, and every problem found, without stopping at the first.

    Shipped packs first; a pack in ``extra_dir`` with the same id overrides.
    """
    packs: dict[str, Instrument] = {}
    problems: list[PackError] = []
    dirs = [SHIPPED] + ([Path(extra_dir)] if extra_dir else [])
    for directory in dirs:
        if not directory.is_dir():
            problems.append(PackError(str(directory), ["instrument directory does not exist"]))
            continue
        seen: dict[str, Path] = {}
        for path in sorted(directory.glob("*.toml")):
            try:
                pack = load_pack(path)
            except PackError as error:
                problems.append(error)
                continue
            if pack.id in seen:
                problems.append(PackError(
                    str(path), [f"id {pack.id!r} is also used by {seen[pack.id]}"]))
                continue
            seen[pack.id] = path
            packs[pack.id] = pack
    return packs, problems


def load_packs(extra_dir: str | Path | None = None) -> dict[str, Instrument]:
    """All packs by id: shipped first; a pack in ``extra_dir`` with the same id overrides.

    An organisation loads its licensed wording this way without touching code.
    Raises the first :class:`PackError` if any pack is broken: a half-loaded
    set of packs is never used.
    """
    packs, problems = scan_packs(extra_dir)
    if problems:
        raise problems[0]
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
