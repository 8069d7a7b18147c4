"""A synthetic estate of N CIs with a realistic shape, for benchmarks.

Sites hold buildings, buildings rooms, server rooms racks. Servers sit in racks and hang off a
top-of-rack switch; PCs, printers and cameras sit in office rooms behind an access switch.
Every device is built from one of a few standard images. Applications run on one to three
hosts (clusters have ``min_hosts``) and depend on one or two earlier applications.
Roughly 2.2 relationships per CI, as in the estates described in DESIGN.md.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmdb.graph import CIInput, Graph, Link  # noqa: E402

IMAGES = ["W10-2026", "W11-2026", "RHEL9-2026", "UBU2404-2026", "ESXI8-2026", "NVR-FW-5",
          "RHEL8-2024", "WS2022-2026", "UBU2204-2024", "FW-SW-9"]


def synthetic_estate(n_cis: int, seed: int = 1) -> tuple[list[CIInput], list[Link]]:
    rnd = random.Random(seed)
    cis: list[CIInput] = []
    links: list[Link] = []
    n_apps = max(5, n_cis // 20)

    for key in IMAGES:
        cis.append(CIInput(key, "SoftwareImage", {"name": key, "min_cpu_cores": 2, "min_ram_gb": 8,
                                                  "min_disk_gb": 64}))

    hardware: list[str] = []
    servers: list[str] = []
    site = building = 0
    limit = n_cis - n_apps
    while len(cis) < limit:
        site += 1
        site_key = f"S{site:03d}"
        cis.append(CIInput(site_key, "Location", {"name": f"Site {site}", "type": "site"}))
        for b in range(1, 4):
            building += 1
            b_key = f"{site_key}-B{b}"
            cis.append(CIInput(b_key, "Location", {"name": f"Building {b}", "type": "building"}))
            links.append(Link(b_key, "LOCATED_IN", site_key))
            core = f"{b_key}-CORE"
            cis.append(CIInput(core, "Hardware", {"name": core, "category": "switch", "status": "in_use"}))
            hardware.append(core)
            room_srv = f"{b_key}-R000"
            cis.append(CIInput(room_srv, "Location", {"name": "Server room", "type": "room"}))
            links.append(Link(room_srv, "LOCATED_IN", b_key))
            links.append(Link(core, "LOCATED_IN", room_srv))
            for r in range(1, 5):
                rack = f"{room_srv}-K{r}"
                cis.append(CIInput(rack, "Location", {"name": f"Rack {r}", "type": "rack"}))
                links.append(Link(rack, "LOCATED_IN", room_srv))
                tor = f"{rack}-TOR"
                cis.append(CIInput(tor, "Hardware", {"name": tor, "category": "switch", "status": "in_use"}))
                links += [Link(tor, "LOCATED_IN", rack), Link(tor, "CONNECTED_TO", core)]
                hardware.append(tor)
                for u in range(1, 21):
                    key = f"{rack}-U{u:02d}"
                    cis.append(CIInput(key, "Hardware", {
                        "name": key.lower(), "category": "server", "status": "in_use",
                        "serial": f"SN{rnd.randrange(10**9):09d}", "model": "PowerEdge R750",
                        "cpu_cores": rnd.choice([8, 16, 32]), "ram_gb": rnd.choice([32, 64, 128])}))
                    links += [Link(key, "LOCATED_IN", rack), Link(key, "CONNECTED_TO", tor),
                              Link(key, "RUNS_IMAGE", rnd.choice(IMAGES[2:5]))]
                    hardware.append(key)
                    servers.append(key)
            for room in range(1, 11):
                room_key = f"{b_key}-R{room:03d}"
                cis.append(CIInput(room_key, "Location", {"name": f"Room {room}", "type": "room"}))
                links.append(Link(room_key, "LOCATED_IN", b_key))
                access = f"{room_key}-SW"
                cis.append(CIInput(access, "Hardware", {"name": access, "category": "switch", "status": "in_use"}))
                links += [Link(access, "LOCATED_IN", room_key), Link(access, "CONNECTED_TO", core)]
                hardware.append(access)
                for d in range(1, 41):
                    category = "pc" if d <= 32 else ("printer" if d <= 34 else "camera")
                    key = f"{room_key}-D{d:02d}"
                    cis.append(CIInput(key, "Hardware", {
                        "name": key.lower(), "category": category,
                        "status": "in_use" if rnd.random() < 0.9 else "in_stock",
                        "serial": f"SN{rnd.randrange(10**9):09d}", "model": "OptiPlex 7010",
                        "ram_gb": rnd.choice([4, 8, 16])}))
                    links += [Link(key, "LOCATED_IN", room_key), Link(key, "CONNECTED_TO", access)]
                    if category == "pc":
                        links.append(Link(key, "RUNS_IMAGE", rnd.choice(IMAGES[:2])))
                    hardware.append(key)
                if len(cis) >= limit:
                    break
            if len(cis) >= limit:
                break
    cis = cis[:limit]
    present = {c.key for c in cis}
    links = [l for l in links if l.from_key in present and l.to_key in present]
    servers = [s for s in servers if s in present] or [h for h in hardware if h in present]

    criticalities = ["vip", "high", "standard", "low"]
    for a in range(1, n_apps + 1):
        key = f"APP-{a:06d}"
        n_hosts = rnd.choice([1, 1, 2, 3])
        props = {"name": f"Application {a}", "criticality": rnd.choice(criticalities)}
        if n_hosts > 1:
            props["min_hosts"] = rnd.randint(1, n_hosts)
        cis.append(CIInput(key, "Application", props))
        for host in rnd.sample(servers, min(n_hosts, len(servers))):
            links.append(Link(key, "RUNS_ON", host))
        for _ in range(rnd.choice([0, 1, 2])):
            if a > 1:
                links.append(Link(key, "DEPENDS_ON", f"APP-{rnd.randint(max(1, a - 200), a - 1):06d}"))
    links = list(dict.fromkeys(links))
    return cis, links


def load_estate(graph: Graph, n_cis: int, seed: int = 1, actor: str = "bench") -> tuple[int, int]:
    cis, links = synthetic_estate(n_cis, seed)
    graph.upsert_cis(cis, actor=actor)
    graph.link_many(links, actor=actor)
    return len(cis), len(links)


if __name__ == "__main__":
    cis, links = synthetic_estate(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    kinds: dict[str, int] = {}
    for c in cis:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    print(len(cis), "CIs", kinds, len(links), "relationships")
