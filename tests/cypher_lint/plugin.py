"""The ``--lint-cypher`` pytest option: record every query the run sends, lint them at the end.

Errors fail the run (exit status 1 when the tests themselves passed) and are printed with the
query; warnings are listed; the number of queries linted is always printed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from cmdb.graph import query_recording
from tests.cypher_lint import LintReport, LintUnavailable, check_available, lint, read_recordings

RECORD_DIR = pytest.StashKey[Path]()
OUTCOME = pytest.StashKey["tuple[LintReport | None, int, int, float, str | None]"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--lint-cypher", action="store_true",
                     help="record every Cypher query the tests (and the processes they start) "
                          "send, and lint them with Neo4j's Cypher front end at the end")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("lint_cypher"):
        return
    try:
        check_available()
    except LintUnavailable as exc:
        raise pytest.UsageError(f"--lint-cypher: {exc}") from exc
    directory = Path(tempfile.mkdtemp(prefix="cmdb-cypher-queries-"))
    config.stash[RECORD_DIR] = directory
    # Inherited by every process the tests start; cmdb.graph.engine.open_driver installs the
    # recorder in each of them.
    os.environ[query_recording.RECORD_DIR_ENV] = str(directory)
    query_recording.install_if_requested()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    directory = session.config.stash.get(RECORD_DIR, None)
    if directory is None or exitstatus == pytest.ExitCode.INTERRUPTED:
        return
    queries, processes = read_recordings(directory)
    report, failure = None, None
    started = time.monotonic()
    try:
        report = lint(queries)
    except LintUnavailable as exc:
        failure = str(exc)
    seconds = time.monotonic() - started
    session.config.stash[OUTCOME] = (report, len(queries), processes, seconds, failure)
    if (failure or report.errors) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(RECORD_DIR, None)
    if directory is not None:
        os.environ.pop(query_recording.RECORD_DIR_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    outcome = config.stash.get(OUTCOME, None)
    if outcome is None:
        return
    report, count, processes, seconds, failure = outcome
    tr = terminalreporter
    tr.section("Cypher lint")
    if failure:
        tr.line(f"Cypher lint could not run: {failure}", red=True)
        return
    for title, found, colour in (("error", report.errors, {"red": True}),
                                 ("warning", report.warnings, {"yellow": True})):
        for query, d in found:
            tr.line(f"{title} at line {d.line}, column {d.column}: {d.message}", **colour)
            tr.line(textwrap.indent(query.text.strip("\n"), "    "))
            if query.parameters:
                tr.line(f"    parameters: {', '.join(sorted(query.parameters))}")
    tr.line(f"Cypher lint (@neo4j-cypher/language-support {report.version}): {count} distinct "
            f"queries from {processes} processes, {len(report.errors)} errors, "
            f"{len(report.warnings)} warnings ({seconds:.0f} s)",
            red=bool(report.errors), yellow=bool(report.warnings) and not report.errors,
            green=not report.errors and not report.warnings)
