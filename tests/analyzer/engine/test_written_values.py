"""Dates, amounts, percentages and yes/no written as Brazilian exports write them.

Each expected figure comes from the generated values through an independent reader: pandas
``to_datetime`` with an explicit format for dates, plain ``Decimal`` arithmetic for amounts.
Both modes must read the same file the same way.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sonda_analyzer.engine import profile_file

from tests.analyzer.engine.conftest import SUFFIX, column, write

#: Streaming is forced with a small budget so that the file is read in several chunks.
MODES: dict[str, tuple[dict[str, Any], int]] = {
    "exact": ({"streaming": False}, 1024),
    "streaming": ({"streaming": True}, 64),
}


def grouped(cents: int, group: str, decimal: str) -> str:
    whole, frac = divmod(abs(cents), 100)
    return f"{whole:,}".replace(",", group) + f"{decimal}{frac:02d}"


def brl(cents: int) -> str:
    return ("-R$ " if cents < 0 else "R$ ") + grouped(cents, ".", ",")


def usd(cents: int) -> str:
    return ("-" if cents < 0 else "") + "US$ " + grouped(cents, ",", ".")


def accounting(cents: int) -> str:
    body = grouped(cents, ".", ",")
    return f"({body})" if cents < 0 else body


def amount(text: str) -> Decimal:
    """The number in a written amount, by plain string handling (no regular expressions)."""
    negative = "-" in text or text.startswith("(")
    for symbol in ("-", "(", ")", "R$", "US$", "€", "%", " "):
        text = text.replace(symbol, "")
    if "," in text and (text.rfind(",") > text.rfind(".")):
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    return -Decimal(text) if negative else Decimal(text)


def brazilian_export(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    day, month = rng.integers(1, 29, n), rng.integers(1, 13, n)
    hour, minute = rng.integers(0, 24, n), rng.integers(0, 60, n)
    cents = rng.integers(-50_000, 5_000_000, n)
    valor = [brl(int(c)) for c in cents]
    for i in rng.choice(n, n // 50, replace=False):
        valor[i] = ""  # a few empty cells: missing, not unparsed
    obs = [
        f"{d:02d}/{m:02d}/2023" if i % 2 else f"ref {i}"
        for i, (d, m) in enumerate(zip(day, month, strict=True))
    ]
    return pd.DataFrame({
        "data_venda": [f"{d:02d}/{m:02d}/2023" for d, m in zip(day, month, strict=True)],
        "data_hora": [f"{d:02d}-{m:02d}-2024 {h:02d}:{mi:02d}"
                      for d, m, h, mi in zip(day, month, hour, minute, strict=True)],
        "valor": valor,
        "desconto": [f"{v / 10:.1f}".replace(".", ",") + "%" for v in rng.integers(0, 500, n)],
        "estorno": [accounting(int(c)) for c in rng.integers(-900_000, 100_000, n)],
        "valor_usd": [usd(int(c)) for c in rng.integers(0, 90_000_000, n)],
        "valor_eur": [f"€ {grouped(int(c), '.', ',')}" for c in rng.integers(0, 90_000, n)],
        "pago": rng.choice(["S", "N"], n),
        "ativo": rng.choice(["Sim", "Não", "nao", "SIM"], n),
        "obs": obs,
    })  # fmt: skip


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    frame = brazilian_export(40_000, seed=13)
    path = tmp_path_factory.mktemp("written") / "vendas.csv"
    text = "\r\n".join([";".join(frame.columns)] + [";".join(row) for row in frame.itertuples(index=False)])
    path.write_bytes((text + "\r\n").encode("cp1252"))
    return frame, path


@pytest.mark.parametrize("mode", MODES)
def test_brazilian_export_types_and_figures(export: tuple[pd.DataFrame, Path], mode: str) -> None:
    frame, path = export
    options, budget = MODES[mode]
    result = profile_file(path, options, budget_mb=budget)
    assert result.dataset.mode == mode and result.dataset.encoding == "cp1252"
    assert result.dataset.delimiter == ";" and result.dataset.decimal == ","

    for name, fmt in (("data_venda", "%d/%m/%Y"), ("data_hora", "%d-%m-%Y %H:%M")):
        col = column(result, name)
        expected = pd.to_datetime(frame[name], format=fmt)
        assert col.type == "datetime", name
        assert col.parsing.format == fmt and col.parsing.parsed_share == 1.0
        assert pd.Timestamp(col.datetime.min) == expected.min()
        assert pd.Timestamp(col.datetime.max) == expected.max()
        assert col.distinct == expected.nunique() and col.missing == 0

    for name, stripped, pattern in (
        ("valor", ["R$"], "#.##0,##"),
        ("desconto", ["%"], "#.##0,##"),
        ("estorno", ["()"], "#.##0,##"),
        ("valor_usd", ["US$"], "#,##0.##"),
        ("valor_eur", ["€"], "#.##0,##"),
    ):
        col = column(result, name)
        written = [v for v in frame[name] if v]
        values = [amount(v) for v in written]
        assert col.type == "numeric", name
        assert col.parsing.stripped == stripped and col.parsing.format == pattern, name
        assert col.count == len(values) and col.missing == len(frame) - len(values)
        assert col.stats.min == float(min(values)) and col.stats.max == float(max(values))
        assert col.stats.mean == pytest.approx(float(sum(values) / len(values)), rel=1e-12)
        assert col.stats.negatives == sum(v < 0 for v in values)

    pago = column(result, "pago")
    assert pago.type == "boolean" and pago.parsing.format in ("S/N", "N/S")
    assert pago.boolean.true == int((frame["pago"] == "S").sum())
    ativo = column(result, "ativo")
    assert ativo.type == "boolean"
    assert ativo.boolean.true == int(frame["ativo"].str.lower().eq("sim").sum())
    assert ativo.boolean.false == int(frame["ativo"].isin(["Não", "nao"]).sum())

    obs = column(result, "obs")
    dates = pd.to_datetime(frame["obs"], format="%d/%m/%Y", errors="coerce")
    assert obs.type != "datetime" and "mixed_types" in obs.semantic
    assert obs.parsing.format == "%d/%m/%Y"
    assert obs.parsing.parsed_share == pytest.approx(dates.notna().mean(), abs=1e-12)
    assert any(a.type == "mixed_types" and a.column == "obs" for a in result.alerts)


@pytest.mark.parametrize("mode", MODES)
def test_month_first_only_when_a_day_proves_it(tmp_path: Path, mode: str) -> None:
    """The first 30,000 dates could be either; only the later ones show the month comes first
    (streaming mode has chosen day first from its first chunk by then and must change its mind)."""
    rng = np.random.default_rng(5)
    n = 40_000
    month = rng.integers(1, 13, n)
    day = np.where(np.arange(n) < 30_000, rng.integers(1, 13, n), rng.integers(13, 29, n))
    written = [f"{m}/{d}/2021" for m, d in zip(month, day, strict=True)]
    pad = "x" * 60
    path = tmp_path / "us.csv"
    path.write_text("when,note\n" + "".join(f"{w},{pad}{i}\n" for i, w in enumerate(written)))
    options, budget = MODES[mode]
    result = profile_file(path, options, budget_mb=budget)
    col = column(result, "when")
    expected = pd.to_datetime(pd.Series(written), format="%m/%d/%Y")
    assert col.type == "datetime" and col.parsing.format == "%m/%d/%Y"
    assert pd.Timestamp(col.datetime.min) == expected.min()
    assert pd.Timestamp(col.datetime.max) == expected.max()
    # Without the proof the same values are read day first.
    head = tmp_path / "head.csv"
    head.write_text("when\n" + "\n".join(written[:30_000]) + "\n")
    early = column(profile_file(head, options, budget_mb=budget), "when")
    assert early.parsing.format == "%d/%m/%Y"
    assert (
        pd.Timestamp(early.datetime.max)
        == pd.to_datetime(pd.Series(written[:30_000]), format="%d/%m/%Y").max()
    )


@pytest.mark.parametrize("mode", MODES)
def test_year_first_dates_with_slashes(tmp_path: Path, mode: str) -> None:
    """seattle-weather.csv writes its dates 2012/01/01."""
    rng = np.random.default_rng(2)
    days = pd.date_range("2012-01-01", periods=1461, freq="D")
    path = tmp_path / "seattle-weather.csv"
    lines = [f"{d:%Y/%m/%d},{p:.1f},{t:.1f},rain" for d, p, t in
             zip(days, rng.gamma(1, 3, len(days)), rng.normal(15, 7, len(days)), strict=True)]  # fmt: skip
    path.write_text("date,precipitation,temp_max,weather\n" + "\n".join(lines) + "\n")
    options, budget = MODES[mode]
    col = column(profile_file(path, options, budget_mb=budget), "date")
    expected = pd.to_datetime(pd.Series([line.split(",")[0] for line in lines]), format="%Y/%m/%d")
    assert col.type == "datetime" and col.parsing.format == "%Y/%m/%d"
    assert pd.Timestamp(col.datetime.min) == expected.min()
    assert pd.Timestamp(col.datetime.max) == expected.max()
    assert col.datetime.frequency == "D" and "date" in col.semantic


def test_two_digit_years_and_impossible_dates(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    parts = zip(rng.integers(1, 29, 300), rng.integers(1, 13, 300), rng.integers(0, 100, 300), strict=True)
    written = [f"{d:02d}/{m:02d}/{y:02d}" for d, m, y in parts]
    path = tmp_path / "short.csv"
    path.write_text(
        "d;e\n" + "".join(f"{w};{'31/02/2023' if i % 3 == 0 else w}\n" for i, w in enumerate(written))
    )
    result = profile_file(path)
    d = column(result, "d")
    expected = pd.to_datetime(pd.Series(written), format="%d/%m/%y")
    assert d.type == "datetime" and d.parsing.format == "%d/%m/%y"
    assert pd.Timestamp(d.datetime.min) == expected.min() and pd.Timestamp(d.datetime.max) == expected.max()
    # 31 February is not a date (strptime alone would roll it over into March): the column stays text.
    e = column(result, "e")
    assert e.type != "datetime" and e.parsing.parsed_share < 1.0


def test_amounts_with_impossible_decorations_are_not_numbers(tmp_path: Path) -> None:
    good = ["R$ 1.234,56", "-R$ 10,00", "R$ -3,00", "(12,00)", "15%", "12,50 €", "US$ 7,00"]
    bad = ["1R$2", "(-3)", "--3", "R$ R$ 3", "(4,00", "12,5%%"]
    written = (good * 20) + bad
    path = tmp_path / "odd.csv"
    path.write_text(
        "v;w\n" + "".join(f"{v};{g}\n" for v, g in zip(written, (good * 30)[: len(written)], strict=True))
    )
    result = profile_file(path)
    v = column(result, "v")
    assert v.type != "numeric" and v.parsing.parsed_share == pytest.approx(len(good * 20) / len(written))
    w = column(result, "w")
    values = [amount(g) for g in (good * 30)[: len(written)]]
    assert w.type == "numeric" and w.stats.sum == pytest.approx(float(sum(values)), rel=1e-12)
    assert set(w.parsing.stripped) == {"R$", "()", "%", "€", "US$"}


@pytest.mark.parametrize("mode", MODES)
def test_a_column_forced_to_datetime_reads_the_dates_people_wrote(tmp_path: Path, mode: str) -> None:
    rng = np.random.default_rng(9)
    n = 30_000
    dates = [f"{d}/{m}/2022" for d, m in zip(rng.integers(1, 29, n), rng.integers(1, 13, n), strict=True)]
    written = [d if i % 10 else "sem data" for i, d in enumerate(dates)]
    path = tmp_path / "forced.csv"
    path.write_text("quando;pad\n" + "".join(f"{w};{'p' * 60}\n" for w in written))
    options, budget = MODES[mode]
    col = column(
        profile_file(path, {**options, "column_types": {"quando": "datetime"}}, budget_mb=budget), "quando"
    )
    expected = pd.to_datetime(pd.Series(written), format="%d/%m/%Y", errors="coerce")
    assert col.type == "datetime" and "coerced" in col.semantic
    assert col.count == expected.notna().sum() and col.missing == expected.isna().sum()
    assert (
        pd.Timestamp(col.datetime.min) == expected.min() and pd.Timestamp(col.datetime.max) == expected.max()
    )


@pytest.mark.parametrize(
    ("fmt", "streaming"),
    [
        ("json", False),
        ("jsonl", False),
        ("jsonl", True),
        ("parquet", False),
        ("parquet", True),
        ("xlsx", False),
    ],
)
def test_year_first_dates_in_every_format(tmp_path: Path, fmt: str, streaming: bool) -> None:
    """Dates kept as text by a JSON, Parquet or Excel file are read as dates too; their numbers
    written as text stay text (those formats type their numbers)."""
    days = pd.date_range("2012-01-01", periods=1461, freq="D")
    frame = pd.DataFrame({
        "date": [f"{d:%Y/%m/%d}" for d in days],
        "code": [f"{i % 7},5" for i in range(len(days))],
        "temp": np.linspace(-5, 30, len(days)),
    })  # fmt: skip
    path = write(frame, tmp_path / f"seattle{SUFFIX[fmt]}", fmt)
    result = profile_file(path, {"streaming": streaming}, budget_mb=64)
    assert result.dataset.mode == ("streaming" if streaming else "exact")
    col = column(result, "date")
    expected = pd.to_datetime(frame["date"], format="%Y/%m/%d")
    assert col.type == "datetime" and col.parsing.format == "%Y/%m/%d"
    assert (
        pd.Timestamp(col.datetime.min) == expected.min() and pd.Timestamp(col.datetime.max) == expected.max()
    )
    assert column(result, "code").type == "categorical"


@pytest.mark.parametrize("mode", MODES)
def test_a_column_forced_to_numeric_reads_amounts(tmp_path: Path, mode: str) -> None:
    rng = np.random.default_rng(12)
    n = 30_000
    written = [
        brl(int(c)) if i % 20 else "a combinar" for i, c in enumerate(rng.integers(-9_000, 900_000, n))
    ]
    written[1] = "1e5"  # plain notation still counts
    path = tmp_path / "forced.csv"
    path.write_text("valor;pad\n" + "".join(f"{w};{'p' * 60}\n" for w in written))
    options, budget = MODES[mode]
    col = column(
        profile_file(path, {**options, "column_types": {"valor": "numeric"}}, budget_mb=budget), "valor"
    )
    values = [amount(w) for w in written if w.startswith(("R$", "-R$"))] + [Decimal("1e5")]
    assert col.type == "numeric" and "coerced" in col.semantic
    assert col.count == len(values) and col.missing == n - len(values)
    assert col.stats.sum == pytest.approx(float(sum(values)), rel=1e-12)
    assert (col.stats.min, col.stats.max) == (float(min(values)), float(max(values)))


def test_a_comma_number_forced_to_numeric_in_a_decimal_point_file_becomes_missing(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("v,w\n" + "".join(f'"{v}",{i}.5\n' for i, v in enumerate(["1,5", "2", "3.25"] * 10)))
    col = column(profile_file(path, {"column_types": {"v": "numeric"}}), "v")
    assert col.count == 20 and col.missing == 10 and "coerced" in col.semantic
    assert col.stats.sum == pytest.approx(10 * (2 + 3.25))


@pytest.mark.parametrize("mode", MODES)
def test_a_column_empty_at_first_is_read_by_its_later_values(tmp_path: Path, mode: str) -> None:
    """Streaming mode plans from its first chunk; a column with no value there is decided on its
    first values, so both modes read it alike."""
    rng = np.random.default_rng(14)
    n, empty = 30_000, 20_000
    dates = [
        f"{d:02d}/{m:02d}/2020" for d, m in zip(rng.integers(1, 29, n), rng.integers(1, 13, n), strict=True)
    ]
    cents = rng.integers(0, 900_000, n)
    lines = [
        f"{'' if i < empty else dates[i]};{'' if i < empty else brl(int(cents[i]))};{'p' * 60}\n"
        for i in range(n)
    ]
    path = tmp_path / "late.csv"
    path.write_text("quando;valor;pad\n" + "".join(lines))
    options, budget = MODES[mode]
    result = profile_file(path, options, budget_mb=budget)
    quando, valor = column(result, "quando"), column(result, "valor")
    expected = pd.to_datetime(pd.Series(dates[empty:]), format="%d/%m/%Y")
    assert quando.type == "datetime" and quando.missing == empty
    assert (
        pd.Timestamp(quando.datetime.min) == expected.min()
        and pd.Timestamp(quando.datetime.max) == expected.max()
    )
    values = [amount(brl(int(c))) for c in cents[empty:]]
    assert valor.type == "numeric" and valor.parsing.stripped == ["R$"]
    assert valor.stats.sum == pytest.approx(float(sum(values)), rel=1e-12)
