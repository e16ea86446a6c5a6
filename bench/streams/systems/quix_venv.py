"""Quix Streams in its own venv: quixstreams pins confluent-kafka<2.13, older than the project's,
so it never goes into the dev .venv. The version comes from pyproject's `bench` extra."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENV = ROOT / ".cache" / "bench" / "quix-venv"


def requirement() -> str:
    """The `bench` extra's quixstreams requirement, e.g. 'quixstreams==3.28.1'."""
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'^bench\s*=\s*\[[^\]]*"(quixstreams[^"]*)"', text, re.M)
    return match.group(1) if match else "quixstreams"


def python() -> Path:
    return VENV / "bin" / "python"


def ensure() -> str:
    """Create the venv and install the pinned quixstreams when missing; returns its version."""
    want = requirement()
    if python().exists():
        found = subprocess.run([str(python()), "-c", "import quixstreams; print(quixstreams.__version__)"],
                               capture_output=True, text=True)
        if found.returncode == 0 and (("==" not in want) or want.split("==")[1] == found.stdout.strip()):
            return f"quixstreams {found.stdout.strip()} in {VENV}"
    base = Path(sys.base_prefix) / "bin" / "python3"
    subprocess.run([str(base), "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python()), "-m", "pip", "install", "-q", want], check=True)
    return f"installed {want} in {VENV}"
