"""Decode a stored result for a comparison: only the parts it reads (the sample, correlations
and alerts of a wide table are most of its bytes, and skipping them halves the decode)."""

from __future__ import annotations

from typing import Any

import msgspec


class _Stored(msgspec.Struct):
    dataset: dict[str, Any] = msgspec.field(default_factory=dict)
    columns: list[dict[str, Any]] = msgspec.field(default_factory=list)
    approximations: list[dict[str, Any]] = msgspec.field(default_factory=list)


_decoder = msgspec.json.Decoder(_Stored)


def decode_for_comparison(data: bytes) -> dict[str, Any]:
    """The result's ``dataset``, ``columns`` and ``approximations``; a result of another shape
    (an object from another system) is decoded whole and compared as far as it goes.

    Raises:
        msgspec.DecodeError: ``data`` is not JSON at all.
    """
    try:
        stored = _decoder.decode(data)
    except msgspec.ValidationError:
        loose = msgspec.json.decode(data)
        return loose if isinstance(loose, dict) else {}
    return {"dataset": stored.dataset, "columns": stored.columns, "approximations": stored.approximations}
