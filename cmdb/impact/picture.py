"""A picture of an impact analysis as SVG, written by hand.

Layered by distance: the changed CIs on the left, each step further from the change one
column to the right; a tall layer wraps into several columns. Each affected CI is joined to
the CI its explanation path goes through, so following the lines leftwards explains the
state. Every text is XML-escaped; the drawing holds no scripts or links.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from cmdb.impact.text_width import FONT_FAMILY, fit, text_width
from cmdb.i18n import _
from cmdb.i18n.names import impact_state_name, kind_name, relationship_name

MAX_NODES = 300
PER_COLUMN = 40
BOX_H, BOX_PAD = 30, 7
MIN_BOX_W, MAX_BOX_W = 120, 260
COL_GAP, ROW_GAP = 56, 8
MARGIN, HEADER = 20, 88
LABEL_SIZE, DETAIL_SIZE, TITLE_SIZE, LEGEND_SIZE = 11, 10, 14, 11

FILL = {"changed": "#5b3fa8", "down": "#c62828", "degraded": "#ef8f00"}
REL_COLOUR = {"RUNS_ON": "#1565c0", "DEPENDS_ON": "#6a1b9a", "LOCATED_IN": "#546e7a",
              "RUNS_IMAGE": "#2e7d32", "CONNECTED_TO": "#ad1457"}



def _state_words() -> dict[str, str]:
    """The legend's words for the states, in the current language."""
    return {"changed": impact_state_name("changed"), "down": impact_state_name("down"),
            "degraded": _("degraded (redundant)")}
_STATE_ORDER = {"changed": 0, "down": 1, "degraded": 2}


def _text(x: float, y: float, content: str, **attrs: Any) -> str:
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(str(v))}" for k, v in attrs.items())
    return f'<text x="{x:.0f}" y="{y:.0f}"{extra}>{escape(content)}</text>'


def _box_lines(node: dict[str, Any]) -> tuple[str, str]:
    """The two lines of a CI's box, each cut to the widest box."""
    label = node["key"] + (f" · {node['name']}" if node.get("name") else "")
    room = MAX_BOX_W - 2 * BOX_PAD
    return (fit(label, LABEL_SIZE, room, bold=True),
            fit(f"{kind_name(node['kind'])} · {impact_state_name(node['state'])}", DETAIL_SIZE, room))


def _box_width(lines: tuple[str, str]) -> float:
    widest = max(text_width(lines[0], LABEL_SIZE, bold=True), text_width(lines[1], DETAIL_SIZE))
    return max(MIN_BOX_W, math.ceil(widest + 2 * BOX_PAD))


