"""An import written in batches stays all or nothing (cmdb.graph.import_runs): the same result
as one transaction, every batch undone when a later one fails, and an import whose process is
killed with SIGKILL undone by the next process that connects."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cmdb.errors import Conflict, EngineUnavailable
from importers.plan import Options
from importers.service import run_import
from tests.register_dump import dump, labelled
from tests.serve_support import clean_env, stop_background_engine
from tests.spreadsheets import xlsx_bytes as workbook

REPO = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT = 600

SEED = {
    "位置": [["编号", "名称", "类型"], ["RM-1", "一号机房", "机房"], ["RM-2", "二号机房", "机房"]],
    "硬件": [["资产编号", "设备名称", "类别", "状态", "存放地点"],
           *[[f"H{i:03d}", f"服务器 {i}", "服务器", "在用", "RM-1"] for i in range(6)]],
}

# Renames and moves the seeded servers (updates, replaced locations), adds servers of a new
# category and relationships between them.
CHANGE = {
    "硬件": [["资产编号", "设备名称", "类别", "状态", "存放地点"],
           *[[f"H{i:03d}", f"改名服务器 {i}", "服务器", "库存", "RM-2"] for i in range(6)],
           *[[f"N{i:03d}", f"新设备 {i}", "量子计算机", "在用", "RM-2"] for i in range(6)]],
    "关系": [["from", "type", "to"], *[[f"N{i:03d}", "CONNECTED_TO", f"H{i:03d}"] for i in range(6)]],
}


def imp(graph, sheets, settings, **kw):
    return run_import(graph, [("register.xlsx", workbook(sheets))],
                      options=Options(new_categories=True), actor="tester", settings=settings, **kw)


TIMES = ("id", "at", "seq", "created_at", "updated_at")


def without_times(state: dict[str, list[str]]) -> dict[str, list[str]]:
    """History ids and times differ between two imports of the same file; nothing else may."""
    def untimed(props: dict) -> dict:
        props = {k: v for k, v in props.items() if k not in TIMES}
        for side in ("before", "after"):  # a history entry's values, as JSON text
            if isinstance(props.get(side), str):
                props[side] = untimed(json.loads(props[side]))
        return props

    def strip(line: str) -> str:
        item = json.loads(line)
        return json.dumps([*item[:-1], untimed(item[-1])], sort_keys=True, ensure_ascii=False)
    return {part: sorted(strip(line) for line in lines) for part, lines in state.items()}


def test_an_import_in_batches_of_one_row_writes_what_one_batch_writes(graph, embedded_settings):
    one_batch = embedded_settings.model_copy(update={"import_batch_rows": 100_000})
    row_by_row = embedded_settings.model_copy(update={"import_batch_rows": 1})
    results = {}
    for name, settings in (("one batch", one_batch), ("row by row", row_by_row)):
        graph.wipe()
        imp(graph, SEED, settings)
        result = imp(graph, CHANGE, settings)
        results[name] = (result.as_dict()["created"], result.as_dict()["updated"],
                         without_times(dump(graph)))
    assert results["one batch"][:2] == (6, 6)
    assert results["row by row"] == results["one batch"]
    assert labelled(dump(graph), "ImportRun") == labelled(dump(graph), "ImportStep") == []


def test_a_later_batch_that_fails_undoes_the_batches_before_it(graph, embedded_settings):
    """After the first batch has committed, someone else creates a CI the import creates in a
    later batch: that batch fails, and every batch before it is undone with its history, the
    moved locations (with their original stamps) and the new category."""
    settings = embedded_settings.model_copy(update={"import_batch_rows": 2})
    imp(graph, SEED, settings)
    before = dump(graph)
    meanwhile: list[str] = []

    def someone_else(phase: str, done: int, total: int) -> None:
        if phase == "writing" and done and not meanwhile:
            graph.create_ci("Hardware", "N005", {"name": "别人先建的"}, actor="someone")
            meanwhile.append(done)

    with pytest.raises(Conflict) as stopped:
        imp(graph, CHANGE, settings, progress=someone_else)
    assert "created by someone else" in stopped.value.message
    assert meanwhile == [2]
    after = dump(graph)
    theirs = {"nodes": [line for line in after["nodes"] if "N005" in line],
              "relationships": [line for line in after["relationships"] if "N005" in line]}
    assert [json.loads(line)[1]["name"] for line in theirs["nodes"] if '"CI"' in line] == ["别人先建的"]
    assert {part: sorted(set(lines) - set(theirs[part])) for part, lines in after.items()} == before


def test_a_failure_among_the_links_puts_the_old_locations_back(graph, embedded_settings):
    """Batches of two: the CIs, then the links (H000-H005 moved to RM-2, then each new CI's
    two). Before the last batch someone deletes H005, so N005's link to it fails: the moves are
    taken back, each old location link with its original stamps."""
    settings = embedded_settings.model_copy(update={"import_batch_rows": 2})
    imp(graph, SEED, settings)
    before = dump(graph)
    deleted: list[int] = []

    def someone_else(phase: str, done: int, total: int) -> None:
        if phase == "writing" and done == total - 2 and not deleted:
            graph.delete_ci("H005", actor="someone")
            deleted.append(done)

    with pytest.raises(Conflict) as stopped:
        imp(graph, CHANGE, settings, progress=someone_else)
    assert "CONNECTED_TO" in stopped.value.message
    assert deleted == [12 + 16]  # 12 CIs, then 6 moves and 10 of the new CIs' 12 links

    def without_h005(state: dict[str, list[str]]) -> dict[str, list[str]]:
        return {part: [line for line in lines if "H005" not in line] for part, lines in state.items()}
    assert without_h005(dump(graph)) == without_h005(before)
    # H005's history keeps what led to its deletion: the import's update and move of it (its
    # deletion shows those values), then the seed's entries.
    assert [(e.actor, e.action) for e in graph.history("H005", limit=10)[0]] == [
        ("someone", "delete"), ("someone", "unlink"), ("tester", "link"), ("tester", "unlink"),
        ("tester", "update"), ("tester", "link"), ("tester", "create")]


def test_an_import_undone_keeps_a_ci_someone_else_changed_meanwhile(graph, embedded_settings):
    """Batches of two: three of new CIs, then H000-H001, H002-H003, H004-H005 updated. Once
    H000 and H001 are, someone renames H000 and deletes H005, so the last update batch fails."""
    settings = embedded_settings.model_copy(update={"import_batch_rows": 2})
    imp(graph, SEED, settings)

    def entries(key: str) -> list[tuple]:
        return [(e.actor, e.action, e.after) for e in graph.history(key, limit=10)[0]]
    seeded = {key: entries(key) for key in ("H000", "H001")}
    edited: list[int] = []

    def someone_else(phase: str, done: int, total: int) -> None:
        if phase == "writing" and done == 8 and not edited:
            graph.update_ci("H000", {"name": "别人改的"}, actor="someone")
            graph.delete_ci("H005", actor="someone")
            edited.append(done)

    with pytest.raises(Conflict) as stopped:
        imp(graph, CHANGE, settings, progress=someone_else)
    assert "H005" in stopped.value.message
    assert edited == [8]
    hardware = {ci.key: (ci.properties["name"], ci.properties["status"])
                for ci in graph.list_cis(kind="Hardware", limit=50).items}
    # H000 keeps the new name; the status the import wrote is set back, as on H001-H004.
    assert hardware == {"H000": ("别人改的", "in_use"),
                        **{f"H{i:03d}": (f"服务器 {i}", "in_use") for i in range(1, 5)}}
    assert entries("H000") == [
        ("tester", "update", {"status": "in_use"}),
        ("someone", "update", {"name": "别人改的"}),
        ("tester", "update", {"name": "改名服务器 0", "status": "in_stock"}),
        *seeded["H000"]]
    assert entries("H001") == seeded["H001"]
    assert {key: [place["key"] for place in graph.location_path(key)] for key in hardware} \
        == {key: ["RM-1"] for key in hardware}


KILLED_IMPORT = textwrap.dedent("""
    import json, os, signal, sys
    from pathlib import Path
    from cmdb.graph import Graph
    from cmdb.settings import Settings
    from importers.plan import Options
    from importers.service import run_import
    from tests.register_dump import dump

    data_dir, step, book = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    settings = Settings(data_dir=data_dir, import_batch_rows=40)
    if step == "look":
        # First what the killed import left, then connect as any command does (which undoes it).
        with Graph.connect(settings, bootstrap=False, background=True) as graph:
            left = dump(graph)
            graph.bootstrap_schema()
            print(json.dumps({"left": left, "after": dump(graph)}))
        sys.exit(0)

    def kill_after_seven_batches(phase, done, total):
        if phase == "writing" and done >= 280:  # five batches of new CIs, two of updates
            os.kill(os.getpid(), signal.SIGKILL)

    with Graph.connect(settings, background=step == "background") as graph:
        run_import(graph, [(Path(book).name, Path(book))], options=Options(kind="Hardware"),
                   settings=settings, actor="killed", progress=kill_after_seven_batches)
        if step == "seed":
            print(json.dumps(dump(graph)))
    print("not killed" if step != "seed" else "", file=sys.stderr)
