"""The outcome report against a plain-Python reference written from the formulas.

Generated data: hundreds of cases with children of every age (so YCORS faces,
CORS and ORS versions and every cut-off band), the child, a parent and a
staff member rating, skipped questionnaires, voided answers, open and closed
cases. The reference works from the generator's own record of what it
wrote, never from the database or the report's code, and every figure must
agree to 1e-9 on both databases.
"""

from __future__ import annotations

import random
import statistics
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale

from feedback.extensions import db
from feedback.models import Case, Meeting, Participant, Response, ResponseVoid
from feedback.services import reports
from feedback.services.instruments import current, ensure_version
from tests import factories as f

CASES = 2000
CLOSED_BY = date(2025, 12, 31)
ROLES = ("child", "mother", "staff")


def _age(birth_year: int, birth_month: int | None, day: date) -> int:
    month = birth_month or 7
    return day.year - birth_year - (0 if (day.month, day.day) >= (month, 1) else 1)


def _pack_for(age: int) -> str:
    return "ycors" if age < 6 else "cors" if age <= 12 else "ors"


def _cutoff(pack: str, age: int) -> float | None:
    """Decision 9, written out: ORS 25 adult / 28 for 13–17 / 32 for 6–12; CORS 6–12: 32."""
    if pack == "ycors":
        return None
    if 6 <= age <= 12:
        return 32.0
    if 13 <= age <= 17:
        return 28.0
    return 25.0 if pack == "ors" and age >= 18 else None


def _half(day: date) -> tuple[date, date]:
    """Half-years from 1 April and 1 October."""
    if day.month >= 10:
        return date(day.year, 10, 1), date(day.year + 1, 3, 31)
    if day.month >= 4:
        return date(day.year, 4, 1), date(day.year, 9, 30)
    return date(day.year - 1, 10, 1), date(day.year, 3, 31)


def generate(w) -> list[dict]:
    """Write the world and return its record: one dict per case with every rating."""
    rng = random.Random(20261124)
    versions = {p: ensure_version(current(p)).id for p in ("ycors", "cors", "ors")}
    record = []
    for n in range(CASES):
        opened = date(2024, 1, 1) + timedelta(days=rng.randrange(700))
        closed = None if rng.random() < 0.3 else opened + timedelta(days=rng.randrange(30, 500))
        birth_year = opened.year - rng.randrange(3, 21)
        birth_month = rng.choice([None, *range(1, 13)])
        team = w.north if n % 2 else w.south
        case = Case(organisation_id=w.org.id, reference=f"REF-{n}", team_id=team.id,
                    responsible_id=w.anna.id, opened_on=opened, closed_on=closed,
                    child_birth_year=birth_year, child_birth_month=birth_month)
        db.session.add(case)
        db.session.flush()
        child = Participant(case_id=case.id, role="child")
        mother = Participant(case_id=case.id, role="mother")
        db.session.add_all([child, mother])
        db.session.flush()
        ratings = []
        day = opened
        for m in range(rng.randrange(0, 7)):
            day = day + timedelta(days=rng.randrange(7, 60))
            meeting = Meeting(case_id=case.id, held_on=day, type="follow_up", mode="in_person",
                              created_by_id=w.anna.id)
            db.session.add(meeting)
            db.session.flush()
            age = _age(birth_year, birth_month, day)
            for role, who in (("child", child), ("mother", mother), ("staff", None)):
                if rng.random() < 0.3:
                    continue
                pack = _pack_for(age) if role == "child" else ("cors" if 6 <= age <= 12
                                                              else "ors")
                if role == "child" and rng.random() < 0.1:
                    pack = "ors" if pack != "ors" else "cors"  # an overridden version
                skipped = rng.random() < 0.08
                total = None if skipped else rng.randrange(0, 401)
                response = Response(
                    submission_id=uuid.uuid4(), meeting_id=meeting.id,
                    participant_id=who.id if who else None,
                    staff_user_id=w.anna.id if who is None else None,
                    instrument_version_id=versions[pack],
                    subject="self" if role == "child" else "child", total_tenths=total,
                    locale="da",
                    submitted_at=datetime(day.year, day.month, day.day, 9, m, tzinfo=UTC))
                db.session.add(response)
                db.session.flush()
                voided = rng.random() < 0.03
                if voided:
                    db.session.add(ResponseVoid(response_id=response.id,
                                                voided_by_id=w.anna.id, reason="wrong person"))
                ratings.append({"role": role, "day": day, "pack": pack, "total": total,
                                "voided": voided, "age": age})
        record.append({"id": case.id, "opened": opened, "closed": closed, "ratings": ratings})
    db.session.commit()
    return record


