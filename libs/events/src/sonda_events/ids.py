"""Analysis ids from the outside (a URL path, a WebSocket path): one parser, so every service
refuses the same ids the same way (``invalid_analysis_id``)."""

from __future__ import annotations

import re
import uuid

from sonda_events.errors import InvalidAnalysisIdError

#: The form Sonda issues (8-4-4-4-12 ASCII hex). ``uuid.UUID`` alone would also take braces,
#: ``urn:uuid:``, no hyphens, surrounding blanks, underscores and non-ASCII digits (``١``).
_CANONICAL = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_analysis_id(value: str) -> uuid.UUID:
    """The UUID ``value`` spells.

    Raises:
        InvalidAnalysisIdError: ``value`` is not a UUID in the 8-4-4-4-12 hex form.
    """
    if not _CANONICAL.fullmatch(value):
        raise InvalidAnalysisIdError(f"{value[:64]!r} is not a valid analysis id (a UUID)")
    return uuid.UUID(value)
