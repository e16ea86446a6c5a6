"""pystreams.cli: the `pystreams` command (typer + rich); may import broker and runtime lazily."""
from pystreams.cli.app import app


def main() -> None:
    """Entry point of the `pystreams` console script."""
    app()


__all__ = ["app", "main"]
