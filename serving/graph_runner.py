"""Rasa's model graph run in the calling thread, node after node, without dask's scheduler.

Rasa 3.6 runs its model graph (the NLU pipeline for a message, the policies for each next action) through
`dask.get`, which schedules the ten-odd nodes of each run through queues and callbacks: about 1 ms of a worker's
CPU per turn, a sixth of what the nodes themselves take. `SequentialGraphRunner` computes the same targets from the
same nodes, each node once after the nodes it needs, and returns what dask returns. A need that is neither a node
nor an input reaches the node as its bare name, as dask passes it; the node then reports it as missing.
"""

from __future__ import annotations

from typing import Any

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    """A `DaskGraphRunner` that runs the nodes itself, depth first, in the order of their needs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rasa asks for two sets of targets, the NLU's and the policies': each schema is worked out once.
        self._schemas: dict[tuple[str, ...], GraphSchema] = {}

    def run(self, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> dict[str, Any]:
        """Run the nodes the targets need and return {target's node name: its output}."""
        wanted = tuple(targets or self._graph_schema.target_names)
        schema = self._minimal_schema(wanted)
        done: dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in schema.nodes:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of the input names passed "
                    f"to the `run` method are the same as node names in the graph schema."
                )
            done[name] = (name, value)

        def result(name: str) -> Any:
            if name not in done:
                if name not in schema.nodes:
                    return name
                needs = [result(need) for need in schema.nodes[name].needs.values()]
                done[name] = self._instantiated_nodes[name](*needs)
            return done[name]

        try:
            return dict(result(target) for target in wanted)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    def _minimal_schema(self, targets: tuple[str, ...]) -> GraphSchema:
        if targets not in self._schemas:
            self._schemas[targets] = self._graph_schema.minimal_graph_schema(list(targets))
        return self._schemas[targets]


def install() -> None:
    """Make Rasa's message processor load its models with `SequentialGraphRunner`."""
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]
