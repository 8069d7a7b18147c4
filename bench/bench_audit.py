"""Audit benchmark: 100,000 expected assets against 100,000 scans on the embedded engine.

Builds N hardware items in racks (2 sites x 5 buildings x 10 rooms x 10 racks), starts a
campaign over the whole estate, writes a scanner CSV of N scans (most where registered, some
at the room level, some moved, some by serial number, some unknown tags, some assets
never scanned), imports it, imports it again (adds nothing), and reconciles.

Targets (issue 7): reconciliation < 10 s, a 100,000-scan file imported < 30 s, on a 2-core
machine.

    .venv/bin/python bench/bench_audit.py [--assets 100000] [--reports] [--close]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmdb.audit import service  # noqa: E402
from cmdb.graph import CIInput, Graph, Link  # noqa: E402
from cmdb.settings import Settings  # noqa: E402

SITES, BUILDINGS, ROOMS, RACKS = 2, 5, 10, 10


def timed(label: str, fn):
    """Wall time, and the CPU time of this process (Python and the engine's JVM together),
    which is what an idle machine would need; the load average shows how busy it was."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:<44} {elapsed:8.2f} s wall {used:8.2f} s CPU   load {os.getloadavg()[0]:5.1f}",
          flush=True)
    return result, elapsed


def build(graph: Graph, n_assets: int, write: bool = True) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Locations and N in-use servers; returns (rack keys, asset -> rack, asset -> serial)."""
    places: list[CIInput] = []
    links: list[Link] = []
    racks: list[str] = []
    for s in range(SITES):
        site = f"S{s}"
        places.append(CIInput(site, "Location", {"type": "site", "name": f"Site {s}"}))
        for b in range(BUILDINGS):
            building = f"{site}-B{b}"
            places.append(CIInput(building, "Location", {"type": "building", "name": f"Building {b}"}))
            links.append(Link(building, "LOCATED_IN", site))
            for r in range(ROOMS):
                room = f"{building}-R{r}"
                places.append(CIInput(room, "Location", {"type": "room", "name": f"Room {r}"}))
                links.append(Link(room, "LOCATED_IN", building))
                for k in range(RACKS):
                    rack = f"{room}-K{k}"
                    places.append(CIInput(rack, "Location", {"type": "rack", "name": f"Rack {k}"}))
                    links.append(Link(rack, "LOCATED_IN", room))
                    racks.append(rack)
    rnd = random.Random(3)
    hardware: list[CIInput] = []
    where: dict[str, str] = {}
    serials: dict[str, str] = {}
    for i in range(n_assets):
        key = f"{i:07d}"
        serial = f"SN{i:09d}"
        rack = racks[i % len(racks)]
        hardware.append(CIInput(key, "Hardware", {"name": f"server {i}", "category": "server",
                                                  "status": rnd.choice(["in_use", "in_use", "in_stock"]),
                                                  "serial": serial}))
        links.append(Link(key, "LOCATED_IN", rack))
        where[key] = rack
        serials[key] = serial
    if write:
        graph.upsert_cis(places + hardware, actor="bench")
        graph.link_many(links, actor="bench")
    return racks, where, serials


def scanner_file(path: Path, racks: list[str], where: dict[str, str], serials: dict[str, str],
                 n_scans: int) -> dict[str, int]:
    """N scans: 2% never scanned (missing), 3% moved, 5% scanned at room level, 1% by serial,
    2% unknown tags, 1% scanned twice at the same place; the rest where registered."""
    rnd = random.Random(5)
    keys = list(where)
    plan = {"missing": 0, "moved": 0, "room": 0, "serial": 0, "unknown": 0, "repeat": 0, "in_place": 0}
    rows: list[str] = ["资产编号,位置,盘点时间,盘点人"]
    written = 0
    for i, key in enumerate(keys):
        if written >= n_scans:
            break
        roll = i % 100
        rack = where[key]
        stamp = f"2026-11-21 {8 + i % 10:02d}:{i % 60:02d}:{(i // 60) % 60:02d}"
        if roll < 2:
            plan["missing"] += 1
            continue
        if roll < 5:
            plan["moved"] += 1
            rows.append(f"{key},{rnd.choice(racks)},{stamp},walker{i % 7}")
        elif roll < 10:
            plan["room"] += 1
            rows.append(f"{key},{rack.rsplit('-', 1)[0]},{stamp},walker{i % 7}")
        elif roll < 11:
            plan["serial"] += 1
            rows.append(f"{serials[key]},{rack},{stamp},walker{i % 7}")
        elif roll < 13:
            plan["unknown"] += 1
            rows.append(f"X{i:07d},{rack},{stamp},walker{i % 7}")
        elif roll < 14:
            plan["repeat"] += 1
            rows.append(f"{key},{rack},{stamp},walker{i % 7}")
            rows.append(f"{key},{rack},{stamp[:-2]}59,walker{i % 7}")
            written += 1
        else:
            plan["in_place"] += 1
            rows.append(f"{key},{rack},{stamp},walker{i % 7}")
        written += 1
    # Pad to exactly N scans with repeat scans of assets where they are.
    while written < n_scans:
        key = keys[written % len(keys)]
        rows.append(f"{key},{where[key]},2026-11-22 07:00:{written % 60:02d},late{written}")
        written += 1
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--scans", type=int, default=None, help="default: as many as assets")
    parser.add_argument("--reports", action="store_true", help="also time the XLSX/HTML/CSV reports")
    parser.add_argument("--close", action="store_true", help="also time closing with corrections")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the engine's data here; a second run reuses the loaded estate")
    args = parser.parse_args()
    n_scans = args.scans or args.assets

    work = Path(tempfile.mkdtemp(prefix="cmdb-bench-audit-"))
    graph = Graph.connect(Settings(data_dir=args.data_dir or work / "data", engine_heap="3g"))
    print(f"engine: {graph.description}; {args.assets:,} assets, {n_scans:,} scans; {os.cpu_count()} CPUs")
    loaded = graph.counts()["kinds"]["Hardware"] == args.assets
    (racks, where, serials), _ = timed(f"load {args.assets:,} hardware + locations"
                                       + (" (already loaded)" if loaded else ""),
                                       lambda: build(graph, args.assets, write=not loaded))
    campaign, _ = timed("start campaign (snapshot the whole estate)",
                        lambda: service.start_campaign(graph, "bench", actor="bench"))
    print(f"  expected {campaign.expected_count:,}, away {campaign.away_count:,}")
    path = work / "scans.csv"
    plan = scanner_file(path, racks, where, serials, n_scans)
    print(f"  scanner file {path.stat().st_size / 1e6:.1f} MB: {plan}")
    first, t_import = timed(f"import {n_scans:,}-scan file",
                            lambda: service.import_scans(graph, campaign.id, path, actor="bench", name=path.name))
    print(f"  {first}")
    again, t_reimport = timed("import the same file again",
                              lambda: service.import_scans(graph, campaign.id, path, actor="bench", name=path.name))
    print(f"  added {again['added']}, already recorded {again['already_recorded']:,}")
    times = []
    for attempt in range(3):
        result, t = timed(f"reconcile (run {attempt + 1})", lambda: service.reconcile_campaign(graph, campaign.id))
        times.append(t)
    summary = result["summary"]
    print(f"  counts {summary['counts']}; verified {summary['verified']:,} of {summary['expected']:,} "
          f"({summary['verified_percent']}%), scans {summary['scans']:,}")
    if args.reports:
        from cmdb.audit.reports import write_report
        for fmt in ("xlsx", "html", "csv"):
            timed(f"report .{fmt}", lambda fmt=fmt: write_report(result, work / f"report.{fmt}"))
    if args.close:
        closed, _ = timed("close with --apply-relocations --mark-missing", lambda: service.close_campaign(
            graph, service.get_campaign(graph, campaign.id), actor="bench", settings=Settings(),
            apply_relocations=True, mark_missing=True))
        print(f"  relocated {len(closed['relocated']):,}, marked missing {len(closed['marked_missing']):,}, "
              f"audited {closed['audited']:,}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:,.0f} MB")
    print(f"RESULT import {t_import:.1f} s (target < 30), re-import {t_reimport:.1f} s, "
          f"reconcile best {min(times):.1f} s / worst {max(times):.1f} s (target < 10)")
    graph.close()


if __name__ == "__main__":
    main()
