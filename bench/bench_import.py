"""Import benchmark: a 100,000-row hardware workbook with Chinese headings plus 500 rack
locations and 20,000 CONNECTED_TO relationships, validated and imported into an empty
embedded engine, then imported again unchanged.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--relationships 20000]

Prints the times and the process's peak resident memory (the embedded engine's JVM runs in
this process, so its heap is included). Targets (issue 5): first import < 60 s, unchanged
re-import < 20 s, peak memory < 2 GB, on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmdb.graph import Graph  # noqa: E402
from cmdb.settings import Settings  # noqa: E402
from importers.plan import Options  # noqa: E402
from importers.service import run_import  # noqa: E402

HEADINGS = ["资产编号", "设备名称", "类型", "状态", "品牌", "型号", "序列号", "购置日期", "保修截止",
            "内存", "硬盘", "所属部门", "存放地点"]
CATEGORIES = ["服务器", "交换机", "台式机", "笔记本", "打印机", "摄像头", "storage", "nvr"]
STATUSES = ["在用", "库存", "维修", "in_use", "报废"]
VENDORS = ["Dell", "HP", "Lenovo", "华为", "H3C", "Hikvision"]


CUSTOM_HEADINGS = ["资产负责人电话", "机柜U数"]  # --custom-fields: a text and an integer custom field


def make_workbook(path: Path, rows: int, relationships: int, racks: int = 500,
                  custom_fields: bool = False) -> None:
    rng = random.Random(7)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    loc = wb.add_worksheet("位置")
    loc.write_row(0, 0, ["编号", "名称", "类型"])
    for r in range(racks):
        loc.write_row(r + 1, 0, [f"RACK-{r:04d}", f"机柜 {r}", "机柜"])
    hw = wb.add_worksheet("硬件")
    hw.write_row(0, 0, HEADINGS + (CUSTOM_HEADINGS if custom_fields else []))
    for i in range(rows):
        hw.write_string(i + 1, 0, f"{i:07d}")
        hw.write_string(i + 1, 1, f"设备 {i}")
        hw.write_string(i + 1, 2, CATEGORIES[i % len(CATEGORIES)])
        hw.write_string(i + 1, 3, STATUSES[i % len(STATUSES)])
        hw.write_string(i + 1, 4, VENDORS[i % len(VENDORS)])
        hw.write_string(i + 1, 5, f"M-{i % 97}")
        hw.write_string(i + 1, 6, f"SN{rng.randrange(10**9):09d}")
        hw.write_number(i + 1, 7, 43000 + i % 2000)          # Excel serial date
        hw.write_string(i + 1, 8, f"2029/{1 + i % 12}/{1 + i % 28}")
        hw.write_string(i + 1, 9, f"{8 * (1 + i % 8)}GB")
        hw.write_number(i + 1, 10, 256 * (1 + i % 4))
        hw.write_string(i + 1, 11, f"部门{i % 40}")
        hw.write_string(i + 1, 12, f"RACK-{i % racks:04d}")
        if custom_fields:
            hw.write_string(i + 1, 13, f"1380013{i % 10000:04d}")
            hw.write_number(i + 1, 14, 1 + i % 4)
    rel = wb.add_worksheet("关系")
    rel.write_row(0, 0, ["from", "type", "to"])
    for j in range(relationships):
        a = j % rows
        b = (a + 1 + j // rows) % rows
        rel.write_row(j + 1, 0, [f"{a:07d}", "CONNECTED_TO", f"{b:07d}"])
    wb.close()


def cpu_seconds() -> float:
    """CPU time of this process, the embedded engine's JVM included: less sensitive to other
    work on the machine than wall-clock time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=20_000)
    parser.add_argument("--heap", default=None, help="engine JVM heap, e.g. 1g (default CMDB_ENGINE_HEAP)")
    parser.add_argument("--custom-fields", action="store_true",
                        help="two more columns, imported as new custom fields (--new-fields)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cmdb-bench-import-") as tmp:
        book = Path(tmp) / "register.xlsx"
        t = time.perf_counter()
        make_workbook(book, args.rows, args.relationships, custom_fields=args.custom_fields)
        print(f"workbook: {args.rows:,} hardware rows, 500 racks, {args.relationships:,} relationships, "
              f"{book.stat().st_size / 1e6:.1f} MB, written in {time.perf_counter() - t:.1f} s")
        settings = Settings(data_dir=Path(tmp) / "data", neo4j_uri=None,
                            max_upload_bytes=500_000_000,
                            **({"engine_heap": args.heap} if args.heap else {}))
        t = time.perf_counter()
        graph = Graph.connect(settings)
        print(f"engine start: {time.perf_counter() - t:.1f} s")
        try:
            for label in ("first import", "unchanged re-import"):
                t = time.perf_counter()
                cpu = cpu_seconds()
                phases: dict[str, float] = {}
                started: dict[str, float] = {}

                def progress(phase: str, done: int, total: int) -> None:
                    now = time.perf_counter()
                    started.setdefault(phase, now)
                    if done >= total:
                        phases[phase] = now - started[phase]

                result = run_import(graph, [(book.name, book)], options=Options(new_fields=args.custom_fields), settings=settings,
                                    actor="bench", progress=progress)
                elapsed = time.perf_counter() - t
                cpu = cpu_seconds() - cpu
                d = result.as_dict()
                assert not d["errors"], d["errors"][:5]
                assert all(s["adds_up"] for s in d["sheets"])
                print(f"{label}: {elapsed:.1f} s ({cpu:.1f} s CPU, load average "
                      f"{os.getloadavg()[0]:.1f}) — created {d['created']:,}, updated {d['updated']:,}, "
                      f"unchanged {d['unchanged']:,}, relationships created "
                      f"{d['relationships_created']:,}; phases "
                      + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
                      + f"; peak RSS so far {peak_mb():,.0f} MB")
            counts = graph.counts()
            print(f"graph: {counts['kinds']} {counts['relationships']}")
        finally:
            graph.close()
    print(f"peak memory (ru_maxrss, Python + embedded engine JVM): {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
