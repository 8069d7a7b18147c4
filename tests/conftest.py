"""Shared fixtures: a real embedded engine for the whole run, and a real Neo4j when
``CMDB_TEST_NEO4J_URI`` (with ``CMDB_TEST_NEO4J_USER`` / ``CMDB_TEST_NEO4J_PASSWORD``) is set.

Graph tests take the ``graph`` fixture, which is parametrised over every available engine
and empties the database before each test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cmdb.api.app import create_app
from cmdb.graph import Graph
from cmdb.settings import Settings, get_settings
from tests.web_support import role_tokens, small_estate

pytest_plugins = ["tests.cypher_lint.plugin"]

NEO4J_URI = os.environ.get("CMDB_TEST_NEO4J_URI")
ENGINES = ["embedded"] + (["neo4j"] if NEO4J_URI else [])


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cmdb-data")


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(data_dir):
    """Every test, CLI call and app in this run uses the session's data directory."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("CMDB_") and not k.startswith("CMDB_TEST_")}
    for k in saved:
        del os.environ[k]
    os.environ["CMDB_DATA_DIR"] = str(data_dir)
    os.environ["CMDB_BASE_URL"] = "http://cmdb.test"
    # A background engine that a CLI subprocess starts stops soon after the test that used it.
    os.environ["CMDB_ENGINE_IDLE_SECONDS"] = "5"
    get_settings.cache_clear()
    yield
    os.environ.update(saved)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def embedded_settings(data_dir) -> Settings:
    return Settings(data_dir=data_dir, neo4j_uri=None, base_url="http://cmdb.test")


@pytest.fixture(scope="session")
def neo4j_settings() -> Settings | None:
    if not NEO4J_URI:
        return None
    return Settings(neo4j_uri=NEO4J_URI,
                    neo4j_user=os.environ.get("CMDB_TEST_NEO4J_USER", "neo4j"),
                    neo4j_password=os.environ.get("CMDB_TEST_NEO4J_PASSWORD", ""),
                    neo4j_database=os.environ.get("CMDB_TEST_NEO4J_DATABASE") or None,
                    base_url="http://cmdb.test")


_graphs: dict[str, Graph] = {}


def _graph_for(engine: str, embedded_settings: Settings, neo4j_settings: Settings | None) -> Graph:
    if engine not in _graphs:
        settings = embedded_settings if engine == "embedded" else neo4j_settings
        _graphs[engine] = Graph.connect(settings)
    return _graphs[engine]


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    return request.param


@pytest.fixture
def graph(engine_name, embedded_settings, neo4j_settings) -> Graph:
    """An empty graph on each available engine."""
    g = _graph_for(engine_name, embedded_settings, neo4j_settings)
    g.wipe()
    return g


@pytest.fixture
def embedded_graph(embedded_settings, neo4j_settings) -> Graph:
    """An empty graph on the embedded engine only (CLI and server tests share its data dir)."""
    g = _graph_for("embedded", embedded_settings, neo4j_settings)
    g.wipe()
    return g


def pytest_sessionfinish(session, exitstatus):
    for g in _graphs.values():
        g.close()


@pytest.fixture
def cli(embedded_graph):
    """Run ``cmdb`` in this process (typer's runner) on the session's register; raises errors."""
    from typer.testing import CliRunner

    from cmdb.cli import app

    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return run


@pytest.fixture
def estate_app(embedded_graph, embedded_settings):
    """The page tests' small estate behind an in-process app: (client, a token per role)."""
    small_estate(embedded_graph)
    tokens = role_tokens(embedded_graph)
    with TestClient(create_app(embedded_settings, graph=embedded_graph)) as client:
        yield client, tokens
