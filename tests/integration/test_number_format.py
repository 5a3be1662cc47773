"""Values and notes staff read are in their language: "24,5" in Danish, licence notes translated."""

import re

from tests import factories as f
from tests.conftest import TODAY, hidden_inputs

CORS = {"me": "5.5", "family": "6", "school": "7", "everything": "6"}


def _answer(app, token, values):
    phone = app.test_client()
    phone.get(f"/r/{token}")
    page = phone.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    assert phone.post(action, data={**hidden_inputs(page), **values}).status_code == 303


def test_the_graph_and_its_table_use_the_staff_languages_decimals(app, client, db):
    w = f.world()
    the_case = f.case(w.anna, w.north, birth_year=TODAY.year - 9)
    link = f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case), ["cors"])
    _answer(app, link.token, CORS)  # total 24.5; a 9-year-old's cut-off is 32
    f.login(client, w.anna)
    danish = client.get(f"/cases/{the_case.id}").get_data(as_text=True)
    assert 'class="num">24,5</td>' in danish
    assert "Skæringsværdi 32,0" in danish and "skæringsværdi 32,0" in danish
    # What people read has the decimal comma; only the graph's machine-readable
    # data attributes (read by its script and the tests) keep the point.
    shown = re.sub(r'data-[a-z]+="[^"]*"', "", danish)
    assert "24.5" not in shown and "32.0" not in shown
    client.post("/language", data={"locale": "en", "back": "/cases"})
    english = client.get(f"/cases/{the_case.id}").get_data(as_text=True)
    assert 'class="num">24.5</td>' in english and "ut-off 32.0" in english


def test_the_admin_page_names_packs_and_licences_in_the_staff_language(client, db):
    w = f.world()
    f.login(client, w.admin)
    danish = client.get("/admin/").get_data(as_text=True)
    assert "Kun strukturen: den licenserede ordlyd skal indlæses" in danish
    assert "Fri brug (skrevet til denne tjeneste)." in danish
    assert "<td>Børnelinealen</td>" in danish and "Structure only" not in danish
    assert "<td>child-ruler</td>" not in danish  # the id only as the file's id, marked as code
    client.post("/language", data={"locale": "en", "back": "/admin/"})
    english = client.get("/admin/").get_data(as_text=True)
    assert "Structure only: the licensed wording must be loaded" in english
    assert "<td>The child ruler</td>" in english
