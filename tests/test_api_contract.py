"""The OpenAPI document tells the truth: schemathesis (every check, stateful links included)
against a live uvicorn server on the demo estate, as admin, asset_staff and viewer.

Run by hand against any server the same way:
    st --config-file tests/schemathesis.toml run http://127.0.0.1:8000/openapi.json \
        -H "Authorization: Bearer <token>" --checks all --seed 1
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cmdb.api.app import create_app
from cmdb.demo import load_demo
from cmdb.graph.tokens import create_token
from tests.serve_support import app_on_loopback

ST = str(Path(sys.executable).parent / "st")
CONFIG = Path(__file__).parent / "schemathesis.toml"
API_PATHS = r"^/(api/v1/|healthz|version)"
RUN_TIMEOUT = 420


@pytest.fixture
def demo_server(embedded_graph, embedded_settings):
    """The demo estate served by uvicorn, as `cmdb serve` serves it, on a free loopback port."""
    load_demo(embedded_graph, actor="demo")
    app = create_app(embedded_settings, graph=embedded_graph)
    with app_on_loopback(app, "contract-server") as port:
        yield f"http://127.0.0.1:{port}", embedded_graph


# The admin run reaches every operation's logic and takes every phase, the coverage phase's
# boundary values of each schema included. The asset_staff and viewer runs check what the
# document says about roles (403s, nothing accepted that the role may not do) with the examples,
# fuzzing and stateful phases: the coverage phase would only repeat the admin's boundary values.
ALL_PHASES = "examples,coverage,fuzzing,stateful"
ROLE_PHASES = "examples,fuzzing,stateful"


@pytest.mark.parametrize("role, phases", [("admin", ALL_PHASES), ("asset_staff", ROLE_PHASES),
                                          ("viewer", ROLE_PHASES)])
def test_schemathesis_finds_no_failure(demo_server, tmp_path, role, phases):
    base, graph = demo_server
    token = create_token(graph, f"contract-{role}", role)
    command = [ST, "--config-file", str(CONFIG), "--no-color", "run", f"{base}/openapi.json",
               "--checks", "all", "--phases", phases, "--seed", "1",
               "--include-path-regex", API_PATHS, "--request-timeout", "60",
               "-H", f"Authorization: Bearer {token}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                            cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Tested: 95" in output, output
