"""The register as an import's validation sees it: the kinds, properties and outgoing links
of the CIs a file names (``cmdb.graph.imports`` reads them)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterable

from cmdb.graph import Graph
from cmdb.graph import imports as graph_imports
from cmdb.graph.vocabulary import Vocabulary


class GraphRegister:
    """The register as validation sees it: kinds, properties and outgoing links of the CIs
    a file names. With ``prefetch`` the whole register is read in the background while the
    file is being read and validated (cheaper than key lookups when the file covers much of
    the register)."""

    def __init__(self, graph: Graph, prefetch: bool = False):
        self.graph = graph
        self.cis: dict[str, graph_imports.Existing] = {}
        self._everything: Future | None = None
        if prefetch:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-snapshot")
            self._everything = self._pool.submit(graph_imports.snapshot_all, graph)
            self._pool.shutdown(wait=False)

    def kinds_of(self, keys: Iterable[str]) -> dict[str, str]:
        if self._everything is not None:
            self.cis = self._everything.result()
        else:
            self.cis.update(graph_imports.snapshot_by_keys(self.graph, list(keys)))
        return {k: ci.kind for k, ci in self.cis.items()}

    def locations(self) -> list[tuple[str, str | None, str | None]]:
        if self._everything is not None:
            return [(k, ci.properties.get("name"),
                     next((to for t, to in ci.out if t == "LOCATED_IN"), None))
                    for k, ci in self._everything.result().items() if ci.kind == "Location"]
        return graph_imports.location_tree(self.graph)

    def vocabulary(self) -> Vocabulary:
        return self.graph.vocabulary()

    def close(self) -> None:
        if self._everything is not None:
            self._everything.result()
