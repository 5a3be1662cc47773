"""Rules on ratings: cut-offs by whom a rating is about (pure: no app, no database).

Signals (reliable change, not on track, session alerts, expected ranges) join
these rules as the meeting graph grows; each is a plain function of numbers
and instrument definitions, tested without a database.
"""

from __future__ import annotations

from feedback.instruments.schema import Instrument


def about_child(subject: str, role: str) -> bool:
    """Whether a rating is about the child: the child's own, or anyone's about the child."""
    return subject == "child" or role == "child"


def cutoff_tenths(instrument: Instrument, *, subject: str, role: str,
                  child_age: int) -> int | None:
    """The cut-off that applies to one rating, in tenths (decisions 8 and 9).

    The cut-off follows the subject: the child (rated by anyone, or rating
    themself) by the child's age at the meeting; an adult rating themself by
    the adult norm. Faces versions have none.
    """
    age = child_age if about_child(subject, role) else None
    return instrument.cutoff_for(age)
