"""Projections: folding events from the store into read models, live and by rebuild."""
