"""The case page's graphs: every answer shown, the points as stored, a constant number of queries."""

import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import event, func, select

from feedback.cases import charts
from feedback.extensions import db as _db
from feedback.instruments.scoring import ItemAnswer
from feedback.models import (
    AuditEvent,
    ExpectedRange,
    InvitationToken,
    Meeting,
    Response,
    ResponseVoid,
)
from feedback.services import cases, expected, responses, trajectories
from feedback.services.actors import Actor
from feedback.services.invitations import hash_token
from tests import factories as f
from tests import graph_world
from tests.conftest import TODAY


def _answer(link, per_item: str):
    """Answer the invitation's next questionnaire with the same value on every item."""
    token = _db.session.scalar(select(InvitationToken).where(
        InvitationToken.token_hash == hash_token(link.token)))
    position = responses.next_position(token)
    _item, instrument = responses.bundle_item(token, position)
    responses.submit(Actor.respondent(token.invitation_id), token, position, str(uuid.uuid4()),
                     {i.key: ItemAnswer(int(float(per_item) * 10)) for i in instrument.items},
                     "da")


def test_each_respondent_has_a_line_and_the_cutoff_for_whom_it_is_about(app, db):
    w = f.world()
    the_case = f.case(w.anna, w.north, birth_year=TODAY.year - 10)  # a 9-year-old
    mother = cases.add_participant(f.actor(w.anna), the_case, "mother")
    meeting = f.meeting(w.anna, the_case)
    _answer(f.invite(w.anna, meeting, f.child_of(the_case), ["cors"]), "6")
    _answer(f.invite(w.anna, meeting, mother, ["ors"]), "5")  # about the child
    _answer(f.invite(w.anna, meeting, mother, ["srs"]), "9")  # another family: its own graph
    with app.test_request_context():
        drawn = charts.family_chart(trajectories.for_case(the_case))
    by_role = {s.role: s for s in drawn.series}
    assert set(by_role) == {"child", "mother"}  # never merged, session scale left out
    assert [p.value for p in by_role["child"].points] == [24.0]
    assert [p.value for p in by_role["mother"].points] == [20.0]
    # The mother rates her 9-year-old: the 6–12 cut-off, not the adult 25.
    assert by_role["mother"].cutoff_text == "32,0" == by_role["child"].cutoff_text
    assert [text for _y, text in drawn.cutoffs] == ["32,0"]


def _page(client, case) -> str:
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _figure(html: str, family: str) -> str:
    start = html.index(f'data-family="{family}"')
    return html[start:html.index("</figure>", start)]


def test_one_graph_per_family_with_answers_and_nothing_hidden(client, db):
    w = f.world()
    case = graph_world.history(w.anna, w.north)
    f.login(client, w.anna)
    html = _page(client, case)
    families = re.findall(r'<figure class="graph" id="[^"]+" data-family="([^"]+)"', html)
    assert families == ["outcome", "session", "meeting-experience", "ruler", "coordination"]
    # Every answer that was not voided is a row of a table alternative …
    kept = db.session.scalar(
        select(func.count()).select_from(Response).join(Meeting)
        .outerjoin(ResponseVoid).where(Meeting.case_id == case.id,
                                       ResponseVoid.response_id.is_(None)))
    assert html.count("<tr") - html.count("<thead><tr") == kept
    # … and the timeline lists every answer, the voided one marked, the skipped item said.
    assert html.count('class="voided-mark"') == 1
    assert "1 item skipped" in html or "1 spørgsmål sprunget over" in html
    # The caseworker's own ruler rating is a line of its own.
    assert 'data-role="staff"' in _figure(html, "ruler")


def test_points_carry_their_date_and_value_as_stored(client, db):
    w = f.world()
    case = graph_world.history(w.anna, w.north)
    f.login(client, w.anna)
    figure = _figure(_page(client, case), "outcome")
    drawn = sorted(re.findall(r'data-date="([0-9-]+)" data-value="([0-9.]+)"', figure))
    stored = sorted(
        (str(r.held_on), str(r.total_tenths / 10)) for r in db.session.execute(
            select(Meeting.held_on, Response.total_tenths).join(Meeting)
            .join(Response.instrument_version).outerjoin(ResponseVoid)
            .where(Meeting.case_id == case.id, ResponseVoid.response_id.is_(None),
                   Response.total_tenths.is_not(None)).filter_by(family="outcome")))
    # Mother and father at every meeting; the child at all but the 8th (an item skipped).
    assert drawn == stored and len(drawn) == 3 * 12 - 1
    assert figure.count('class="hollow"') == 1  # the YCORS at the first meeting


def _history_of(n: int, w, reference: str):
    return graph_world.history(w.anna, w.north, reference=reference, meetings=n)


def test_the_number_of_statements_does_not_grow_with_the_meetings(app, client, db):
    w = f.world()
    small, large = _history_of(4, w, "SAG-4"), _history_of(12, w, "SAG-12")
    f.login(client, w.anna)
    _page(client, large)  # the first view fills the per-process cache of definitions
    counts = []
    for case in (small, large, small):
        seen = []
        # The test's own read of an expired object is not the page's: read the id first.
        case = SimpleNamespace(id=case.id)

        def count(conn, cursor, statement, *args, seen=seen):
            seen.append(statement)

        event.listen(_db.engine, "before_cursor_execute", count)
        try:
            _page(client, case)
        finally:
            event.remove(_db.engine, "before_cursor_execute", count)
        counts.append(len(seen))
    assert counts[0] == counts[1] == counts[2], counts
    # The session with its user, the case with its team, tags and participants, the
    # audit row, the graph's rows, the expected ranges and the voided answers (15 on
    # both databases with this history; 21 before the case was read once).
    assert counts[0] <= 15, counts


