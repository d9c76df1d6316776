"""Error messages reach the WebSocket, the logs and the CLI: they never quote a row of the file."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sonda_analyzer.engine.read_csv import _clean


def test_a_reader_error_loses_the_row_it_quoted() -> None:
    with pytest.raises(pa.ArrowInvalid) as caught:
        pacsv.read_csv(io.BytesIO(b"cpf,valor\n529.982.247-25,3\n111.444.777-35,3,4\n"))
    assert "111.444.777-35" in str(caught.value)  # what pyarrow says
    message = _clean(caught.value)
    assert "111.444.777-35" not in message and "Expected 2 columns, got 3" in message
