"""A compact, token-budgeted summary of an analysis for LLM agents."""
