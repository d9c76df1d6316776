"""Analysis options, checked at the door with the contract's ``AnalysisOptions``.

A bad option is refused with a 422 before anything is published, instead of failing the analysis
later; the analyzer decodes the very same Struct from the event.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sonda_events.options import AnalysisOptions, convert_options

from sonda_ingest.errors import InvalidOptionsError

__all__ = ["AnalysisOptions", "validate_options"]


def validate_options(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Check options and return the ones the client set, in canonical form, for the event.

    Raises:
        InvalidOptionsError: an unknown option, a wrong type or a value out of range.
    """
    if not raw:
        return {}
    try:
        options = convert_options(raw)
    except msgspec.ValidationError as exc:
        raise InvalidOptionsError(f"invalid analysis options: {exc}") from None
    canonical: dict[str, Any] = msgspec.to_builtins(options)
    return {name: canonical[name] for name in raw}
