"""The graph layer: the only place that writes Cypher."""

from cmdb.graph.store import CI, CIInput, Graph, Link, LinkResult, Page, UpsertResult

__all__ = ["CI", "CIInput", "Graph", "Link", "LinkResult", "Page", "UpsertResult"]
