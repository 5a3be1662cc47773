"""An administrator reads the audit log, makes a family's access export and sees what
retention will remove, in Chromium at desk (1024 px) and phone (390 px) width, with axe.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.e2e

SIZES = {"desk": (1024, 768), "phone": (390, 844)}
#: Set to a directory (docs/screenshots) to keep screenshots of the pages.
SHOTS = os.environ.get("FEEDBACK_E2E_SCREENSHOTS", "")


def _look(page, axe, name: str, full_page: bool = True) -> None:
    axe(page, name)
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name} scrolls sideways at {width} px ({scroll})"
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name.replace(' ', '-')}-{width}.png", full_page=full_page)


@pytest.mark.parametrize("size", SIZES)
def test_the_administrator_reads_filters_and_exports_the_log(server, tablet, axe, size):
    width, height = SIZES[size]
    # A caseworker looks at a case: that read is in the log the administrator reads.
    staff = tablet(viewport={"width": width, "height": height}).new_page()
    flows.log_in(staff, "anna")
    staff.goto("/cases")
    first = staff.locator("main table a").first
    reference = first.inner_text().strip()
    first.click()
    staff.wait_for_url("**/cases/*")

    admin = tablet(viewport={"width": width, "height": height},
                   is_mobile=width < 768).new_page()
    flows.log_in(admin, "admin")
    admin.goto("/admin/audit")
    expect(admin.locator("h1")).to_have_text("Log over adgang")
    expect(admin.locator(".audit-events li").first).to_be_visible()
    _look(admin, axe, "audit log")

    admin.select_option("#action", "case.view")
    admin.fill("#case", reference)
    admin.locator("form.audit-filter button.primary").click()
    expect(admin.locator(".audit-events li").first).to_contain_text("case.view")
    expect(admin.locator(".audit-events li").first).to_contain_text("anna")
    _look(admin, axe, "audit log filtered")

    with admin.expect_download() as download:
        admin.locator("section[aria-labelledby=download-title] button").click()
    path = download.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"case.view;" in data

    admin.goto("/admin/access")
    admin.fill("#reference", reference)
    admin.locator("main form button.primary").click()
    expect(admin.locator("#case-title")).to_contain_text(reference)
    expect(admin.locator("section[aria-labelledby=accesses-title]")).to_contain_text(
        "case.view")
    _look(admin, axe, "access export", full_page=False)  # years of answers: the top only

    admin.goto("/admin/retention")
    expect(admin.locator("h1")).to_contain_text("Sletning")
    _look(admin, axe, "retention")
