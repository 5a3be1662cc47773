"""Command-line commands that are more than a few lines, one module each."""
