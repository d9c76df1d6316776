"""Semantic types with validation: documents and cards are generated here with check-digit code
written independently of the engine's (string arithmetic, not matrices), some made invalid on
purpose, and the share the engine reports is compared with the share this reference counts — in
exact and in streaming mode."""

from __future__ import annotations

import ipaddress
import random
import re
import uuid
from pathlib import Path

import pandas as pd
import pytest
from sonda_analyzer.engine import ProfileResult, profile_file
from sonda_events.privacy import is_personal

from tests.analyzer.engine.conftest import column

ROWS = 2_400
_UF_LETTERS = "ACALAPAMBACEDFESGOMAMTMSMGPAPBPRPEPIRJRNRSRORRSCSPSETO"
UFS = [_UF_LETTERS[i : i + 2] for i in range(0, len(_UF_LETTERS), 2)]
DDDS = {
    *range(11, 20), 21, 22, 24, 27, 28, 31, 32, 33, 34, 35, 37, 38, *range(41, 50), 51, 53, 54, 55,
    *range(61, 70), 71, 73, 74, 75, 77, 79, *range(81, 90), *range(91, 100),
}  # fmt: skip


# ------------------------------------------------------------------ reference check digits


def _mod11_digit(text: str, first_weight: int) -> str:
    """Receita Federal's rule as usually written: remainder of the weighted sum by 11; 0 or 1
    give 0, else 11 minus it. Characters count as their code minus 48 (letters of a CNPJ)."""
    weights = list(range(first_weight, 1, -1))
    total = sum((ord(ch) - 48) * w for ch, w in zip(text, weights, strict=True))
    rest = total % 11
    return "0" if rest < 2 else str(11 - rest)


def cpf_ok(text: str) -> bool:
    digits = text.replace(".", "").replace("-", "")
    if len(digits) != 11 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    return digits[9] == _mod11_digit(digits[:9], 10) and digits[10] == _mod11_digit(digits[:10], 11)


