"""Whose words a respondent reads, and whom the questions are about (decision 32). Pure."""

from __future__ import annotations

PARENTS = ("mother", "father", "other_carer")
#: Families that rate somebody's well-being; the subject decides whose.
WELL_BEING_FAMILIES = ("outcome", "ruler")
#: Families that rate the meeting or the help, whoever answers.
MEETING_FAMILIES = ("session", "meeting-experience")


def respondent_kind(role: str, subject: str) -> str | None:
    """The wording a respondent gets: ``child``, ``parent``, ``professional`` or the plain text.

    A child always reads the child's words. An adult rating the child reads
    the words for their relation to the child; an adult rating themself
    (subject = self) reads the plain text, which speaks to the reader.
    """
    if role == "child":
        return "child"
    if subject != "child":
        return None
    return "parent" if role in PARENTS else "professional"


def about(family: str, role: str, subject: str) -> str | None:
    """What the page says the questions are about, as a code; ``None`` to say nothing.

    ``you`` (a child, about themself), ``your_child`` (a parent about the
    child), ``the_child`` (anyone else about the child), ``yourself`` (an
    adult about themself), ``meeting`` (a scale about the meeting).
    """
    if family in MEETING_FAMILIES:
        return "meeting"
    if family not in WELL_BEING_FAMILIES:
        return None
    if role == "child":
        return "you"
    if subject == "self":
        return "yourself"
    return "your_child" if role in PARENTS else "the_child"
