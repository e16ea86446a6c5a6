"""KStream/KTable generics: mypy infers types from serdes and checks users' lambdas (PEP 484)."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

CASES = Path(__file__).with_name("typing_cases.py")


def test_lambdas_type_check_and_a_wrong_one_is_caught(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    stdout, _, _ = api.run([str(CASES), "--follow-imports=silent", "--no-error-summary",
                            "--cache-dir", str(tmp_path / "cache"), "--python-version", "3.11"])
    errors = [line for line in stdout.splitlines() if "typing_cases.py:" in line and ": error:" in line]
    wrong_line = next(i for i, line in enumerate(CASES.read_text().splitlines(), 1) if line.startswith("wrong ="))
    assert len(errors) == 1, stdout
    assert f":{wrong_line}:" in errors[0] and 'Unsupported operand types for + ("str" and "int")' in errors[0]
