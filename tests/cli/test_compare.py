"""``sonda compare A B`` with two files: profiled here by the engine, schema changes printed first.

Two analysis ids are compared by a running Sonda: tests/e2e/test_cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sonda_analyzer.engine import profile_file
from sonda_query.compare import CompareOptions, compare_results
from sonda_query.compare.compare import side_of

from sonda.cli import cli
from sonda.commands.compare import DRIFT_EXIT


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    rng = np.random.default_rng(8)
    rows = 3000
    base = pd.DataFrame(
        {
            "preço": rng.gamma(2.0, 40.0, rows).round(2),
            "cidade": rng.choice(["Recife", "Belém", "Natal"], rows),
            "qtd": rng.integers(1, 10, rows),
            "peso": rng.normal(70, 10, rows),
        }
    )
    target = base.sample(frac=1.0, random_state=1).reset_index(drop=True)
    target["preço"] = target["preço"] * 1.6
    target["[bold red]x[/]"] = 1.0  # a hostile name is shown, not interpreted
    target = target.rename(columns={"qtd": "quantidade"})
    folder = tmp_path_factory.mktemp("compare")
    base.to_csv(folder / "janeiro.csv", sep=";", decimal=",", index=False, encoding="latin-1")
    target.to_parquet(folder / "fevereiro.parquet", index=False)
    return folder / "janeiro.csv", folder / "fevereiro.parquet"


def test_two_files_json_is_the_comparison_of_their_profiles(files: tuple[Path, Path]) -> None:
    done = CliRunner().invoke(cli, ["compare", str(files[0]), str(files[1]), "--json"])
    assert done.exit_code == 0, done.output
    base, target = (msgspec.to_builtins(profile_file(path)) for path in files)
    expected = compare_results(
        base,
        target,
        CompareOptions(),
        base_side=side_of(base, filename="janeiro.csv"),
        target_side=side_of(target, filename="fevereiro.parquet"),
    )
    body = json.loads(done.output)
    assert body == msgspec.json.decode(msgspec.json.encode(expected))
    assert [c["name"] for c in body["columns"] if c["drifted"]] == ["preço"]
    assert [(r["from"], r["to"]) for r in body["schema"]["renamed"]] == [("qtd", "quantidade")]


def test_the_report_shows_schema_changes_then_drifted_columns(files: tuple[Path, Path]) -> None:
    done = CliRunner().invoke(cli, ["compare", str(files[0]), str(files[1])], terminal_width=140)
    assert done.exit_code == 0, done.output
    out = done.output
    assert (
        out.index("Schema changes")
        < out.index("Drifted columns (1 of 3)")
        < out.index("No dataset drift: 1 of 3")
    )
    assert "qtd → quantidade" in out and "[bold red]x[/]" in out
    assert "preço" in out.split("Drifted columns")[1]


def test_options_and_exit_status(files: tuple[Path, Path]) -> None:
    runner = CliRunner()
    lenient = runner.invoke(cli, ["compare", *map(str, files), "--json", "--wasserstein-threshold", "9"])
    assert not any(c["drifted"] for c in json.loads(lenient.output)["columns"])
    strict = runner.invoke(cli, ["compare", *map(str, files), "--drift-share", "0.3", "--fail-on-drift"])
    assert strict.exit_code == DRIFT_EXIT, strict.output
    calm = runner.invoke(cli, ["compare", str(files[0]), str(files[0]), "--fail-on-drift"])
    assert calm.exit_code == 0 and "No column drifted" in calm.output
    psi = runner.invoke(cli, ["compare", *map(str, files), "--json", "--psi"])
    assert {c["metric"] for c in json.loads(psi.output)["columns"]} == {"psi", "jensen_shannon"}
    bad = runner.invoke(cli, ["compare", *map(str, files), "--js-threshold", "3"])
    assert bad.exit_code == 2 and "jensen_shannon_threshold" in bad.output
    missing = runner.invoke(cli, ["compare", str(files[0]), "no-such-file.csv"])
    assert missing.exit_code == 2 and "neither an analysis id nor a file" in missing.output
