"""DESIGN.md's dependency rules, checked on the source tree (import-linter cannot follow our
package-dir mapping, where broker/ and adapters/ import as pystreams.broker/.adapters).

Every import in every module, at any depth (lazy imports included), is resolved to a module name
and checked against RULES. The CLI may import the broker, lazily or not: it is the launcher.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = {"pystreams": ROOT / "pystreams", "pystreams.broker": ROOT / "broker",
                "pystreams.adapters": ROOT / "adapters"}

CORE = ["pystreams.graph", "pystreams.dsl", "pystreams.compiler", "pystreams.processor",
        "pystreams.state", "pystreams.runtime", "pystreams.testing", "pystreams.serdes",
        "pystreams.connect"]
BROKER_ROOMS = ["pystreams.broker.log", "pystreams.broker.coordinator", "pystreams.broker.cluster",
                "pystreams.broker.server", "pystreams.broker.security"]

# (importing package, forbidden packages, why)
RULES: list[tuple[str, list[str], str]] = [
    ("pystreams.graph", ["pystreams.dsl", "pystreams.compiler", "pystreams.runtime",
                         "pystreams.testing", "pystreams.cli"], "graph is the bottom layer"),
    ("pystreams.dsl", ["pystreams.compiler", "pystreams.runtime", "pystreams.testing",
                       "pystreams.cli"], "dsl sits under compiler"),
    ("pystreams.compiler", ["pystreams.runtime", "pystreams.testing", "pystreams.cli"],
     "compiler sits under runtime/testing"),
    ("pystreams.runtime", ["pystreams.testing", "pystreams.cli"], "runtime sits under cli"),
    ("pystreams.testing", ["pystreams.runtime", "pystreams.cli"], "testing sits under cli"),
    ("pystreams.broker.protocol", BROKER_ROOMS + CORE + ["pystreams.cli", "pystreams.adapters",
                                                         "pystreams.errors"],
     "broker.protocol is sans-IO and imports nothing else from the project"),
    *[(core, ["pystreams.broker", "pystreams.cli"], "streams core does not import the broker")
      for core in CORE if core != "pystreams.runtime"],
    # docs/adr/0004-streams-assignor.md: the runtime runs the group protocol itself with the sans-IO codec
    ("pystreams.runtime", ["pystreams.broker", "pystreams.cli"], "the runtime may import pystreams.broker.protocol "
     "(the sans-IO codec) and nothing else of the broker"),
    ("pystreams.broker", CORE + ["pystreams.cli", "pystreams.adapters"],
     "the broker does not import streams core"),
    ("pystreams.adapters", ["pystreams.dsl", "pystreams.runtime", "pystreams.testing",
                            "pystreams.cli", "pystreams.connect", "pystreams.broker"],
     "adapters import only graph, compiler and serdes"),
]


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for prefix, root in SOURCE_ROOTS.items():
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if prefix == "pystreams" and parts and parts[0] in ("broker", "adapters"):
                continue
            found[".".join([prefix, *parts])] = path
    return found


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("pystreams")}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


#: (importing package, imported package) pairs exempt from the rules above: exactly one, see ADR 0004
ALLOWED = [("pystreams.runtime", "pystreams.broker.protocol")]


def _allowed(module: str, name: str) -> bool:
    return any(_within(module, src) and _within(name, dst) for src, dst in ALLOWED)


def _violations() -> list[str]:
    problems = []
    for module, path in sorted(_modules().items()):
        for source, forbidden, why in RULES:
            if not _within(module, source):
                continue
            for name in sorted(_imports(module, path)):
                if _allowed(module, name):
                    continue
                hits = [f for f in forbidden if _within(name, f) and not _within(module, f)]
                problems += [f"{module} imports {name}: {why}" for _ in hits[:1]]
    return problems


@pytest.mark.unit
def test_design_dependency_rules_hold() -> None:
    assert _violations() == []


@pytest.mark.unit
def test_the_checker_sees_the_mapped_roots_and_catches_a_violation(tmp_path: Path) -> None:
    modules = _modules()
    assert "pystreams.broker" in modules and "pystreams.adapters" in modules
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from pystreams.dsl import x\n    import pystreams.broker.log\n")
    assert _imports("pystreams.broker.protocol.bad", bad) >= {"pystreams.dsl", "pystreams.broker.log"}


@pytest.mark.unit
def test_the_runtime_may_import_the_codec_and_nothing_else_of_the_broker() -> None:
    """ADR 0004: pystreams.runtime -> pystreams.broker.protocol is the one allowed crossing."""
    assert _allowed("pystreams.runtime.group.client", "pystreams.broker.protocol")
    assert _allowed("pystreams.runtime.group.client", "pystreams.broker.protocol.codec")
    for other in ("pystreams.broker", "pystreams.broker.server.embedded", "pystreams.broker.coordinator",
                  "pystreams.broker.protocolx"):
        assert not _allowed("pystreams.runtime.group.client", other)
    assert not _allowed("pystreams.state.store", "pystreams.broker.protocol")
    assert not _allowed("pystreams.dsl.kstream", "pystreams.broker.protocol")
