"""Instrument packs: questionnaires as versioned data files."""
