"""The catalogue is current and Danish is complete."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "feedback" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalog(path):
    with open(path, "rb") as fh:
        return read_po(fh)


def test_catalogue_is_current(tmp_path):
    """Every string in the code is in messages.pot (run `make messages` if this fails)."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2", "--no-location", "-o", str(fresh), "feedback"],
        cwd=ROOT, check=True, capture_output=True,
    )
    wanted = {m.id for m in _catalog(fresh) if m.id}
    committed = {m.id for m in _catalog(TRANSLATIONS / "messages.pot") if m.id}
    assert wanted - committed == set(), "strings missing from messages.pot: run `make messages`"
    assert committed - wanted == set(), "stale strings in messages.pot: run `make messages`"


def _forms(value) -> tuple[str, ...]:
    """A message's id or string as a tuple: plural entries have several forms."""
    return (value,) if isinstance(value, str) else tuple(value)


def test_every_string_has_a_danish_translation_with_the_same_placeholders():
    pot = {m.id for m in _catalog(TRANSLATIONS / "messages.pot") if m.id}
    da = {m.id: m for m in _catalog(TRANSLATIONS / "da" / "LC_MESSAGES" / "messages.po") if m.id}
    missing = [msgid for msgid in pot
               if msgid not in da or not all(_forms(da[msgid].string))]
    assert missing == [], f"untranslated in Danish: {missing[:10]}"
    for msgid, message in da.items():
        assert not message.fuzzy, f"fuzzy Danish translation: {msgid!r}"
        wanted = set(PLACEHOLDER.findall(" ".join(_forms(msgid))))
        for form in _forms(message.string):
            assert set(PLACEHOLDER.findall(form)) == wanted, msgid


def test_english_catalogue_covers_every_string():
    pot = {m.id for m in _catalog(TRANSLATIONS / "messages.pot") if m.id}
    en = {m.id for m in _catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po") if m.id}
    # English is the source language: an empty msgstr shows the msgid itself.
    assert pot <= en
