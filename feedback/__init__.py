"""Feedback in children's casework: questionnaires on a tablet, graphs, exports."""

from feedback.app import create_app

__all__ = ["create_app"]