def _cnpj_digit(body: str) -> str:
    weights = (
        [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2] if len(body) == 12 else [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    )
    rest = sum((ord(ch) - 48) * w for ch, w in zip(body, weights, strict=True)) % 11
    return "0" if rest < 2 else str(11 - rest)


def cnpj_ok(text: str) -> bool:
    chars = text.replace(".", "").replace("/", "").replace("-", "")
    if len(chars) != 14 or not chars[12:].isdigit() or len(set(chars)) == 1:
        return False
    if not all(ch.isdigit() or "A" <= ch <= "Z" for ch in chars[:12]):
        return False
    return chars[12] == _cnpj_digit(chars[:12]) and chars[13] == _cnpj_digit(chars[:13])


def luhn_ok(text: str) -> bool:
    digits = text.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 13 <= len(digits) <= 19 or digits[0] not in "23456":
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d // 10 + d % 10
    return total % 10 == 0


def phone_ok(text: str) -> bool:
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+") and not digits.startswith("55"):
        return 8 <= len(digits) <= 15 and digits[0] != "0"
    if digits.startswith("55") and len(digits) in (12, 13):
        digits = digits[2:]
    if len(digits) not in (10, 11) or int(digits[:2]) not in DDDS:
        return False
    return digits[2] == "9" if len(digits) == 11 else digits[2] in "2345"


def ip_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------ generators


def make_cpf(rng: random.Random, *, valid: bool) -> str:
    body = "".join(str(rng.randrange(10)) for _ in range(9))
    d1 = _mod11_digit(body, 10)
    d2 = _mod11_digit(body + d1, 11)
    if not valid:
        d2 = str((int(d2) + 1 + rng.randrange(9)) % 10)  # any other digit
    return body + d1 + d2


def make_cnpj(rng: random.Random, *, valid: bool, letters: bool = False) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" if letters else "0123456789"
    body = "".join(rng.choice(alphabet) for _ in range(8)) + "0001"
    d1 = _cnpj_digit(body)
    d2 = _cnpj_digit(body + d1)
    if not valid:
        d1 = str((int(d1) + 1 + rng.randrange(9)) % 10)
    return body + d1 + d2


def make_card(rng: random.Random, *, valid: bool) -> str:
    body = "4" + "".join(str(rng.randrange(10)) for _ in range(14))
    for last in "0123456789":
        if luhn_ok(body + last) == valid:
            return body + last
    raise AssertionError("unreachable")


def fmt_cpf(d: str) -> str:
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def fmt_cnpj(d: str) -> str:
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


def fmt_card(d: str) -> str:
    return " ".join(d[i : i + 4] for i in range(0, len(d), 4))


def brazilian_frame(rows: int = ROWS, seed: int = 13) -> pd.DataFrame:
    rng = random.Random(seed)
    ddds = sorted(DDDS)

    def maybe(p_invalid: float) -> bool:
        return rng.random() >= p_invalid

    def phone() -> str:
        ddd, number = rng.choice(ddds), f"9{rng.randrange(10**8):08d}"
        style = rng.randrange(4)
        if rng.random() < 0.05:
            ddd = 10  # no such area code
        if style == 0:
            return f"({ddd}) {number[:5]}-{number[5:]}"
        if style == 1:
            return f"+55 {ddd} {number[:5]}-{number[5:]}"
        if style == 2:
            return f"{ddd}{number}"
        return f"+1 415 555 {rng.randrange(10**4):04d}"

    def ip() -> str:
        if rng.random() < 0.2:
            return str(ipaddress.IPv6Address(rng.getrandbits(128)))
        octets = [rng.randrange(256) for _ in range(4)]
        if rng.random() < 0.05:
            octets[0] = 300 + rng.randrange(100)  # out of range
        return ".".join(map(str, octets))

    cpfs = [make_cpf(rng, valid=maybe(0.03)) for _ in range(rows)]
    frame = pd.DataFrame(
        {
            "cpf_cliente": [fmt_cpf(c) if rng.random() > 0.02 else None for c in cpfs],
            # Read back as integers: leading zeros lost, as a spreadsheet loses them.
            "documento": [int(make_cpf(rng, valid=maybe(0.06))) for _ in range(rows)],
            "cnpj": [
                fmt_cnpj(make_cnpj(rng, valid=maybe(0.04), letters=rng.random() < 0.1)) for _ in range(rows)
            ],
            "cartao": [fmt_card(make_card(rng, valid=maybe(0.1))) for _ in range(rows)],
            "cep": [f"{rng.randrange(1000, 99999):05d}-{rng.randrange(1000):03d}" for _ in range(rows)],
            "telefone": [phone() for _ in range(rows)],
            "email": [
                f"cliente{i}@exemplo.com.br" if rng.random() > 0.02 else "sem email" for i in range(rows)
            ],
            "site": [f"https://loja{rng.randrange(50)}.com.br/p/{i}" for i in range(rows)],
            "pedido_uuid": [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(rows)],
            "ip": [ip() for _ in range(rows)],
            "uf": [rng.choice(UFS) if rng.random() > 0.03 else "XX" for _ in range(rows)],
            # Look-alikes that are not documents: random 11-digit numbers, 8-digit codes.
            "numero_pedido": [rng.randrange(10**10, 10**11) for _ in range(rows)],
            "codigo": [f"{rng.randrange(10**8):08d}" for _ in range(rows)],
            "quantidade": [rng.randrange(1, 20) for _ in range(rows)],
        }
    )
    return frame


EXPECTED = {
    "cpf_cliente": ("cpf", cpf_ok),
    "documento": ("cpf", lambda v: cpf_ok(f"{int(v):011d}")),
    "cnpj": ("cnpj", cnpj_ok),
    "cartao": ("credit_card", luhn_ok),
    "cep": ("cep", lambda v: v[:2] != "00"),
    "telefone": ("phone", phone_ok),
    "email": ("email", lambda v: "@" in v),
    "site": ("url", lambda v: v.startswith("https://")),
    "pedido_uuid": ("uuid", lambda v: True),
    "ip": ("ip", ip_ok),
    "uf": ("uf", lambda v: v in UFS),
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    frame = brazilian_frame()
    path = tmp_path_factory.mktemp("semantic") / "clientes.csv"
    frame.to_csv(path, sep=";", index=False, encoding="cp1252")
    return frame, path


@pytest.fixture(scope="module", params=["exact", "streaming"])
def profiled(request: pytest.FixtureRequest, exported: tuple[pd.DataFrame, Path]) -> ProfileResult:
    _, path = exported
    return profile_file(path, {"streaming": request.param == "streaming"}, budget_mb=64)


def test_each_type_is_found_with_the_share_of_valid_values(
    profiled: ProfileResult, exported: tuple[pd.DataFrame, Path]
) -> None:
    frame, _ = exported
    for name, (kind, ok) in EXPECTED.items():
        present = frame[name].dropna()
        expected = sum(bool(ok(v)) for v in present) / len(present)
        col = column(profiled, name)
        assert kind in col.semantic, (name, col.semantic)
        assert col.semantic_validity[kind] == pytest.approx(expected, abs=1e-6), name
        assert col.pii == is_personal(kind), name
    # Invalid values were made on purpose: the engine counts them, it does not fix them.
    for name in ("cpf_cliente", "documento", "cnpj", "cartao", "telefone", "ip", "uf"):
        assert 0.8 < min(column(profiled, name).semantic_validity.values()) < 1.0, name
    assert column(profiled, "documento").type == "identifier"


def test_look_alikes_get_no_semantic_type(profiled: ProfileResult) -> None:
    for name in ("numero_pedido", "codigo", "quantidade"):
        col = column(profiled, name)
        assert col.semantic_validity == {} and not col.pii, (name, col.semantic)


def test_one_pii_alert_names_every_personal_column(profiled: ProfileResult) -> None:
    alerts = [a for a in profiled.alerts if a.type == "pii"]
    assert len(alerts) == 1
    personal = [n for n, (kind, _) in EXPECTED.items() if is_personal(kind)]
    assert alerts[0].columns == personal
    assert alerts[0].severity == "warning" and alerts[0].column is None
    assert all(c.name in personal for c in profiled.columns if c.pii)


def test_exact_and_streaming_agree(exported: tuple[pd.DataFrame, Path]) -> None:
    _, path = exported
    exact = profile_file(path, {"streaming": False})
    streamed = profile_file(path, {"streaming": True}, budget_mb=64)
    for e in exact.columns:
        s = column(streamed, e.name)
        assert (s.semantic, s.semantic_validity, s.pii, s.type) == (
            e.semantic,
            e.semantic_validity,
            e.pii,
            e.type,
        )


def test_a_column_of_wrong_check_digits_is_a_cpf_column_with_no_valid_value(tmp_path: Path) -> None:
    rng = random.Random(5)
    wrong = [fmt_cpf(make_cpf(rng, valid=False)) for _ in range(300)]
    assert not any(cpf_ok(v) for v in wrong)
    path = tmp_path / "wrong.csv"
    pd.DataFrame({"id_cliente": wrong}).to_csv(path, index=False)
    col = column(profile_file(path), "id_cliente")
    assert col.semantic_validity == {"cpf": 0.0} and col.pii


def test_bare_digits_count_only_when_their_check_digits_do(tmp_path: Path) -> None:
    """11-digit numbers that are CPFs are found even when read as integers (leading zeros lost); in
    a column named ``cep``, bare 8-digit numbers are postal codes."""
    rng = random.Random(9)
    cpfs = [make_cpf(rng, valid=True) for _ in range(500)]
    path = tmp_path / "bare.csv"
    ceps = [f"{rng.randrange(10**5, 10**8):08d}" for _ in cpfs]  # some "00…": not a CEP
    pd.DataFrame({"doc": cpfs, "cep": ceps}).to_csv(path, index=False)
    result = profile_file(path)
    doc = column(result, "doc")
    assert doc.dtype == "int64" and doc.semantic_validity == {"cpf": 1.0}
    cep = column(result, "cep")
    expected = sum(v[:2] != "00" for v in ceps) / len(ceps)
    assert cep.semantic_validity == {"cep": pytest.approx(expected)} and cep.pii


def test_every_distinct_value_is_checked_past_the_first_slice(tmp_path: Path) -> None:
    """Distinct values are checked a slice of 65,536 at a time: malformed e-mails only after the
    first slice, some repeated, still count against the share (computed here with Python's re)."""
    rng = random.Random(17)
    good = [f"person{i}@example.com" for i in range(80_000)]
    bad = [f"person{i} at example.com" for i in range(3_000)]
    values = good + bad + rng.choices(bad, k=500) + rng.choices(good, k=500)
    path = tmp_path / "emails.csv"
    pd.DataFrame({"email": values}).to_csv(path, index=False)
    col = column(profile_file(path), "email")
    pattern = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
    expected = sum(bool(pattern.match(v)) for v in values) / len(values)
    assert col.semantic_validity == {"email": pytest.approx(expected, abs=1e-6)}
    assert col.pii and col.distinct == 83_000


@pytest.mark.parametrize("width", [36, 32])
def test_uuids_read_from_their_bytes_match_as_the_regex_does(width: int) -> None:
    """Values all 36 (or 32) bytes long are checked word by word; each verdict is RE2's, for
    upper and lower case, every byte value at every position, and letters of two bytes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from sonda_analyzer.engine.patterns import UUID, uuid_mask

    rng = np.random.default_rng(width)
    values = []
    for _ in range(4_000):
        text = str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63))))
        text = text if width == 36 else text.replace("-", "")
        raw = bytearray((text.upper() if rng.random() < 0.3 else text).encode())
        for _ in range(int(rng.integers(0, 3))):  # a byte of any value anywhere
            raw[int(rng.integers(0, width))] = int(rng.integers(0, 128))
        if rng.random() < 0.05:  # a letter of two bytes in place of two characters
            at = int(rng.integers(0, width - 1))
            raw[at : at + 2] = "é".encode()
        values.append(raw.decode())
    arr = pa.array(values)
    assert {len(v.encode()) for v in values} == {width}
    expected = np.asarray(pc.match_substring_regex(arr, UUID))
    assert 0 < expected.sum() < len(values)
    np.testing.assert_array_equal(uuid_mask(arr), expected)
    np.testing.assert_array_equal(uuid_mask(arr.slice(7)), expected[7:])  # a slice of them
    mixed = pa.array([*values[:10], "not a uuid"])  # other lengths: the regex itself
    np.testing.assert_array_equal(uuid_mask(mixed), pc.match_substring_regex(mixed, UUID))
