"""The graph layer: the only place that writes Cypher."""

from cmdb.graph.ci import Graph
from cmdb.graph.values import CI, CIInput, Link, LinkResult, Page, UpsertResult

__all__ = ["CI", "CIInput", "Graph", "Link", "LinkResult", "Page", "UpsertResult"]
