"""The vocabulary every register starts with: the 20 shipped hardware categories and the words
for the fixed hardware statuses, each with display names in English, 简体 and 繁體 and the
synonyms spreadsheets and other tools (Snipe-IT, NetBox) write for it.

These are laid down once in a new register; from then on they are the users' own records.
"""

from __future__ import annotations

# key: (English, 简体, 繁體, synonyms, flags)
# network_gear: devices that carry other devices' traffic (uplinks in impact pictures);
# takes_image: devices built from a standard software image (RUNS_IMAGE).
CATEGORIES: dict[str, tuple[str, str, str, tuple[str, ...], dict[str, bool]]] = {
    "server": ("Server", "服务器", "伺服器",
               ("Servers", "服务器", "伺服器", "主机", "主機", "host"), {"takes_image": True}),
    "virtual_machine": ("Virtual machine", "虚拟机", "虛擬機",
                        ("Virtual Machines", "VM", "VMs", "虚拟机", "虛擬機"), {"takes_image": True}),
    "switch": ("Switch", "交换机", "交換機",
               ("Switches", "Network Switches", "Networking", "交换机", "交換機"),
               {"network_gear": True, "takes_image": True}),
    "router": ("Router", "路由器", "路由器", ("Routers", "路由器"),
               {"network_gear": True, "takes_image": True}),
    "firewall": ("Firewall", "防火墙", "防火牆", ("Firewalls", "防火墙", "防火牆"),
                 {"network_gear": True, "takes_image": True}),
    "storage": ("Storage", "存储", "儲存", ("SAN", "NAS", "存储", "存儲", "儲存"), {}),
    "pc": ("PC", "台式机", "桌上型電腦",
           ("Desktops", "Desktop", "Workstations", "Workstation", "台式机", "台式電腦",
            "桌上型電腦", "电脑", "電腦"), {"takes_image": True}),
    "laptop": ("Laptop", "笔记本电脑", "筆記型電腦",
               ("Laptops", "Notebooks", "Notebook", "笔记本", "筆記本", "笔记本电脑", "筆記型電腦"),
               {"takes_image": True}),
    "thin_client": ("Thin client", "瘦客户机", "精簡型電腦",
                    ("Thin Clients", "瘦客户机", "精簡型電腦"), {"takes_image": True}),
    "printer": ("Printer", "打印机", "印表機", ("Printers", "打印机", "印表機"), {}),
    "scanner": ("Scanner", "扫描仪", "掃描器", ("Scanners", "扫描仪", "掃描器"), {}),
    "camera": ("Camera", "摄像机", "攝影機",
               ("Cameras", "Security Cameras", "IP camera", "摄像头", "摄像机", "攝影機", "監視器"), {}),
    "nvr": ("Video recorder (NVR)", "录像机", "錄影機",
            ("NVRs", "录像机", "錄影機", "硬盘录像机"), {}),
    "access_point": ("Wireless access point", "无线接入点", "無線基地台",
                     ("Access Points", "Wireless Access Points", "AP", "无线AP", "无线接入点",
                      "無線基地台"), {"network_gear": True}),
    "ups": ("UPS", "不间断电源", "不斷電系統", ("UPSs", "不间断电源", "不斷電系統"), {}),
    "pdu": ("PDU", "配电单元", "電源分配器", ("PDUs", "配电单元", "電源分配器"), {}),
    "phone": ("Phone", "电话", "電話",
              ("Phones", "Mobile Phones", "Cell Phones", "Smartphones", "VOIP Phones",
               "Conference Phones", "电话", "電話", "手机", "手機"), {}),
    "monitor": ("Monitor", "显示器", "顯示器", ("Monitors", "Displays", "显示器", "顯示器"), {}),
    "tablet": ("Tablet", "平板电脑", "平板電腦", ("Tablets", "平板", "平板电脑", "平板電腦"), {}),
    "other": ("Other", "其他", "其他", ("Accessories", "Misc", "其它"), {}),
}

# The fixed lifecycle states and the words people and tools use for them.
STATUSES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "planned": ("Planned", "计划中", "計劃中",
                ("计划", "計劃", "规划", "規劃", "采购中", "採購中", "待采购", "pending")),
    "in_stock": ("In stock", "库存", "庫存",
                 ("库存", "庫存", "闲置", "閒置", "閑置", "备用", "備用", "在库", "stock", "spare",
                  "inventory", "available", "Ready to Deploy", "staged", "offline")),
    "in_use": ("In use", "在用", "使用中",
               ("在用", "使用中", "使用", "运行", "運行", "在线", "在線", "已部署", "active",
                "deployed", "production")),
    "in_repair": ("In repair", "维修中", "維修中",
                  ("维修", "維修", "维修中", "維修中", "送修", "故障", "repair", "failed", "broken",
                   "Undeployable", "Out for Repair", "Out for Diagnostics")),
    "retired": ("Retired", "退役", "退役",
                ("退役", "停用", "下线", "下線", "decommissioning", "archived")),
    "disposed": ("Disposed", "已报废", "已報廢",
                 ("报废", "報廢", "已报废", "已報廢", "处置", "處置", "Broken - Not Fixable")),
    "missing": ("Missing", "丢失", "遺失",
                ("丢失", "遺失", "遗失", "丟失", "lost", "stolen", "Lost/Stolen")),
}
