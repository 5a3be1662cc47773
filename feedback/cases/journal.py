"""The meeting's journal summary: plain sentences to paste into the case system.

"Barn (CORS): 24,3, op 6,1 siden første møde (pålidelig forbedring).
Samarbejde, barn (CSRS): 38,0." The numbers come from the case's series
(voided answers left out); the words are the staff's language or the one asked for.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from feedback import labels
from feedback.services.trajectories import CaseTrajectories, Trajectory


def _who(t: Trajectory) -> str:
    name = labels.role_label(t.role)
    return f"{name} {t.label}" if t.label else name


def _short(pack) -> str:
    return pack.id.upper()


def _change(t: Trajectory, upto: int) -> str:
    ratings = [r for r in t.ratings if r.meeting.number <= upto]
    first, latest = ratings[0], ratings[-1]
    if len(ratings) < 2 or not (first.psychometric and latest.psychometric):
        return ""
    delta = latest.total_tenths - first.total_tenths
    step = latest.instrument.reliable_change_tenths
    if delta == 0:
        return ", " + _("unchanged since the first meeting")
    size = labels.tenths(abs(delta))
    if delta > 0:
        text = _("up %(value)s since the first meeting", value=size)
    else:
        text = _("down %(value)s since the first meeting", value=size)
    if step is not None:
        if delta >= step:
            text += " (" + _("reliable improvement") + ")"
        elif delta <= -step:
            text += " (" + _("reliable deterioration") + ")"
        else:
            text += " (" + _("no reliable change") + ")"
    return ", " + text


def summary(data: CaseTrajectories, meeting_id, ruler: list[tuple[str, int]] = ()) -> str:
    """The summary of one meeting in the current language; empty when nothing was rated."""
    number = next((m.number for m in data.meetings if m.id == meeting_id), None)
    if number is None:
        return ""
    parts = []
    for t in data.family("outcome"):
        here = next((r for r in t.ratings if r.meeting.number == number), None)
        if here is not None:
            parts.append(_("%(who)s (%(pack)s): %(value)s%(change)s.", who=_who(t),
                           pack=_short(here.instrument), value=labels.tenths(here.total_tenths),
                           change=_change(t, number)))
    for t in data.family("session"):
        here = next((r for r in t.ratings if r.meeting.number == number), None)
        if here is not None:
            parts.append(_("Working together, %(who)s (%(pack)s): %(value)s.",
                           who=_who(t).lower(), pack=_short(here.instrument),
                           value=labels.tenths(here.total_tenths)))
    if ruler:
        parts.append(_("Child ruler: %(ratings)s.", ratings=", ".join(
            f"{who} {labels.tenths(value, 0)}" for who, value in ruler)))
    return " ".join(parts)


def summaries(data: CaseTrajectories, meeting_id, ruler_by_lang) -> dict[str, str]:
    """The summary in Danish and in English, whatever the page's language."""
    found = {}
    for lang in ("da", "en"):
        with force_locale(lang):
            found[lang] = summary(data, meeting_id, ruler_by_lang(lang))
    return found
