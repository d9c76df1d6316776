"""The subcommands of ``sonda``."""