def reference(record: list[dict]) -> tuple[dict, dict]:
    """Every figure of the outcome report, from the formulas, and the left-out counts."""
    cells: dict = defaultdict(list)
    cases_in: dict = defaultdict(set)
    left = defaultdict(int)
    for case in record:
        status = "closed" if case["closed"] and case["closed"] <= CLOSED_BY else "open"
        cohort = _half(case["opened"])
        cases_in[(status, cohort)].add(case["id"])
        for role in ROLES:
            mine = [r for r in case["ratings"] if r["role"] == role and not r["voided"]]
            left["skipped"] += sum(1 for r in mine if r["total"] is None)
            rated = [r for r in mine if r["total"] is not None]
            if not rated:
                continue
            scaled = [r for r in rated if r["pack"] != "ycors"]
            left["faces_ratings"] += len(rated) - len(scaled)
            left["open_episodes"] += status == "open"
            if len(scaled) == 1:
                left["one_rating"] += 1
            if not scaled:
                left["faces_only"] += 1
            episode = {"case": case["id"], "n": len(scaled)}
            if len(scaled) >= 2:
                first, last = scaled[0], scaled[-1]
                episode.update(first=first["total"] / 10, last=last["total"] / 10,
                               cut_first=_cutoff(first["pack"], first["age"]),
                               cut_last=_cutoff(last["pack"], last["age"]))
            cells[(status, cohort, role)].append(episode)
    figures = {}
    for (status, cohort, role), episodes in cells.items():
        rated = [e for e in episodes if e["n"] >= 2]
        changes = [e["last"] - e["first"] for e in rated]
        firsts = [e["first"] for e in rated]
        with_cut = [e for e in rated if e["cut_first"] is not None and e["cut_last"] is not None]
        mean_change = statistics.fmean(changes) if rated else None
        sd = statistics.stdev(firsts) if len(firsts) >= 2 else None
        figures[(status, f"{cohort[0]}–{cohort[1]}", role)] = (
            len(episodes), len(rated),
            statistics.fmean(firsts) if rated else None,
            statistics.fmean(e["last"] for e in rated) if rated else None,
            mean_change, mean_change / sd if sd else None,
            # Totals are exact tenths: compare the change in tenths, not in rounded floats.
            sum(round(c * 10) >= 50 for c in changes) / len(rated) if rated else None,
            sum(round(c * 10) <= -50 for c in changes) / len(rated) if rated else None,
            sum(e["first"] < e["cut_first"] and e["last"] >= e["cut_last"] for e in with_cut)
            / len(with_cut) if with_cut else None,
            len({e["case"] for e in episodes}) / len(cases_in[(status, cohort)]),
        )
    return figures, dict(left)


@pytest.fixture
def record(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_REPORT_MIN_CHILDREN", 0)
    w = f.world()
    return w, generate(w)


def test_every_outcome_figure_agrees_with_the_reference(record):
    w, data = record
    expected, left = reference(data)
    with force_locale("da"):
        made = reports.run(f.actor(w.ali), "outcome", {
            "cohort": "half", "anchor": "04-01", "closed_by": CLOSED_BY.isoformat(),
            "role": list(ROLES)})
    got = {}
    for table in made.tables:
        for row in table.rows:
            got[(table.key, row[0], row[1])] = row[2:]
    assert set(got) == set(expected)
    assert len(got) > 20  # cohorts × roles × open/closed: the data is not trivial
    for key, figures in expected.items():
        for name, mine, theirs in zip([c.key for c in made.tables[0].columns[2:]],
                                      got[key], figures, strict=True):
            if theirs is None:
                assert mine is None, (key, name)
            else:
                assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-9), (key, name)
    assert {i.key: i.count for i in made.left_out} == {
        "one_rating": left.get("one_rating", 0), "faces_only": left.get("faces_only", 0),
        "faces_ratings": left.get("faces_ratings", 0),
        "open_episodes": left.get("open_episodes", 0), "skipped": left.get("skipped", 0)}
