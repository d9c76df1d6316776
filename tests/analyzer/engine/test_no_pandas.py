"""A fresh analysis process never imports pandas, in exact or streaming mode: pyarrow imports it on the first Python value it
converts, which costs a third of a second and 50 MB of every analysis of a plain file. Nor does
it load Parquet's libraries (about 9 MB) for a file that is not Parquet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SCRIPT = """
import sys
from pathlib import Path
from sonda_analyzer.engine import profile_file
for name in sys.argv[1:]:
    profile_file(Path(name))
    profile_file(Path(name), {"streaming": True})  # chunks, sketches and row hashes too
print("pandas" in sys.modules, "pyarrow.parquet" in sys.modules)
"""


def test_profiling_csv_files_imports_no_pandas(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 3_000
    plain = tmp_path / "plain.csv"
    frame = pd.DataFrame({
        "id": np.arange(n),
        "x": rng.normal(size=n),
        "y": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(size=n)),
        "city": rng.choice(["a", "b", "c"], n),
        "when": pd.date_range("2024-01-01", periods=n, freq="h"),
        "flag": rng.random(n) < 0.5,
        "note": [f"word {i % 97} more" for i in range(n)],
    })  # fmt: skip
    # repeated rows, so the duplicated rows are listed with their values too
    pd.concat([frame, frame.head(50)]).to_csv(plain, index=False)
    brazilian = tmp_path / "br.csv"
    lines = ["nome;cpf;data;valor;ativo;taxa"]
    no = "N\u00e3o"
    for i in range(n):
        lines.append(
            f"Jos\u00e9 {i};{rng.integers(100, 999)}.{rng.integers(100, 999)}.{rng.integers(100, 999)}-"
            f"{rng.integers(10, 99)};{rng.integers(1, 28):02d}/{rng.integers(1, 12):02d}/2023;"
            f"R$ {rng.integers(1, 9)}.{rng.integers(100, 999)},{rng.integers(10, 99)};"
            f"{'Sim' if i % 3 else no};{rng.integers(1, 99)},5%"
        )
    brazilian.write_bytes("\n".join(lines).encode("cp1252"))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(plain), str(brazilian)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    assert out.stdout.split() == ["False", "False"], out.stderr
