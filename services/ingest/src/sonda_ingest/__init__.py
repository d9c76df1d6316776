"""Sonda package."""