""")


def write_csv(path: Path, keys: range, name: str) -> Path:
    lines = ["key,name,category,status"] + [f"K{i:06d},{name} {i},server,in_use" for i in keys]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_child(data_dir: Path, step: str, book: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILLED_IMPORT, str(data_dir), step, str(book)],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=CHILD_TIMEOUT)


@pytest.mark.parametrize("engine", ["in the killed process", "in a background process"])
def test_an_import_killed_mid_write_is_undone_by_the_next_process(tmp_path, engine):
    """The import's own process kills itself (SIGKILL, no clean-up of any kind) once seven
    batches have committed: with the embedded engine inside it (the engine dies too and opens
    its files again next time), or with the engine in a background process that lives on."""
    data_dir = tmp_path / "data"
    env = {**clean_env(data_dir), "CMDB_ENGINE_IDLE_SECONDS": "120" if engine.endswith("background process") else "0"}
    try:
        seeded = run_child(data_dir, "seed", write_csv(tmp_path / "seed.csv", range(200), "旧"), env)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        before = json.loads(seeded.stdout)
        # 200 updates of the seeded CIs and 200 new ones: 10 batches of 40, killed after 7
        book = write_csv(tmp_path / "change.csv", range(400), "新")
        step = "background" if engine.endswith("background process") else "in-process"
        killed = run_child(data_dir, step, book, env)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
        assert "not killed" not in killed.stderr

        looked = run_child(data_dir, "look", book, env)
        assert looked.returncode == 0, looked.stderr[-3000:]
        seen = json.loads(looked.stdout)
        left = seen["left"]
        assert len(labelled(left, "ImportRun")) == 1
        assert len(labelled(left, "ImportStep")) == 7
        cis = [sum('"CI"' in line for line in state["nodes"]) for state in (before, left)]
        assert cis == [200, 400]
        assert seen["after"] == before
    finally:
        stop_background_engine(data_dir)


def test_an_import_that_only_adds_a_field_writes_it(graph, embedded_settings):
    """No CI changes (the new column is empty): the field is written all the same."""
    imp(graph, SEED, embedded_settings)
    blank_column = {"硬件": [SEED["硬件"][0] + ["备注二"]] + [row + [""] for row in SEED["硬件"][1:]]}
    result = run_import(graph, [("more.xlsx", workbook(blank_column))],
                        options=Options(new_fields=True), actor="tester", settings=embedded_settings)
    assert (result.created, result.updated, result.written) == (0, 0, True)
    assert set(graph.vocabulary().fields["Hardware"]) == {"备注二"}
    assert labelled(dump(graph), "ImportRun") == labelled(dump(graph), "ImportStep") == []


def test_a_run_left_while_the_engine_was_down_is_undone_by_the_next_import(graph, embedded_settings):
    """An engine fault stops the import after its first batch: there is no engine to undo it
    with, so the run stays (this process is alive, but no longer writing it); the process's
    next import undoes it first."""
    settings = embedded_settings.model_copy(update={"import_batch_rows": 2})
    imp(graph, SEED, settings)
    before = dump(graph)

    def engine_gone(phase: str, done: int, total: int) -> None:
        if phase == "writing" and done:
            raise EngineUnavailable("the engine stopped")

    with pytest.raises(EngineUnavailable):
        imp(graph, CHANGE, settings, progress=engine_gone)
    left = dump(graph)
    assert len(labelled(left, "ImportStep")) == 1 and len(labelled(left, "ImportRun")) == 1
    assert {json.loads(line)[1]["key"] for line in left["nodes"] if '"CI"' in line} \
        - {json.loads(line)[1]["key"] for line in before["nodes"] if '"CI"' in line} == {"N000", "N001"}
    imp(graph, {"位置": [["编号", "名称", "类型"], ["RM-3", "三号机房", "机房"]]}, settings)
    after = dump(graph)
    assert {part: [line for line in lines if "RM-3" not in line] for part, lines in after.items()} == before
