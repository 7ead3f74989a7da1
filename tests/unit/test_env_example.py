"""Every variable Placet reads is documented in .env.example (a house rule, kept by a test)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"\b(?:PLACET|GROQ|OPENAI|OLLAMA)_[A-Z_]*[A-Z]\b")
CONSTANTS = {"GROQ_BASE_URL", "GROQ_DEFAULT_MODEL"}  # also names of module constants


def test_every_variable_in_the_code_is_in_env_example() -> None:
    used = {
        name
        for path in (ROOT / "src").rglob("*.py")
        for name in VARIABLE.findall(path.read_text(encoding="utf-8"))
    }
    documented = set(
        re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE)
    )
    assert used - CONSTANTS - documented == set()
    assert "PLACET_SECRET_KEY" in used  # the scan sees the code