def test_one_audit_row_per_view(client, db):
    w = f.world()
    case = _history_of(6, w, "SAG-6")
    f.login(client, w.anna)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    _page(client, case)
    after = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert after - before == 1


def test_expected_range_drawn_from_closed_episodes_and_explained_below_thirty(client, db):
    w = f.world()
    case = _history_of(6, w, "SAG-OPEN")
    f.login(client, w.anna)
    assert 'data-reason="not_computed"' in _page(client, case)
    # 29 closed cases with a child whose CORS starts at 20.0 and rises: too few.
    for n in range(29):
        closed = _history_of(6, w, f"SAG-C{n}")
        closed.closed_on = closed.meetings[-1].held_on + timedelta(days=1)
    db.session.commit()
    expected.compute(w.org.id)
    html = _page(client, case)
    assert 'class="expected"' not in html
    reason = re.search(r'data-reason="too_few">([^<]*)<', html)
    assert reason and " 29" in reason.group(1) and " 30 " in reason.group(1)
    # Closing one more case through the service recomputes the table.
    last = _history_of(6, w, "SAG-C29")
    cases.close_case(f.actor(w.anna), last, TODAY)
    html = _page(client, case)
    assert html.count('class="expected"') >= 1


def test_the_nightly_command_computes_the_ranges(app, db):
    w = f.world()
    for n in range(30):
        closed = _history_of(6, w, f"SAG-N{n}")
        closed.closed_on = closed.meetings[-1].held_on + timedelta(days=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["expected-range", "compute"])
    assert result.exit_code == 0, result.output
    assert "Testkommune: " in result.output
    stored = int(result.output.split("Testkommune: ")[1].split()[0])
    assert stored == db.session.scalar(select(func.count()).select_from(ExpectedRange)) > 0


def test_the_list_shows_latest_scores_signals_and_dates_and_filters(client, db):
    w = f.world()
    _history_of(12, w, "SAG-A")  # the father fell, the mother is not on track
    calm = _history_of(2, w, "SAG-B")  # two meetings: too early for a signal
    f.meeting(w.anna, calm, held_on=TODAY + timedelta(days=9))  # planned
    f.login(client, w.anna)
    html = client.get("/cases?sort=signals&show=all&status=open").get_data(as_text=True)
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert "SAG-A" in rows[0] and "SAG-B" in rows[1]  # signals first
    assert "31,6" in rows[0] and "22,4" in rows[0] and "17,6" in rows[0]
    assert rows[0].count('class="signal-chip"') >= 3
    assert 'class="signal-chip"' not in rows[1]
    days = (TODAY - graph_world.DATES[11]).days
    assert f'class="num">{days}</td>' in rows[0]
    assert "intet planlagt" in rows[0]  # Danish, the default
    assert (TODAY + timedelta(days=9)).strftime("%Y") in rows[1]
    only = client.get("/cases?show=signals&sort=reference&status=open").get_data(as_text=True)
    assert "SAG-A" in only and "SAG-B" not in only
    found = client.get("/cases?q=sag-b&sort=reference&show=all&status=open").get_data(
        as_text=True)
    assert "SAG-B" in found and "SAG-A" not in found
    # Nonsense in the address is ignored, never a 500.
    assert client.get("/cases?sort=zzz&show=x&q=" + "x" * 500).status_code == 200


def test_graphs_for_some_participants_up_to_a_meeting(app, db):
    """What the meeting page and the family view ask for: some people, up to a meeting."""
    w = f.world()
    case = graph_world.history(w.anna, w.north)
    child = f.child_of(case)
    sixth = sorted(case.meetings, key=lambda m: m.held_on)[5]
    with app.test_request_context():
        graphs = charts.graphs_for_case(case, participants=[child.id], until=sixth,
                                        families=["outcome", "ruler"])
    assert [g.family for g in graphs] == ["outcome", "ruler"]
    outcome = graphs[0]
    assert [s.role for s in outcome.series] == ["child"]
    assert max(p.held_on for p in outcome.series[0].points) == sixth.held_on
    # The caseworker's own ruler rating stays (staff lines are not a participant's).
    assert {s.role for s in graphs[1].series} == {"child", "staff"}
    with app.test_request_context():
        own = charts.graphs_for_case(case, participants=[child.id], families=["ruler"],
                                     include_staff=False)
    assert [s.role for s in own[0].series] == ["child"]


def test_the_first_versions_graph_still_draws_for_its_callers(db):
    """The meeting page's live results and the family view use the first ``Graph``."""
    w = f.world()
    case = graph_world.history(w.anna, w.north, meetings=3)
    old = charts.family_graph(trajectories.for_case(case, families=("outcome",)), "outcome")
    assert {s.role for s in old.series} == {"child", "mother", "father"}
    assert [len(s.points) for s in old.series] == [3, 3, 3] and not old.empty
    assert old.has_unscaled  # the YCORS at the first meeting
