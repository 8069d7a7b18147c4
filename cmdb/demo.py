"""A realistic demo estate: two sites, buildings, rooms and racks; about 150 devices of mixed
categories (servers, switches, storage, PCs, laptops, printers, cameras and NVRs, UPSs);
six standard images; about 30 applications with dependencies and clustered hosts.

Deterministic, so ``cmdb demo`` can be re-run: the second run changes nothing.
"""

from __future__ import annotations

import random
from typing import Any

from cmdb.graph import CIInput, Graph, Link

DEMO_SOURCE = "demo"


def demo_estate() -> tuple[list[CIInput], list[Link]]:
    rnd = random.Random(20260105)
    cis: list[CIInput] = []
    links: list[Link] = []

    def ci(kind: str, key: str, **props: Any) -> str:
        cis.append(CIInput(key, kind, {k: v for k, v in props.items() if v is not None}))
        return key

    def link(a: str, rel: str, b: str) -> None:
        links.append(Link(a, rel, b))

    # --- locations -------------------------------------------------------------------------
    def loc(key: str, name: str, type_: str, parent: str | None = None, **extra: Any) -> str:
        ci("Location", key, name=name, type=type_, **extra)
        if parent:
            link(key, "LOCATED_IN", parent)
        return key

    hq = loc("SH-HQ", "Shanghai HQ 上海总部", "site", address="100 Century Avenue, Pudong, Shanghai")
    dc = loc("SZ-DC", "Shenzhen Data Centre 深圳数据中心", "site", address="8 Keji Road, Nanshan, Shenzhen")
    bld_a = loc("SH-HQ-A", "Building A", "building", hq)
    bld_b = loc("SH-HQ-B", "Building B", "building", hq)
    bld_dc = loc("SZ-DC-1", "DC Building 1", "building", dc)
    server_room = loc("A-101", "Server room A-101 机房", "room", bld_a)
    office_a2 = loc("A-201", "Office 2F (Finance)", "room", bld_a)
    office_a3 = loc("A-301", "Office 3F (Sales)", "room", bld_a)
    store = loc("A-B01", "IT store room", "room", bld_a)
    security = loc("B-101", "Security office 保安室", "room", bld_b)
    office_b2 = loc("B-201", "Office 2F (HR)", "room", bld_b)
    hall = loc("DC1-H1", "Data hall 1", "room", bld_dc)
    noc = loc("DC1-NOC", "Network operations centre", "room", bld_dc)
    hq_racks = [loc(f"A-101-R0{i}", f"Rack A-101-R0{i}", "rack", server_room) for i in (1, 2)]
    dc_racks = [loc(f"DC1-H1-R0{i}", f"Rack DC1-H1-R0{i}", "rack", hall) for i in (1, 2, 3, 4)]

    # --- images ------------------------------------------------------------------------------
    pc_models = ["OptiPlex 7010", "OptiPlex 7020", "ThinkCentre M70q", "EliteDesk 800 G6"]
    images = {
        "W10-2026": dict(name="Windows 10 Enterprise LTSC baseline 2026", version="2026.1",
                         os="Windows 10 Enterprise LTSC", min_cpu_cores=2, min_ram_gb=4,
                         min_disk_gb=128, supported_models=pc_models + ["Latitude 5440", "ThinkPad T14"],
                         end_of_support="2027-01-12"),
        "W11-2026": dict(name="Windows 11 Enterprise baseline 2026", version="2026.1",
                         os="Windows 11 Enterprise 24H2", min_cpu_cores=4, min_ram_gb=8,
                         min_disk_gb=256, supported_models=pc_models[1:] + ["Latitude 5440", "ThinkPad T14"],
                         end_of_support="2029-10-09"),
        "RHEL9-2026": dict(name="RHEL 9 server baseline", version="9.6-2026.1", os="Red Hat Enterprise Linux 9.6",
                           min_cpu_cores=4, min_ram_gb=16, min_disk_gb=100,
                           supported_models=["PowerEdge R750", "PowerEdge R650", "ProLiant DL380 Gen10"],
                           end_of_support="2032-05-31"),
        "UBU2404-2026": dict(name="Ubuntu 24.04 server baseline", version="24.04.3-2026.1",
                             os="Ubuntu 24.04 LTS", min_cpu_cores=2, min_ram_gb=8, min_disk_gb=80,
                             supported_models=["PowerEdge R750", "PowerEdge R650", "ProLiant DL380 Gen10",
                                               "ThinkSystem SR650"],
                             end_of_support="2029-05-31"),
        "ESXI8-2026": dict(name="VMware ESXi 8 host build", version="8.0u3-2026.1", os="VMware ESXi 8.0 U3",
                           min_cpu_cores=16, min_ram_gb=128, min_disk_gb=32,
                           supported_models=["PowerEdge R750", "ThinkSystem SR650"], end_of_support="2027-10-11"),
        "NVR-FW-5": dict(name="NVR firmware 5.7", version="5.7.10", os="Embedded Linux",
                         min_ram_gb=4, min_disk_gb=4000, supported_models=["DS-9632NI-M8", "NVR5832-4KS2"],
                         end_of_support="2028-12-31"),
    }
    for key, props in images.items():
        ci("SoftwareImage", key, **props)
    link("W11-2026", "SUPERSEDES", "W10-2026")

    def serial() -> str:
        return "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))

    # --- network and power ---------------------------------------------------------------------
    ups = [ci("Hardware", f"UPS-0{i}", name=f"UPS {i}", category="ups", status="in_use", vendor="APC",
              model="Smart-UPS SRT 6000", serial=serial(), purchase_date="2023-03-01",
              warranty_end="2028-03-01", department="IT")
           for i in (1, 2, 3)]
    link(ups[0], "LOCATED_IN", server_room)
    link(ups[1], "LOCATED_IN", hall)
    link(ups[2], "LOCATED_IN", hall)
    core = []
    for i, rack in enumerate([hq_racks[0], dc_racks[0], dc_racks[1]], start=1):
        key = ci("Hardware", f"SW-CORE-0{i}", name=f"Core switch {i}", category="switch", status="in_use",
                 vendor="Huawei", model="CloudEngine S6730", serial=serial(), purchase_date="2023-05-10",
                 warranty_end="2028-05-10", department="IT", ip_address=f"10.0.{i}.1")
        link(key, "LOCATED_IN", rack)
        link(key, "CONNECTED_TO", ups[0] if i == 1 else ups[i - 1])
        core.append(key)
    tor = {}
    for rack in hq_racks + dc_racks:
        key = ci("Hardware", f"SW-{rack}", name=f"Top-of-rack switch {rack}", category="switch",
                 status="in_use", vendor="H3C", model="S6520X-30QC", serial=serial(),
                 purchase_date="2023-06-01", warranty_end="2028-06-01", department="IT")
        link(key, "LOCATED_IN", rack)
        link(key, "CONNECTED_TO", core[0] if rack in hq_racks else core[1 + dc_racks.index(rack) % 2])
        tor[rack] = key
    access = {}
    for i, room in enumerate([office_a2, office_a3, office_b2, security, noc, store], start=1):
        key = ci("Hardware", f"SW-ACC-0{i}", name=f"Access switch {room}", category="switch",
                 status="in_use", vendor="H3C", model="S5130S-52S-PWR", serial=serial(),
                 purchase_date="2024-02-15", warranty_end="2029-02-15", department="IT")
        link(key, "LOCATED_IN", room)
        link(key, "CONNECTED_TO", core[0] if room != noc else core[1])
        access[room] = key

    # --- servers and storage ----------------------------------------------------------------------
    server_models = [("Dell", "PowerEdge R750"), ("Dell", "PowerEdge R650"),
                     ("HPE", "ProLiant DL380 Gen10"), ("Lenovo", "ThinkSystem SR650")]
    servers = []
    for i in range(1, 25):
        rack = hq_racks[(i - 1) % 2] if i <= 8 else dc_racks[(i - 9) % 4]
        vendor, model = server_models[i % 4]
        image = "ESXI8-2026" if i in (9, 10, 11, 12) else ("RHEL9-2026" if i % 2 else "UBU2404-2026")
        status = "in_repair" if i == 7 else "in_use"
        key = ci("Hardware", f"SRV-{i:03d}", name=f"srv{i:03d}", category="server", status=status,
                 vendor=vendor, model=model, serial=serial(), hostname=f"srv{i:03d}.corp.example",
                 ip_address=f"10.{1 if i <= 8 else 2}.10.{i}", purchase_date=f"202{2 + i % 3}-0{1 + i % 9}-15",
                 warranty_end=f"202{7 + i % 3}-0{1 + i % 9}-15", department="IT",
                 cpu_cores=[16, 24, 32, 64][i % 4], ram_gb=[64, 128, 256, 512][i % 4],
                 disk_gb=[960, 1920, 3840][i % 3])
        link(key, "LOCATED_IN", rack)
        link(key, "CONNECTED_TO", tor[rack])
        link(key, "RUNS_IMAGE", image)
        servers.append(key)
    for i, rack in enumerate([hq_racks[1], dc_racks[2]], start=1):
        key = ci("Hardware", f"STO-0{i}", name=f"SAN array {i}", category="storage", status="in_use",
                 vendor="Huawei", model="OceanStor 5310", serial=serial(), purchase_date="2023-09-01",
                 warranty_end="2028-09-01", department="IT", disk_gb=200_000)
        link(key, "LOCATED_IN", rack)
        link(key, "CONNECTED_TO", tor[rack])

    # --- end-user devices -------------------------------------------------------------------------------
    offices = [office_a2, office_a3, office_b2]
    departments = {office_a2: "Finance 财务部", office_a3: "Sales 销售部", office_b2: "HR 人力资源部"}
    for i in range(1, 61):
        in_store = i > 54
        room = store if in_store else offices[(i - 1) % 3]
        model = pc_models[i % 4]
        ram = 4 if i % 7 == 0 else (8 if i % 3 else 16)
        key = ci("Hardware", f"PC-{i:04d}", name=f"PC {i:04d}", category="pc",
                 status="in_stock" if in_store else "in_use", vendor="Dell" if "Opti" in model else
                 ("Lenovo" if "Think" in model else "HP"), model=model, serial=serial(),
                 purchase_date=f"202{1 + i % 4}-0{1 + i % 9}-01", warranty_end=f"202{5 + i % 4}-0{1 + i % 9}-01",
                 department=None if in_store else departments[room], cpu_cores=4 if i % 5 else 2,
                 ram_gb=ram, disk_gb=256 if i % 4 else 128)
        link(key, "LOCATED_IN", room)
        link(key, "RUNS_IMAGE", "W10-2026" if i % 2 else "W11-2026")
    for i in range(1, 16):
        room = offices[(i - 1) % 3]
        key = ci("Hardware", f"LT-{i:04d}", name=f"Laptop {i:04d}", category="laptop",
                 status="in_repair" if i == 3 else "in_use",
                 vendor="Lenovo" if i % 2 else "Dell", model="ThinkPad T14" if i % 2 else "Latitude 5440",
                 serial=serial(), purchase_date="2024-04-01", warranty_end="2027-04-01",
                 department=departments[room], cpu_cores=8, ram_gb=16, disk_gb=512)
        link(key, "LOCATED_IN", room)
        link(key, "RUNS_IMAGE", "W11-2026")
    for i in range(1, 9):
        room = (offices + [security, noc])[(i - 1) % 5]
        key = ci("Hardware", f"PRN-{i:02d}", name=f"Printer {i:02d}", category="printer",
                 status="retired" if i == 8 else "in_use", vendor="Kyocera", model="ECOSYS M3655idn",
                 serial=serial(), purchase_date="2022-10-01", warranty_end="2025-10-01",
                 department=departments.get(room))
        link(key, "LOCATED_IN", room)
        link(key, "CONNECTED_TO", access[room])

    # --- surveillance --------------------------------------------------------------------------------------
    nvrs = []
    for i, (room, model) in enumerate([(security, "DS-9632NI-M8"), (security, "DS-9632NI-M8"),
                                       (noc, "NVR5832-4KS2")], start=1):
        key = ci("Hardware", f"NVR-0{i}", name=f"Video recorder {i} 录像机", category="nvr", status="in_use",
                 vendor="Hikvision" if i < 3 else "Dahua", model=model, serial=serial(),
                 purchase_date="2023-11-20", warranty_end="2026-11-20", department="Security 保卫部",
                 ram_gb=8, disk_gb=64_000)
        link(key, "LOCATED_IN", room)
        link(key, "CONNECTED_TO", access[room])
        link(key, "RUNS_IMAGE", "NVR-FW-5")
        nvrs.append(key)
    camera_rooms = [office_a2, office_a3, office_b2, security, noc, store]
    for i in range(1, 21):
        room = camera_rooms[(i - 1) % len(camera_rooms)]
        key = ci("Hardware", f"CAM-{i:03d}", name=f"Camera {i:03d} 摄像机", category="camera",
                 status="in_use", vendor="Hikvision", model="DS-2CD2143G2-I", serial=serial(),
                 purchase_date="2023-11-20", warranty_end="2026-11-20", department="Security 保卫部")
        link(key, "LOCATED_IN", room)
        link(key, "CONNECTED_TO", access[room])

    # --- applications ------------------------------------------------------------------------------------------
    def app(key: str, name: str, criticality: str, hosts: list[str], owner: str,
            needs: list[str] = (), min_hosts: int | None = None) -> None:
        ci("Application", key, name=name, criticality=criticality, owner=owner, min_hosts=min_hosts)
        for host in hosts:
            link(key, "RUNS_ON", host)
        for other in needs:
            link(key, "DEPENDS_ON", other)

    s = servers
    app("APP-AD", "Active Directory", "vip", [s[0], s[8]], "IT Infrastructure")
    app("APP-DNS", "DNS", "vip", [s[0], s[8]], "IT Infrastructure")
    app("APP-DHCP", "DHCP", "high", [s[1]], "IT Infrastructure")
    app("APP-SSO", "Single sign-on", "vip", [s[2], s[10]], "IT Security", ["APP-AD", "APP-DNS"])
    app("APP-ORA", "Oracle database cluster", "vip", [s[9], s[10], s[11]], "DBA team", ["APP-DNS"], min_hosts=2)
    app("APP-ERP", "ERP 企业资源计划", "vip", [s[12], s[13]], "Finance 财务部", ["APP-ORA", "APP-SSO"])
    app("APP-FIN", "Finance reporting", "high", [s[14]], "Finance 财务部", ["APP-ERP", "APP-BI"])
    app("APP-HR", "HR system 人事系统", "high", [s[15]], "HR 人力资源部", ["APP-ORA", "APP-SSO"])
    app("APP-PAY", "Payroll 薪资", "vip", [s[15]], "HR 人力资源部", ["APP-HR"])
    app("APP-CRM", "CRM", "high", [s[16], s[17]], "Sales 销售部", ["APP-ORA", "APP-SSO"])
    app("APP-MAIL", "Email", "vip", [s[18], s[19]], "IT Infrastructure", ["APP-AD", "APP-DNS"])
    app("APP-FILE", "File shares", "high", [s[3], "STO-01"], "IT Infrastructure", ["APP-AD"])
    app("APP-PRINT", "Print service", "standard", [s[4]], "IT Infrastructure", ["APP-AD"])
    app("APP-WEB", "Customer web portal", "vip", [s[20], s[21]], "Digital", ["APP-API", "APP-SSO"])
    app("APP-API", "API gateway", "vip", [s[20], s[21]], "Digital", ["APP-CRM", "APP-ERP"])
    app("APP-BI", "BI dashboards", "standard", [s[22]], "Data team", ["APP-DWH"])
    app("APP-DWH", "Data warehouse", "high", [s[22], s[23]], "Data team", ["APP-ORA"])
    app("APP-MON", "Monitoring", "high", [s[5]], "IT Operations", ["APP-DNS"])
    app("APP-BKP", "Backup", "high", [s[6], "STO-02"], "IT Operations", ["APP-AD"])
    app("APP-VPN", "VPN", "high", [s[1]], "IT Security", ["APP-SSO"])
    app("APP-WIKI", "Intranet wiki", "low", [s[7]], "IT Operations", ["APP-SSO"])
    app("APP-TICKET", "Service desk", "high", [s[7]], "IT Operations", ["APP-SSO", "APP-MAIL"])
    app("APP-GIT", "Source code hosting", "standard", [s[23]], "Development", ["APP-SSO"])
    app("APP-CICD", "Build pipelines", "standard", [s[23]], "Development", ["APP-GIT"])
    app("APP-VMS", "Video surveillance 视频监控", "vip", nvrs, "Security 保卫部", min_hosts=2)
    app("APP-ACCESS", "Door access control 门禁", "vip", [nvrs[0]], "Security 保卫部", ["APP-AD"])
    app("APP-VIRT", "Virtualisation cluster", "vip", [s[8], s[9], s[10], s[11]], "IT Infrastructure", min_hosts=3)
    app("APP-KAFKA", "Event streaming", "high", [s[16], s[17], s[18]], "Digital", min_hosts=2)
    app("APP-CACHE", "Session cache", "standard", [s[19]], "Digital")
    app("APP-SHOP", "Online shop", "vip", [s[20], s[21]], "Digital", ["APP-API", "APP-KAFKA", "APP-CACHE"])
    return cis, links


def load_demo(graph: Graph, *, actor: str) -> dict[str, int]:
    """Load (or re-load) the demo estate in one transaction."""
    cis, links = demo_estate()
    upserted, linked = graph.upsert_cis_atomically(cis, links, actor=actor, source=DEMO_SOURCE)
    return {"created": len(upserted.created), "updated": len(upserted.updated),
            "unchanged": len(upserted.unchanged), "relationships_created": len(linked.created),
            "relationships_unchanged": len(linked.unchanged), "cis": len(cis), "relationships": len(links)}
