"""Plain data for templates: a CI as the pages show it (no template ever sees a driver object)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmdb.graph import CI, Graph
from cmdb.graph.vocabulary import Vocabulary
from cmdb.i18n import _, current_language
from cmdb.i18n.formats import sort_by_name
from cmdb.graph.values import path_text as location_path_text

CARD_FIELDS = ("name", "category", "type", "model", "serial", "status", "vendor", "hostname",
               "criticality", "version", "os")


@dataclass
class CIView:
    key: str
    kind: str
    name: str
    properties: dict[str, Any]
    location_path: list[dict[str, Any]] = field(default_factory=list)

    @property
    def location_key(self) -> str | None:
        return self.location_path[-1]["key"] if self.location_path else None

    @property
    def location_text(self) -> str:
        return path_text(self.location_path)


def path_text(path: list[dict[str, Any]]) -> str:
    return location_path_text(path, " › ") if path else _("not registered")


def ci_view(ci: CI, path: list[dict[str, Any]] | None = None) -> CIView:
    return CIView(ci.key, ci.kind, str(ci.name or ""), dict(ci.properties), list(path or []))


def ci_views(graph: Graph, cis: list[CI], *, with_paths: bool = True) -> list[CIView]:
    paths = graph.location_paths([c.key for c in cis]) if with_paths and cis else {}
    return [ci_view(c, paths.get(c.key)) for c in cis]


def location_choices(graph: Graph, q: str | None, limit: int = 20) -> list[dict[str, Any]]:
    """Locations matching ``q`` with their containment path, for the location picker, in the
    reader's name order (pinyin in Simplified Chinese, strokes in Traditional)."""
    page = graph.list_cis(kind="Location", q=q, limit=limit)
    paths = graph.location_paths([c.key for c in page.items]) if page.items else {}
    choices = [{"key": c.key, "name": c.name or c.key, "type": c.properties.get("type"),
                "path": path_text(paths.get(c.key, []) + [{"key": c.key, "name": c.name}])}
               for c in page.items]
    return sort_by_name(choices, lambda choice: choice["path"])


def _language() -> str:
    """The current page language as the vocabulary's records name it (zh_CN -> zh-CN)."""
    return current_language().replace("_", "-")


def property_labels(words: Vocabulary, kind: str) -> dict[str, str]:
    """What a page calls a kind's custom fields: their display names in the page's language."""
    language = _language()
    return {f.name: f.names.get(language) or f.names.get("en") or f.name
            for f in words.fields.get(kind, {}).values()}


def register_category_names(words: Vocabulary) -> dict[str, str]:
    """The register's categories by their records' display names in the page's language (the
    catalogue's name is the fallback, see ``cmdb.i18n.names.category_name``)."""
    language = _language()
    return {key: term.names.get(language) or term.names.get("en") or ""
            for key, term in words.categories.items()}
