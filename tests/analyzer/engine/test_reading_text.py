"""Delimited text: sniffing, encodings, the Brazilian CSV, and every option overriding a guess."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import profile_file

from tests.analyzer.engine.conftest import column


def br_number(value: float) -> str:
    """1234.5 → "1.234,50" (Brazilian notation), written independently of the engine."""
    whole, frac = f"{abs(value):,.2f}".split(".")
    return ("-" if value < 0 else "") + whole.replace(",", ".") + "," + frac


def test_brazilian_csv_in_latin1(write_text: Callable[..., Path]) -> None:
    rng = np.random.default_rng(8)
    n = 300
    prices = np.round(rng.uniform(-5000, 250000, n), 2)
    qty = rng.integers(500, 90000, n)
    cities = rng.choice(["São Paulo", "Maceió", "Goiânia", "Jundiaí"], n)
    dates = [f"{d % 28 + 1:02d}/{d % 12 + 1:02d}/2023" for d in range(n)]
    lines = ["Município;Preço;Quantidade;Data"]
    lines += [
        f"{c};{br_number(p)};{f'{q:,}'.replace(',', '.')};{d}"
        for c, p, q, d in zip(cities, prices, qty, dates, strict=True)
    ]
    path = write_text("vendas.csv", "\r\n".join(lines) + "\r\n", encoding="latin-1")
    result = profile_file(path)
    ds = result.dataset
    assert ds.delimiter == ";" and ds.decimal == ","
    assert ds.encoding in ("latin-1", "cp1252")
    assert [c.name for c in result.columns] == ["Município", "Preço", "Quantidade", "Data"]
    price = column(result, "Preço")
    assert price.type == "numeric"
    assert price.stats.mean == pytest.approx(prices.mean())
    assert price.stats.min == pytest.approx(prices.min()) and price.stats.negatives == (prices < 0).sum()
    quantity = column(result, "Quantidade")
    assert quantity.type == "numeric" and quantity.stats.sum == pytest.approx(qty.sum())
    city = column(result, "Município")
    assert {v.value for v in city.top_values} == set(cities)
    # Day-first dates are read as dates (the day never passes 12 here: the locale decides).
    data = column(result, "Data")
    assert data.type == "datetime" and data.parsing.format == "%d/%m/%Y"
    parsed = pd.to_datetime(pd.Series(dates), format="%d/%m/%Y")
    assert pd.Timestamp(data.datetime.min) == parsed.min()
    assert pd.Timestamp(data.datetime.max) == parsed.max()


def test_utf8_bom_and_cp1252(write_text: Callable[..., Path]) -> None:
    bom = write_text("bom.csv", "\ufeffnome,valor\nAçaí,1\nPão,2\n")
    result = profile_file(bom)
    assert result.dataset.encoding == "utf-8-sig"
    assert result.columns[0].name == "nome"
    text = "produto;preço\n“Café”;10\nItem €;20\n"
    cp = write_text("cp.csv", text, encoding="cp1252")
    result = profile_file(cp)
    assert result.dataset.encoding == "cp1252"
    assert {v.value for v in column(result, "produto").top_values} == {"“Café”", "Item €"}


@pytest.mark.parametrize("distinct", [120_000, 3], ids=["plain-text", "dictionary"])
def test_non_utf8_bytes_after_the_first_megabyte(write_text: Callable[..., Path], distinct: int) -> None:
    """Read again as a Western encoding, whether the column is plain text or, of few values, read
    as a dictionary."""
    rows = [f"{i},plain{i % distinct}" for i in range(120_000)]
    rows.append("120000,Conceição")
    path = write_text("late.csv", "id,name\n" + "\n".join(rows) + "\n", encoding="latin-1")
    assert path.stat().st_size > 1 << 20
    result = profile_file(path)
    assert result.dataset.encoding in ("latin-1", "cp1252")
    assert column(result, "name").distinct == distinct + 1
    if distinct < 10:  # so few that every value is among the top ones, decoded right
        assert {v.value for v in column(result, "name").top_values} == {
            "plain0",
            "plain1",
            "plain2",
            "Conceição",
        }


def test_header_detection(write_text: Callable[..., Path]) -> None:
    no_header = write_text("n.csv", "1,2.5,x\n2,3.5,y\n3,4.5,z\n")
    result = profile_file(no_header)
    assert result.dataset.header is False and result.dataset.rows == 3
    assert [c.name for c in result.columns] == ["column_1", "column_2", "column_3"]
    with_header = write_text("h.csv", "a,b,c\n1,2.5,x\n2,3.5,y\n")
    assert profile_file(with_header).dataset.header is True
    forced = profile_file(with_header, {"header_row": "none"})
    assert forced.dataset.rows == 3 and forced.columns[0].type == "categorical"
    skipped = write_text("s.csv", "exported by some tool\n\nq,w\n1,2\n3,4\n")
    result = profile_file(skipped, {"header_row": 2})
    assert [c.name for c in result.columns] == ["q", "w"] and result.dataset.rows == 2


@pytest.mark.parametrize(("delimiter", "name"), [("|", "pipe.txt"), ("\t", "tabs.txt"), (";", "semi.csv")])
def test_delimiters_are_sniffed(write_text: Callable[..., Path], delimiter: str, name: str) -> None:
    rows = [delimiter.join(["k", "v", "w"])] + [
        delimiter.join([f"k{i}", str(i), f"{i}.5"]) for i in range(50)
    ]
    result = profile_file(write_text(name, "\n".join(rows) + "\n"))
    assert result.dataset.delimiter == delimiter
    assert column(result, "v").stats.sum == sum(range(50))


def test_options_override_guesses(write_text: Callable[..., Path]) -> None:
    path = write_text("o.csv", "a;b\n1,5;x\n2,5;y\n")
    as_comma = profile_file(path, {"delimiter": ",", "decimal": "."})
    assert as_comma.dataset.delimiter == "," and as_comma.dataset.columns == 2
    tab = profile_file(write_text("t.csv", "a\tb\n1\t2\n"), {"delimiter": "\\t"})
    assert tab.dataset.delimiter == "\t" and tab.dataset.columns == 2
    forced = profile_file(path, {"encoding": "latin-1"})
    assert forced.dataset.encoding == "latin-1"
    typed = profile_file(
        write_text("c.csv", "zip,amount,flag\n01234,10,yes\n04321,x,no\n"),
        {"column_types": {"zip": "categorical", "amount": "numeric", "flag": "boolean"}},
    )
    assert column(typed, "zip").type == "categorical"
    amount = column(typed, "amount")
    assert amount.type == "numeric" and amount.count == 1 and "coerced" in amount.semantic
    assert column(typed, "flag").boolean.true == 1


def test_single_quotes_and_quoted_newlines(write_text: Callable[..., Path]) -> None:
    single = write_text("q.csv", "'a','b'\n'x, y',1\n'z',2\n'w',3\n")
    result = profile_file(single)
    assert result.dataset.quotechar == "'"
    assert {v.value for v in column(result, "a").top_values} == {"x, y", "z", "w"}
    multiline = write_text("m.csv", 'id,note\n1,"first line\nsecond line"\n2,plain\n')
    result = profile_file(multiline)
    assert result.dataset.rows == 2


def test_malformed_rows_are_skipped_and_reported(write_text: Callable[..., Path]) -> None:
    path = write_text("bad.csv", "a,b\n1,2\n3,4,5\n6,7\n8\n9,10\n")
    result = profile_file(path)
    assert result.dataset.rows == 3
    alert = next(a for a in result.alerts if a.type == "malformed_rows")
    assert alert.value == 2


def test_very_long_lines(write_text: Callable[..., Path]) -> None:
    long_value = "x" * 6_000_000
    path = write_text("long.csv", f"id,blob\n1,{long_value}\n2,short\n")
    result = profile_file(path)
    blob = column(result, "blob")
    assert result.dataset.rows == 2
    assert blob.text.length_max == len(long_value) and blob.text.length_min == 5
