"""What people type has bounds: date windows, one length per text, isolated display.

And when the database fails in the middle of a request, the error page still renders.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import String, select, text

from feedback.cases import forms as case_forms
from feedback.models import (
    Case,
    CaseTag,
    Meeting,
    Organisation,
    Participant,
    ResponseVoid,
    Team,
    User,
)
from feedback.services import accounts, cases, invitations
from feedback.services.errors import Invalid
from tests import factories as f
from tests.conftest import TODAY

RLO, PDF = "\u202e", "\u202c"  # RIGHT-TO-LEFT OVERRIDE … POP DIRECTIONAL FORMATTING
FSI, PDI = "\u2068", "\u2069"


def _refused(code: str, field: str, call, *args, **kwargs) -> Invalid:
    with pytest.raises(Invalid) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code and caught.value.details["field"] == field
    return caught.value


# --- dates ------------------------------------------------------------------------

def test_meeting_dates_lie_within_the_case_and_at_most_a_year_ahead(db):
    w = f.world()
    case = f.case(w.anna, w.north, opened=date(2026, 1, 5))
    actor = f.actor(w.anna)
    for far in (date(9999, 12, 31), date(2999, 1, 1), TODAY.replace(year=TODAY.year + 1)
                + timedelta(days=1), date(2026, 1, 4)):
        _refused("meeting_date_range", "held_on", cases.create_meeting, actor, case,
                 held_on=far, type="follow_up", mode="in_person")
    for fine in (date(2026, 1, 5), TODAY, TODAY.replace(year=TODAY.year + 1)):
        assert cases.create_meeting(actor, case, held_on=fine, type="follow_up",
                                    mode="in_person").held_on == fine


def test_a_closed_case_bounds_its_meetings_by_its_closing_date(db):
    w = f.world()
    case = f.case(w.anna, w.north, opened=date(2026, 1, 5))
    f.meeting(w.anna, case, held_on=date(2026, 2, 1))
    cases.close_case(f.actor(w.anna), case, date(2026, 3, 1))
    assert cases.meeting_window(case, TODAY) == (date(2026, 1, 5), date(2026, 3, 1))
    _refused("case_closed", "held_on", cases.create_meeting, f.actor(w.anna), case,
             held_on=date(2026, 2, 15), type="follow_up", mode="in_person")


def test_birth_years_are_within_childhood_of_the_opening_year(db):
    w = f.world()
    opened = date(2026, 1, 5)
    for year in (2007, 2028, 1900, 9999):
        _refused("birth_year_range", "child_birth_year", f.case, w.anna, w.north,
                 reference=f"Y{year}", birth_year=year, opened=opened)
    for year in (2008, 2027):
        assert f.case(w.anna, w.north, reference=f"Y{year}", birth_year=year,
                      opened=opened).child_birth_year == year


def test_the_opened_date_is_not_in_the_future_nor_absurdly_old(db):
    w = f.world()
    for opened in (TODAY + timedelta(days=1), date(1990, 1, 1), date(9999, 1, 1)):
        _refused("opened_range", "opened_on", f.case, w.anna, w.north,
                 reference=f"O{opened}", birth_year=2012 if opened.year > 2000 else 1985,
                 opened=opened)
    assert f.case(w.anna, w.north, reference="TODAY", opened=TODAY).opened_on == TODAY


def test_out_of_window_dates_are_refused_with_a_message_next_to_the_field(client, db):
    w = f.world()
    case = f.case(w.anna, w.north)
    f.login(client, w.anna)
    page = client.post(f"/cases/{case.id}/meetings", data={
        "held_on": "9999-12-31", "type": "follow_up", "mode": "in_person"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert re.search(r'id="held_on-error">Mødets dato skal ligge mellem', html)
    assert db.session.scalar(select(Meeting).where(Meeting.case_id == case.id)) is None
    # The date picker offers only the dates the service accepts.
    assert 'min="2026-01-05"' in html and f'max="{TODAY.year + 1}-03-11"' in html


def test_a_meeting_stored_outside_the_window_gets_no_links_and_no_500(client, db):
    """Rows from before the windows existed (year 9999) are refused politely."""
    w = f.world()
    case = f.case(w.anna, w.north)
    meeting = Meeting(case_id=case.id, held_on=date(9999, 12, 31), type="follow_up",
                      mode="in_person", created_by_id=w.anna.id)
    db.session.add(meeting)
    db.session.commit()
    f.login(client, w.anna)
    page = client.get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'action="/meetings/{meeting.id}/invitations"' not in html
    assert "uden for sagens forløb" in html
    response = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(f.child_of(case).id)], "instruments": ["outcome"]})
    assert response.status_code == 422
    with pytest.raises(Invalid, match="meeting_outside_case"):
        f.invite(w.anna, meeting, f.child_of(case))


# --- lengths ----------------------------------------------------------------------

#: (model, column, the limit's name on the model)
LIMITS = [
    (Team, "name", "NAME_MAX"), (Organisation, "name", "NAME_MAX"),
    (User, "username", "USERNAME_MAX"), (User, "display_name", "DISPLAY_NAME_MAX"),
    (Case, "reference", "REFERENCE_MAX"), (CaseTag, "name", "NAME_MAX"),
    (Participant, "label", "LABEL_MAX"), (ResponseVoid, "reason", "REASON_MAX"),
]


@pytest.mark.parametrize(("model", "column", "limit"), LIMITS,
                         ids=[f"{m.__name__}.{c}" for m, c, _ in LIMITS])
def test_each_text_has_one_limit_in_the_model_and_the_column(model, column, limit):
    col = model.__table__.c[column]
    assert isinstance(col.type, String) and col.type.length == getattr(model, limit)


def test_forms_use_the_columns_limits():
    def max_length(form_field):
        from wtforms.validators import Length

        return next(v.max for v in form_field.kwargs["validators"] if isinstance(v, Length))

    assert max_length(case_forms.CaseForm.reference) == Case.REFERENCE_MAX
    assert max_length(case_forms.ParticipantForm.label) == Participant.LABEL_MAX
    assert max_length(case_forms.VoidForm.reason) == ResponseVoid.REASON_MAX


def test_a_10000_character_team_name_is_refused_on_every_database(db):
    org = accounts.get_or_create_organisation("Testkommune")
    _refused("too_long", "name", accounts.create_team, org, "T" * 10_000)
    assert accounts.create_team(org, "T" * Team.NAME_MAX).name == "T" * Team.NAME_MAX
    with pytest.raises(Invalid, match="too_long"):
        accounts.create_user(org, "u" * 201, "a long enough password", "U", "caseworker")


@pytest.mark.parametrize(("field", "value", "code"), [
    ("reference", "R" * 101, "too_long"),
    ("reference", "SAG\r\n1", "control_characters"),
    ("reference", "SAG\x001", "control_characters"),
    ("reference", "   ", "required"),
    ("tags", ["t" * 101], "too_long"),
    ("tags", [f"tag{n}" for n in range(21)], "too_many_tags"),
])
def test_case_text_is_refused_by_the_service_too(db, field, value, code):
    """The service does not trust the form: the same limits, for every caller."""
    w = f.world()
    kwargs = {"reference": "SAG-1", "tags": []}
    kwargs[field] = value
    _refused(code, field, f.case, w.anna, w.north, **kwargs)
    assert db.session.scalar(select(Case)) is None


def test_a_participant_label_of_41_characters_is_refused(db):
    w = f.world()
    case = f.case(w.anna, w.north)
    _refused("too_long", "label", cases.add_participant, f.actor(w.anna), case, "mother",
             "L" * 41)
    assert cases.add_participant(f.actor(w.anna), case, "mother", "L" * 40).label == "L" * 40


# --- right-to-left text -----------------------------------------------------------

def test_bidirectional_controls_in_user_text_stay_isolated_where_shown(client, db):
    w = f.world()
    reference = f"{RLO}SAG-42{PDF}"
    team_name = f"{RLO}Nord"
    label = f"{RLO}Søs"
    team = db.session.get(Team, w.north.id)
    team.name = team_name
    db.session.commit()
    case = f.case(w.anna, team, reference=reference, tags=[f"{RLO}pilot"])
    cases.add_participant(f.actor(w.anna), case, "mother", label)
    meeting = f.meeting(w.anna, case)
    f.login(client, w.anna)

    listing = client.get("/cases").get_data(as_text=True)
    assert f"<bdi>{reference}</bdi>" in listing and f"<bdi>{team_name}</bdi>" in listing
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert f"{FSI}{reference}{PDI}" in title  # plain text: isolated by FSI … PDI
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert f"<bdi>{reference}</bdi>" in h1
    assert f"<bdi>{team_name}</bdi>" in page and f"<bdi>{RLO}pilot</bdi>" in page
    assert f"(<bdi>{label}</bdi>)" in page

    meeting_page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f"{FSI}{reference}{PDI}" in re.search(r"<title>(.*?)</title>", meeting_page,
                                                 re.S).group(1)
    assert f"<bdi>{reference}</bdi>" in meeting_page
    assert f"(<bdi>{label}</bdi>)" in meeting_page  # the "who answers" checkbox
    # Nowhere is the typed text shown without its isolation.
    for html in (listing, page, meeting_page):
        bare = html.replace(f"<bdi>{reference}</bdi>", "").replace(f"{FSI}{reference}{PDI}", "")
        bare = re.sub(r'value="[^"]*"', "", bare)  # the form's own input keeps it as typed
        assert reference not in bare


# --- database failures ------------------------------------------------------------

def test_the_error_page_renders_after_a_database_error(app, client, db, monkeypatch):
    """On PostgreSQL the failed statement aborts the transaction; the page must not use it."""
    w = f.world()
    f.login(client, w.anna)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def broken(actor):
        db.session.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(cases, "list_cases", broken)
    response = client.get("/cases")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Noget gik galt" in page and "<h1>" in page
    assert client.get("/cases/new").status_code == 200  # the next request is fine


def test_invite_refuses_a_closed_case(db):
    w = f.world()
    case = f.case(w.anna, w.north)
    meeting = f.meeting(w.anna, case, held_on=TODAY)
    cases.close_case(f.actor(w.anna), case, TODAY)
    with pytest.raises(Invalid, match="case_closed"):
        invitations.invite(f.actor(w.anna), meeting, f.child_of(case), ["ors"])
