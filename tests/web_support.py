"""Helpers shared by the page tests: a small estate, a token per role, signing in."""

from __future__ import annotations

import re

from cmdb.graph import CIInput, Graph, Link
from cmdb.graph.tokens import ROLES, create_token

XSS_NAME = '<img src=x onerror=alert(1)>'
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def small_estate(graph: Graph) -> None:
    """A site with a building, a room and a rack; a few devices and an application."""
    cis = [
        CIInput("S1", "Location", {"name": "Main site", "type": "site"}),
        CIInput("S1-B", "Location", {"name": "Building B", "type": "building"}),
        CIInput("S1-B-101", "Location", {"name": "Room 101", "type": "room"}),
        CIInput("S1-B-101-R1", "Location", {"name": "Rack R1", "type": "rack"}),
        CIInput("S1-B-202", "Location", {"name": "Room 202", "type": "room"}),
        CIInput("HW-1", "Hardware", {"name": "db server", "category": "server", "status": "in_use",
                                     "model": "PowerEdge R750", "serial": "SN-001"}),
        CIInput("HW-2", "Hardware", {"name": XSS_NAME, "category": "pc", "status": "in_use",
                                     "model": "OptiPlex 7010", "serial": "SN-002"}),
        CIInput("HW-3", "Hardware", {"name": "printer", "category": "printer", "status": "in_use"}),
        CIInput("APP-1", "Application", {"name": "Payroll", "criticality": "high"}),
    ]
    links = [
        Link("S1-B", "LOCATED_IN", "S1"), Link("S1-B-101", "LOCATED_IN", "S1-B"),
        Link("S1-B-101-R1", "LOCATED_IN", "S1-B-101"), Link("S1-B-202", "LOCATED_IN", "S1-B"),
        Link("HW-1", "LOCATED_IN", "S1-B-101-R1"), Link("HW-2", "LOCATED_IN", "S1-B-202"),
        Link("HW-3", "LOCATED_IN", "S1-B-202"), Link("APP-1", "RUNS_ON", "HW-1"),
    ]
    graph.upsert_cis_atomically(cis, links, actor="test")


def role_tokens(graph: Graph) -> dict[str, str]:
    return {role: create_token(graph, f"{role}-user", role, created_by="test") for role in ROLES}


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def sign_in(client, token: str, next_path: str = "/"):
    page = client.get("/signin", params={"next": next_path})
    assert page.status_code == 200
    return client.post("/signin", data={"csrf_token": csrf_from(page.text), "token": token,
                                        "next": next_path}, follow_redirects=False)


def unlabelled_inputs(page: str) -> set[str]:
    """Visible inputs, selects and textareas with no <label for=...> (or an enclosing label)."""
    from html.parser import HTMLParser

    class Scan(HTMLParser):
        def __init__(self):
            super().__init__()
            self.fields: list[str] = []
            self.labelled: set[str] = set()
            self.label_depth = 0

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "label":
                self.label_depth += 1
                if a.get("for"):
                    self.labelled.add(a["for"])
            elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
                if self.label_depth:
                    return
                self.fields.append(a.get("id") or f"<{tag} name={a.get('name')}>")

        def handle_endtag(self, tag):
            if tag == "label":
                self.label_depth -= 1

    scan = Scan()
    scan.feed(page)
    return {f for f in scan.fields if f not in scan.labelled}
