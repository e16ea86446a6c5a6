"""`pystreams describe app.py`: print an app's topology as Kafka's describe() text, Mermaid or DOT."""
from __future__ import annotations

import enum
import runpy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from pystreams.errors import PystreamsError

if TYPE_CHECKING:  # imported when used: `pystreams version` / `broker start` / `topics` do not load the compiler
    from pystreams.compiler import Topology


class Format(str, enum.Enum):
    """Output formats."""

    text = "text"
    mermaid = "mermaid"
    dot = "dot"


def find_topology(namespace: dict[str, Any], config: dict[str, Any] | None = None) -> Topology:
    """The app's Topology: a module-level Topology, KafkaStreams (.topology) or StreamsBuilder."""
    from pystreams.compiler import Topology
    from pystreams.dsl import StreamsBuilder

    topologies = [v for k, v in namespace.items() if isinstance(v, Topology) and not k.startswith("_")]
    if not topologies:
        topologies = [getattr(v, "topology") for v in namespace.values()
                      if isinstance(getattr(v, "topology", None), Topology) and not isinstance(v, type)]
    if not topologies:
        builders = [v for v in namespace.values() if isinstance(v, StreamsBuilder)]
        if len(builders) == 1:
            built: Topology = builders[0].build(config)
            return built
        if builders:
            raise PystreamsError(f"The script defines {len(builders)} StreamsBuilders at module level "
                                 "and no Topology; build the one to describe into a global "
                                 "(e.g. `topology = builder.build()`).")
    unique = list({id(t): t for t in topologies}.values())
    if len(unique) == 1:
        return unique[0]
    if not unique:
        raise PystreamsError("No Topology, KafkaStreams or StreamsBuilder found at module level of the "
                             "script; assign one to a global variable (e.g. `topology = builder.build()`).")
    raise PystreamsError(f"The script defines {len(unique)} topologies at module level; keep one.")


def describe(app: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="APP", help="The Python script."),
             format: Format = typer.Option(Format.text, "--format", "-f", metavar="FORMAT",
                                           help="text (Kafka's TopologyDescription), mermaid or dot"),
             optimize: Optional[str] = typer.Option(None, "--optimize", metavar="all|none",
                                                    help="topology.optimization when the script only has "
                                                    "a StreamsBuilder")) -> None:
    """Print the topology of APP (Kafka Streams' TopologyDescription text, Mermaid or Graphviz DOT)."""
    from pystreams.runtime.kafka_streams import refusing_start

    try:
        with refusing_start("the script calls KafkaStreams.start() when imported: `pystreams describe` only reads "
                            "its topology; move start() under `if __name__ == \"__main__\":`"):
            namespace = runpy.run_path(str(app), run_name="__pystreams_describe__")
        config = {"topology.optimization": optimize} if optimize else None
        topology = find_topology(namespace, config)
    except PystreamsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if format is Format.mermaid:
        typer.echo(topology.to_mermaid(), nl=False)
    elif format is Format.dot:
        typer.echo(topology.to_dot(), nl=False)
    else:
        typer.echo(str(topology.describe()), nl=False)
