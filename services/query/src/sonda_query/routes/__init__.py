"""HTTP routes of the query service."""
