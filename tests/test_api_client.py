"""A client generated from the live server's OpenAPI document (openapi-python-client, into a
temporary directory, never shipped) creates CIs, links them, reads one back and asks for the
impact: what an integrator would do with the document alone."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx

from cmdb.graph.tokens import create_token
from tests.test_api_contract import demo_server  # noqa: F401  (the live server fixture)

GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")
PACKAGE = "cmdb_generated_client"
# The generator has no reader for these media types; they are files, as the document says.
BINARY_TYPES = ["image/png", "image/svg+xml", "application/x-zpl", "application/pdf",
                "application/gzip", "text/csv; charset=utf-8", "text/html; charset=utf-8",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]


def generate_client(base: str, where: Path):
    where.mkdir()
    document = where / "openapi.json"
    document.write_text(json.dumps(httpx.get(f"{base}/openapi.json", timeout=30).json()))
    config = where / "config.json"
    config.write_text(json.dumps({
        "package_name_override": PACKAGE, "project_name_override": "cmdb-generated-client",
        "post_hooks": [],
        "content_type_overrides": {t: "application/octet-stream" for t in BINARY_TYPES}}))
    result = subprocess.run([GENERATOR, "generate", "--path", str(document), "--config", str(config),
                             "--meta", "none", "--output-path", str(where / PACKAGE)],
                            capture_output=True, text=True, timeout=300, cwd=where)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every operation of the document became a function of the client.
    assert "will not be generated" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))


def test_generated_client_creates_reads_links_and_asks_the_impact(demo_server, tmp_path):  # noqa: F811
    base, graph = demo_server
    client_package = generate_client(base, tmp_path / "client")
    from cmdb_generated_client import AuthenticatedClient
    from cmdb_generated_client.api.cis import create_ci, get_ci
    from cmdb_generated_client.api.impact import impact
    from cmdb_generated_client.api.relationships import link
    from cmdb_generated_client.models import (
        ApplicationCreate, ApplicationProperties, CIOut, ErrorBody, HardwareCreate, HardwareProperties,
        HardwarePropertiesStatusType0, ImpactRequest, ImpactResponse, LinkOut, RelationshipIn,
        RelationshipInType,
    )

    assert client_package.__name__ == PACKAGE
    client = AuthenticatedClient(base_url=base, token=create_token(graph, "integrator", "admin"))
    with client:
        server = create_ci.sync(client=client, body=HardwareCreate(
            key="GEN-SRV-1", kind="Hardware",
            properties=HardwareProperties(name="Generated server", ram_gb=64.0, cpu_cores=16,
                                          status=HardwarePropertiesStatusType0.IN_USE)))
        assert isinstance(server, CIOut), server
        app = create_ci.sync(client=client, body=ApplicationCreate(
            key="GEN-APP-1", kind="Application",
            properties=ApplicationProperties(name="Generated app", min_hosts=1)))
        assert isinstance(app, CIOut), app
        linked = link.sync(client=client, body=RelationshipIn(
            from_="GEN-APP-1", type_=RelationshipInType.RUNS_ON, to="A-101"))
        # An application runs on hardware, not in a room: the answer is the documented error body.
        assert isinstance(linked, ErrorBody) and linked.error.code == "forbidden_relationship"
        linked = link.sync(client=client, body=RelationshipIn(
            from_="GEN-APP-1", type_=RelationshipInType.RUNS_ON, to="GEN-SRV-1"))
        assert isinstance(linked, LinkOut) and linked.created is True

        read = get_ci.sync("GEN-SRV-1", client=client)
        assert isinstance(read, CIOut)
        assert (read.key, read.kind.value, read.revision) == ("GEN-SRV-1", "Hardware", 1)
        stored = read.properties.to_dict()
        assert {k: stored[k] for k in ("name", "ram_gb", "cpu_cores", "status")} == \
            {"name": "Generated server", "ram_gb": 64, "cpu_cores": 16, "status": "in_use"}

        result = impact.sync(client=client, body=ImpactRequest(keys=["GEN-SRV-1"]))
        assert isinstance(result, ImpactResponse), result
        assert [c.key for c in result.changed] == ["GEN-SRV-1"]
        assert {(a.key, a.state, a.distance) for a in result.affected} == {("GEN-APP-1", "down", 1)}
        assert result.summary.total == 1
