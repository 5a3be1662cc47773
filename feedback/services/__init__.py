"""Use cases: plain arguments in, models or domain errors out. The only code that commits."""
