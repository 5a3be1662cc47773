"""Reports blueprint."""
