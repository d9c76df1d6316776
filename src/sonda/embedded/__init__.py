"""``sonda up``: the embedded deployment (NATS from its wheel, SQLite, local disk) and its supervisor."""
