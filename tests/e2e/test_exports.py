"""The analyst's export page and the administrator's import page, in Chromium, with axe."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile

from playwright.sync_api import expect

from feedback.services.exports.rows import LONG_COLUMNS
from tests.conftest import TODAY
from tests.e2e import flows


def _download(page, click) -> tuple[str, bytes]:
    with page.expect_download() as info:
        click()
    download = info.value
    with open(download.path(), "rb") as fh:
        return download.suggested_filename, fh.read()


def test_an_analyst_chooses_filters_and_a_dialect_and_downloads_a_zip(server, tablet, axe):
    page = tablet().new_page()
    flows.log_in(page, "analytiker")
    page.goto("/reports/")
    axe(page, "export page")
    form = page.locator("form.export-form")
    form.locator("input[name=kind][value=zip]").check()
    form.locator("input[name=dialect][value=excel-da]").check()
    form.locator("input[name=team][value='Team Nord']").check()
    form.locator("input[name=family][value=outcome]").check()
    form.locator("#meeting_from").fill((TODAY.replace(year=TODAY.year - 1)).isoformat())
    name, data = _download(page, lambda: form.locator("button.primary").click())
    assert name.startswith("feedback-export-") and name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        long_csv = archive.read("long.csv")
        codebook = json.loads(archive.read("codebook.json"))
    assert {"long.csv", "wide-outcome.csv", "invitations.csv", "codebook.json",
            "codebook.html"} <= names
    assert long_csv.startswith(b"\xef\xbb\xbf")  # Danish Excel: byte-order mark, semicolons
    rows = list(csv.DictReader(io.StringIO(long_csv.decode("utf-8-sig")), delimiter=";"))
    assert rows, "the demo has outcome ratings in Team Nord within the last year"
    assert list(rows[0]) == list(LONG_COLUMNS)
    assert {r["team"] for r in rows} == {"Team Nord"}
    assert {r["family"] for r in rows} == {"outcome"}
    assert all("," in r["value"] or r["value"] == "" for r in rows)  # decimal comma
    assert codebook["parameters"]["filters"]["teams"] == ["Team Nord"]
    assert codebook["files"][0] == {"name": "long.csv", "kind": "long", "rows": len(rows)}

    # The same choices as a readable codebook.
    form.locator("button[formaction$='/reports/codebook']").click()
    expect(page.locator("h1")).to_have_text("Kodebog")
    expect(page.locator("table.codebook").first).to_be_visible()
    axe(page, "codebook page")


def test_a_wrong_period_is_explained_on_the_page(server, tablet, axe):
    page = tablet().new_page()
    flows.log_in(page, "analytiker")
    page.goto("/reports/")
    form = page.locator("form.export-form")
    form.locator("#meeting_from").fill("2026-02-01")
    form.locator("#meeting_to").fill("2026-01-01")
    form.locator("button.primary").click()
    alert = page.locator(".error-summary[role=alert]")
    expect(alert).to_be_visible()
    expect(page.locator("#meeting_to")).to_have_value("2026-01-01")  # the choices are kept
    axe(page, "export page with an error")


def _long_file(source_ids: str) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(LONG_COLUMNS)
    values = {"individually": "5,5", "interpersonally": "6,0", "socially": "7,5",
              "overall": "8,1"}
    for item, value in values.items():
        writer.writerow([f"r-{source_ids}", f"c-{source_ids}", f"p-{source_ids}", "child",
                         "self", "Team Nord", "open", "2024-01-08", "", "2012", "11",
                         f"m-{source_ids}", "2024-02-05", "first", "ors", "1.0", "outcome",
                         item, value, "", "2024-02-05T09:30:00Z", "da"])
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def test_an_administrator_imports_a_file_once_and_rolls_it_back(server, tablet, axe):
    page = tablet().new_page()
    flows.log_in(page, "admin")
    page.locator("nav a[href$='/reports/import']").click()
    expect(page.locator("h1")).to_be_visible()
    axe(page, "import page")
    source = f"e2e-{uuid.uuid4().hex[:8]}"
    data = _long_file(source)

    def upload(content: bytes, mode: str = "all_or_nothing"):
        page.goto("/reports/import")
        page.set_input_files("#file", {"name": "svar.csv", "mimeType": "text/csv",
                                       "buffer": content})
        page.fill("#source", source)
        page.locator(f"input[name=mode][value={mode}]").check()
        page.locator("main form button.primary").click()
        expect(page.locator("p.status")).to_be_visible()

    upload(data)
    expect(page.locator("p.status")).to_have_class("status status-completed")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("4")
    axe(page, "import result")
    name, report = _download(page, lambda: page.locator("a[href$='/report.csv']").click())
    assert report.decode("utf-8-sig").count("accepted") == 4

    upload(data)  # the same file again adds nothing
    expect(page.locator("p.status")).to_have_class("status status-completed")
    expect(page.locator("dl.facts dd").nth(4)).to_have_text("4")  # already imported

    bad = data.decode("utf-8-sig").replace("Team Nord", "Team Sønder").encode("cp1252")
    upload(bad)
    expect(page.locator("p.status")).to_have_class("status status-refused")
    expect(page.locator("p.status")).to_contain_text("UTF-8")
    axe(page, "refused import")

    page.goto("/reports/import")
    page.locator("table.list a").nth(2).click()  # the first import, oldest of the three
    page.locator("form[action$='/rollback'] button").click()
    expect(page.locator("p.status")).to_have_class("status status-rolled_back")