def render_svg(result: dict[str, Any], max_nodes: int = MAX_NODES) -> str:
    """SVG for the result of ``cmdb.impact.service.impact``.

    Box widths come from the measured text, so every text stays inside its box and the
    drawing inside its viewBox; the page scales the drawing to its width.
    """
    nodes = [{**c, "state": "changed", "distance": 0, "path": [{"key": c["key"]}]} for c in result["changed"]]
    affected = sorted(result["affected"], key=lambda a: (a["distance"], _STATE_ORDER[a["state"]], a["key"]))
    shown = affected[:max(0, max_nodes - len(nodes))]
    hidden = len(affected) - len(shown)
    nodes += shown
    lines = {n["key"]: _box_lines(n) for n in nodes}

    layers: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for node in nodes:
        layers[node["distance"]].append(node)
    position: dict[str, tuple[float, float]] = {}
    box_w: dict[str, float] = {}
    x = MARGIN
    tallest = 0
    for distance in sorted(layers):
        # next to the CI each one is explained through, so lines run short and rarely cross
        layer = sorted(layers[distance], key=lambda n: (*_anchor(n, position), _STATE_ORDER[n["state"]],
                                                        n["kind"], n["key"]))
        for start in range(0, len(layer), PER_COLUMN):
            chunk = layer[start:start + PER_COLUMN]
            column_w = max(_box_width(lines[n["key"]]) for n in chunk)
            for row, node in enumerate(chunk):
                position[node["key"]] = (x, HEADER + row * (BOX_H + ROW_GAP))
                box_w[node["key"]] = column_w
            tallest = max(tallest, len(chunk))
            x += column_w + COL_GAP

    changed_keys = ", ".join(c["key"] for c in result["changed"])
    summary = result.get("summary", {}).get("by_state", {})
    title = _("Impact of a change to %(keys)s: %(n)s affected (%(down)s down, %(degraded)s degraded)",
              keys=fit(changed_keys, TITLE_SIZE, 600, bold=True), n=len(affected),
              down=summary.get("down", 0), degraded=summary.get("degraded", 0))
    if hidden:
        title += _("; %(n)s further CIs not drawn", n=hidden)
    legend, legend_w = _legend(MARGIN, 46)
    width = math.ceil(max(x - COL_GAP + MARGIN, MARGIN * 2 + text_width(title, TITLE_SIZE, bold=True),
                          MARGIN * 2 + legend_w))
    height = HEADER + max(tallest, 1) * (BOX_H + ROW_GAP) - ROW_GAP + MARGIN

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="{FONT_FAMILY}" font-size="{LABEL_SIZE}">',
           "<defs>"]
    for rel, colour in REL_COLOUR.items():
        out.append(f'<marker id="arrow-{rel}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{colour}"/></marker>')
    out.append("</defs>")
    out.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    out.append(_text(MARGIN, 24, title, font_size=TITLE_SIZE, font_weight="bold"))
    out.append(legend)

    # Lines first, so boxes cover their ends: each CI -> the next CI on its explanation path.
    for node in nodes:
        path = node["path"]
        if len(path) < 3 or path[2]["key"] not in position:
            continue
        rel, target = path[1]["type"], path[2]["key"]
        x1, y1 = position[node["key"]]
        x2, y2 = position[target]
        sx, sy = x1, y1 + BOX_H / 2
        tx, ty = x2 + box_w[target], y2 + BOX_H / 2
        if tx > sx:  # same wrapped layer drawn to the left: go from the box's right edge
            sx = x1 + box_w[node["key"]]
        bend = max(abs(sx - tx) / 2, 30)
        colour = REL_COLOUR.get(rel, "#777777")
        out.append(f'<path d="M{sx:.0f},{sy:.0f} C{sx - bend:.0f},{sy:.0f} {tx + bend:.0f},{ty:.0f} '
                   f'{tx:.0f},{ty:.0f}" fill="none" stroke="{colour}" stroke-width="1.3" '
                   f'marker-end="url(#arrow-{rel if rel in REL_COLOUR else "RUNS_ON"})">'
                   f"<title>{escape(node['key'])} {escape(rel)} {escape(target)}</title></path>")

    for node in nodes:
        x, y = position[node["key"]]
        label, detail = lines[node["key"]]
        tooltip = (f"{kind_name(node['kind'])} {node['key']}" + (f" ({node['name']})" if node.get("name") else "")
                   + _(": %(state)s, distance %(distance)s", state=impact_state_name(node["state"]),
                       distance=node["distance"]))
        out.append(f'<g><title>{escape(tooltip)}</title>'
                   f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w[node["key"]]:.0f}" height="{BOX_H}" '
                   f'rx="5" fill="{FILL[node["state"]]}"/>')
        out.append(_text(x + BOX_PAD, y + 12, label, fill="#ffffff", font_weight="bold"))
        out.append(_text(x + BOX_PAD, y + 25, detail, fill="#ffffff", font_size=DETAIL_SIZE))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _anchor(node: dict[str, Any], position: dict[str, tuple[float, float]]) -> tuple[float, float]:
    path = node["path"]
    if len(path) >= 3 and path[2]["key"] in position:
        return position[path[2]["key"]]
    return (float("inf"), float("inf"))


def _legend(x: float, y: float) -> tuple[str, float]:
    """The states on one line, the relationship types under it; and the wider line's width."""
    parts = []
    left, widest = x, 0.0
    state_words = _state_words()
    for state, colour in FILL.items():
        parts.append(f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="12" height="12" rx="2" fill="{colour}"/>')
        parts.append(_text(x + 16, y, state_words[state], font_size=LEGEND_SIZE))
        x += 16 + text_width(state_words[state], LEGEND_SIZE) + 22
    widest = x - left
    x, y = left, y + 20
    for rel, colour in REL_COLOUR.items():
        parts.append(f'<line x1="{x:.0f}" y1="{y - 4:.0f}" x2="{x + 22:.0f}" y2="{y - 4:.0f}" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts.append(_text(x + 26, y, relationship_name(rel), font_size=LEGEND_SIZE))
        x += 26 + text_width(relationship_name(rel), LEGEND_SIZE) + 22
    return "".join(parts), max(widest, x - left) - 22
