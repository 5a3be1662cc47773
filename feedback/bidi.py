"""Isolating text people typed, so right-to-left characters stay inside it.

A case reference or a participant's label may hold right-to-left letters or
bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and the like). Shown
as is, they reorder the text around them: "Case 42" and the page's own words
could read backwards. Every piece of user text is shown isolated instead:
inside ``<bdi>`` in HTML, and between FIRST STRONG ISOLATE (U+2068) and POP
DIRECTIONAL ISOLATE (U+2069) where no markup is possible (the page title,
accessible names, messages). Its own direction still applies inside.
"""

from __future__ import annotations

from flask import Flask
from markupsafe import Markup

from feedback.labels import role_label

FSI = "\u2068"
PDI = "\u2069"


def isolate(text) -> str:
    """Plain text isolated with FSI … PDI (for ``<title>``, attributes and messages)."""
    return f"{FSI}{text}{PDI}"


def bdi(text) -> Markup:
    """HTML: ``text`` escaped inside ``<bdi>``."""
    return Markup("<bdi>{}</bdi>").format(text)


def participant_text(participant) -> str:
    """A participant as plain text: the role, and the label (isolated) in brackets."""
    name = role_label(participant.role)
    return f"{name} ({isolate(participant.label)})" if participant.label else name


def participant_html(participant) -> Markup:
    """A participant in HTML: the role, and the label in ``<bdi>`` in brackets."""
    name = role_label(participant.role)
    if participant.label:
        return Markup("{} (<bdi>{}</bdi>)").format(name, participant.label)
    return Markup("{}").format(name)


def register(app: Flask) -> None:
    """The ``bdi`` and ``isolate`` filters and ``participant_html`` for every template."""
    app.jinja_env.filters["bdi"] = bdi
    app.jinja_env.filters["isolate"] = isolate
    app.jinja_env.globals["participant_html"] = participant_html
