"""Domain errors that views translate into pages and status codes."""


class DomainError(Exception):
    """Base class; ``code`` is a stable identifier views map to a message."""

    code = "error"

    def __init__(self, code: str | None = None, **details):
        self.code = code or self.code
        self.details = details
        super().__init__(self.code)


class NotFound(DomainError):
    """Missing, or not the user's to see: the two are indistinguishable on purpose."""

    code = "not_found"


class Forbidden(DomainError):
    """An area (a page or command, not one object) the actor's role may not use."""

    code = "forbidden"


class Invalid(DomainError):
    """Input that breaks a rule; ``details`` name the field."""

    code = "invalid"


class LinkUnusable(DomainError):
    """A link or code that is unknown, expired, revoked or used up (never says which)."""

    code = "link_unusable"


class SubmissionConflict(DomainError):
    """The same submission id arrived again with different answers."""

    code = "submission_conflict"


class AlreadyAnswered(DomainError):
    """This questionnaire in the invitation was answered by another submission."""

    code = "already_answered"


class Throttled(DomainError):
    """Too many failures from one address (or in total) in a short time."""

    code = "throttled"


class Unavailable(DomainError):
    """The database could not store this now (locked, full, unreachable); nothing was stored.

    The respondent keeps the answers on the device and sends them again.
    """

    code = "unavailable"
