"""Options of one profile: every guess the engine makes can be overridden here.

Options arrive from the outside (an ``AnalysisRequested`` event, a query string), so they are a
msgspec Struct decoded with :func:`parse_options`, which turns any problem into a typed
:class:`InvalidOptionsError` naming the field.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sonda_events.options import (
    AlertThresholds,
    AnalysisOptions,
    ColumnTypeName,
    FormatName,
    convert_options,
)

from sonda_analyzer.engine.errors import InvalidOptionsError

#: The engine's name for the shared options of an analysis.
ProfileOptions = AnalysisOptions

__all__ = ["AlertThresholds", "ColumnTypeName", "FormatName", "ProfileOptions", "parse_options"]


def parse_options(raw: ProfileOptions | dict[str, Any] | bytes | str | None) -> ProfileOptions:
    """Validate options from a dict (an event's ``options``) or JSON text.

    Raises:
        InvalidOptionsError: a field is unknown, has the wrong type or is out of range.
    """
    if isinstance(raw, ProfileOptions):
        return raw
    if raw is None:
        return ProfileOptions()
    try:
        if isinstance(raw, bytes | str):
            return msgspec.json.decode(raw, type=ProfileOptions)
        return convert_options(raw)
    except msgspec.ValidationError as exc:
        raise InvalidOptionsError(f"invalid analysis options: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidOptionsError(f"analysis options are not valid JSON: {exc}") from None
