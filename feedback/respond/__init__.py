"""Respond blueprint."""
