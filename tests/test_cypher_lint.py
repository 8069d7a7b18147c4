"""The Cypher lint (``pytest --lint-cypher``): queries are recorded in every process the tests
start, Neo4j's front end reports what Neo4j would reject or deprecate, and an error fails the
run with the query and the message."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from cmdb.graph import import_runs, query_recording, schema, vocabulary
from cmdb.graph.links import RELATIONSHIPS_OF
from tests.cypher_lint import Query, lint, read_recordings

REPO = Path(__file__).resolve().parent.parent

# What connecting to a register that is already set up sends: the schema statements and the
# check that the shipped vocabulary was laid down, and the search for unfinished imports.
CONNECT_QUERIES = ({Query(s) for s in schema.schema_statements()}
                   | {Query(vocabulary.DEFAULTS_LAID), Query(import_runs.OPEN_RUNS)})

UNDEFINED_VARIABLE = "MATCH (n:CI) RETURN m.key AS key"
OLD_CALL_SUBQUERY = "MATCH (n:CI) CALL { WITH n MATCH (n)-->(m) RETURN count(m) AS c } RETURN n.key, c"


def test_the_front_end_reports_errors_and_deprecations():
    key = "MATCH (n:CI {key: $key}) RETURN n.name AS name"
    queries = [Query(UNDEFINED_VARIABLE), Query(key), Query(key, frozenset({"key"})),
               Query(OLD_CALL_SUBQUERY), Query(RELATIONSHIPS_OF, frozenset({"key"}))]

    report = lint(queries)

    found = {q: [(d.severity, d.message, d.line, d.column) for d in ds]
             for q, ds in report.diagnostics.items()}
    assert found == {
        Query(UNDEFINED_VARIABLE): [("error", "Variable `m` not defined", 1, 21)],
        Query(key): [("error", "Parameter $key is not defined.", 1, 19)],
        Query(key, frozenset({"key"})): [],
        Query(OLD_CALL_SUBQUERY): [
            ("warning", "CALL subquery without a variable scope clause is deprecated. "
                        "Use CALL (n) { ... }", 1, 14)],
        Query(RELATIONSHIPS_OF, frozenset({"key"})): [],
    }
    assert report.version == "2.0.0-next.38"


def test_queries_sent_by_a_child_process_are_recorded(embedded_graph, data_dir, tmp_path):
    """A process the tests start records through the environment variable it inherits:
    each distinct query once, with the parameter names it was sent with."""
    child = textwrap.dedent("""
        import sys
        from pathlib import Path
        from neo4j import Query
        from cmdb.graph import Graph
        from cmdb.settings import Settings

        with Graph.connect(Settings(data_dir=Path(sys.argv[1]))) as graph:
            graph.read("RETURN $x AS x", x=1)
            graph.read("RETURN $x AS x", x=2)
            with graph.driver.session(database=graph.database) as session:
                session.run(Query("RETURN $y AS y"), {"y": 1}, z=2).consume()
    """)
    recordings = tmp_path / "queries"
    recordings.mkdir()
    env = {**os.environ, query_recording.RECORD_DIR_ENV: str(recordings)}
    run = subprocess.run([sys.executable, "-c", child, str(data_dir)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr

    queries, processes = read_recordings(recordings)

    assert processes == 1
    assert set(queries) == (CONNECT_QUERIES
                            | {Query("RETURN $x AS x", frozenset({"x"})),
                               Query("RETURN $y AS y", frozenset({"y", "z"}))})
    assert len(queries) == len(set(queries))


def test_a_broken_query_fails_the_run_with_the_query_and_the_message(embedded_graph, data_dir,
                                                                      tmp_path):
    """A test session whose tests all pass but send a query with an undefined variable
    through the driver fails and says which query and why; a deprecated form is listed."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_broken.py").write_text(textwrap.dedent(f"""
        from pathlib import Path

        import pytest
        from neo4j.exceptions import Neo4jError

        from cmdb.graph import Graph
        from cmdb.settings import Settings


        def test_sends_a_broken_and_a_deprecated_query():
            with Graph.connect(Settings(data_dir=Path({str(data_dir)!r}))) as graph:
                with pytest.raises(Neo4jError):
                    graph.read({UNDEFINED_VARIABLE!r})
                graph.read({OLD_CALL_SUBQUERY!r})
    """))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.cypher_lint.plugin",
                          "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "--lint-cypher",
                          "test_broken.py"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    lines = run.stdout.splitlines()
    error = lines.index("error at line 1, column 21: Variable `m` not defined")
    assert lines[error + 1] == f"    {UNDEFINED_VARIABLE}"
    warning = lines.index("warning at line 1, column 14: CALL subquery without a variable scope "
                          "clause is deprecated. Use CALL (n) { ... }")
    assert lines[warning + 1] == f"    {OLD_CALL_SUBQUERY}"
    summary = [line.rsplit(" (", 1)[0] for line in lines if line.startswith("Cypher lint (")]
    assert summary == [
        f"Cypher lint (@neo4j-cypher/language-support 2.0.0-next.38): "
        f"{len(CONNECT_QUERIES) + 2} distinct queries from 1 processes, "
        f"1 errors, 1 warnings"]
