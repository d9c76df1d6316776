"""Read models of the query service: tables, rows, and how they are created."""
