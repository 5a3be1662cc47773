import pytest

from feedback.services import reports
from tests import factories as f
from tests.integration import export_world


@pytest.fixture
def world(db):
    return export_world.build()


@pytest.mark.parametrize("name", list(reports.REPORTS))
def test_every_report_page_and_csv(client, world, name):
    f.login(client, world.analyst)
    extra = {"waves": "a=2025-01-01..2025-06-30\nb=2025-07-01..2025-12-31"} if name == "likert" else {}
    page = client.get(f"/reports/report/{name}", query_string=extra)
    assert page.status_code == 200, page.get_data(as_text=True)[-3000:]
    csv = client.get(f"/reports/report/{name}.csv", query_string={"dialect": "excel-da", **extra})
    assert csv.status_code == 200
    print(csv.get_data(as_text=True))
