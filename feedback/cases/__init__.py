"""Cases blueprint."""
