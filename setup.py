"""Package list for the three source roots that all import under `pystreams` (see pyproject.toml)."""
from setuptools import find_packages, setup


def _packages(root: str, prefix: str) -> list[str]:
    return [prefix] + [f"{prefix}.{name}" for name in find_packages(root)]


setup(
    packages=_packages("pystreams", "pystreams")
    + _packages("broker", "pystreams.broker")
    + _packages("adapters", "pystreams.adapters"),
)
