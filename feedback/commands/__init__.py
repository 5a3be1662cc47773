"""Command-line tools for analysts and administrators: ``flask export`` and ``flask import``."""
