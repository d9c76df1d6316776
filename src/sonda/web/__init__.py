"""The browser page of Sonda: plain static files (HTML, CSS, JavaScript modules).

There is no build step: the files under ``static/`` are what the browser loads, so the
gateway serves that folder at ``/`` as is. The page talks only to the same origin's
``/api/v1`` endpoints and loads nothing from the network.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["INDEX_FILE", "static_dir"]

INDEX_FILE = "index.html"
"""The page's entry document inside :func:`static_dir`."""


def static_dir() -> Path:
    """Return the absolute path of the folder holding the page's static files.

    Returns:
        The ``static`` folder shipped inside the ``sonda.web`` package; it contains
        ``index.html`` and the CSS and JavaScript it references.
    """
    return Path(__file__).resolve().parent / "static"
