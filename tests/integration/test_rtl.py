"""A new language, right-to-left included, is a matter of adding its catalogue."""

import re
import shutil
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from feedback.config import TRANSLATIONS
from tests import factories as f
from tests.conftest import migrated_app


def _arabic_catalogue(root: Path) -> None:
    target = root / "ar" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", target / "messages.po")
    po = (target / "messages.po").read_text(encoding="utf-8")
    po = po.replace('msgid "Send"\nmsgstr ""', 'msgid "Send"\nmsgstr "إرسال"')
    po = re.sub(r'"Language: en\\n"', r'"Language: ar\\n"', po)
    (target / "messages.po").write_text(po, encoding="utf-8")
    CommandLineInterface().run(["pybabel", "compile", "-d", str(root), "-l", "ar"])


def test_arabic_is_offered_and_laid_out_right_to_left(tmp_path, tmp_path_factory):
    _arabic_catalogue(tmp_path / "extra")
    dirs = f"{TRANSLATIONS};{tmp_path / 'extra'}"
    with migrated_app("sqlite", tmp_path_factory, BABEL_TRANSLATION_DIRECTORIES=dirs) as app:
        assert app.config["FEEDBACK_LOCALES"] == ("da", "en", "ar")
        with app.app_context():
            w = f.world()
            the_case = f.case(w.anna, w.north)
            link = f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case))
        client = app.test_client()
        client.get(f"/r/{link.token}")
        danish = client.get("/r/").get_data(as_text=True)
        assert 'value="ar" lang="ar"' in danish and "العربية" in danish
        client.post("/r/language", data={"locale": "ar"})
        arabic = client.get("/r/").get_data(as_text=True)
        assert '<html lang="ar" dir="rtl">' in arabic
        assert "إرسال" in arabic  # translated
        assert "Skip this question" in arabic  # untranslated strings fall back to English
        # Questionnaire texts without Arabic fall back to English, then Danish.
        assert "How have things been over the last week?" in arabic
