"""``sonda doctor``: configuration and server checks."""
