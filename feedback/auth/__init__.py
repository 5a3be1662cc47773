"""Auth blueprint."""
