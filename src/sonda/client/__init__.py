"""A Python client of the one origin, used by ``sonda analyze``."""
