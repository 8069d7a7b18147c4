"""The heading vocabulary: which words in a heading row mean which field, in English,
Simplified and Traditional Chinese, and how headings are compared.

Below both the readers (which use it to tell GB from Big5 text) and the mappings.
"""

from __future__ import annotations

import re
import unicodedata

from cmdb.graph.schema import KINDS

RELATIONSHIPS_SHEET = "Relationships"
SHEET_KINDS = (*KINDS, RELATIONSHIPS_SHEET)

# Relationship columns of CI sheets: field -> (relationship type, kinds whose sheets have it).
REL_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "location": ("LOCATED_IN", ("Hardware", "Location")),
    "image": ("RUNS_IMAGE", ("Hardware",)),
    "connected_to": ("CONNECTED_TO", ("Hardware",)),
    "runs_on": ("RUNS_ON", ("Application",)),
    "depends_on": ("DEPENDS_ON", ("Application",)),
}
REL_SHEET_FIELDS = ("from", "type", "to")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "key": ("key", "asset tag", "asset_tag", "assettag", "asset no", "asset number", "asset id",
            "tag", "asset code", "资产编号", "資產編號", "资产标签", "資產標籤", "资产号", "資產號",
            "资产编码", "資產編碼", "编号", "編號", "标签号", "標籤號", "固定资产编号", "固定資產編號",
            "财产编号", "財產編號", "设备编号", "設備編號", "位置编号", "位置編號", "镜像编号",
            "鏡像編號", "应用编号", "應用編號", "系统编号", "系統編號", "代码", "代碼", "code"),
    "name": ("name", "display name", "名称", "名稱", "设备名称", "設備名稱", "资产名称", "資產名稱",
             "位置名称", "位置名稱", "镜像名称", "鏡像名稱", "应用名称", "應用名稱", "系统名称",
             "系統名稱", "品名"),
    "description": ("description", "desc", "描述", "说明", "說明", "用途"),
    "notes": ("notes", "note", "remarks", "remark", "comments", "comment", "备注", "備註", "備注",
              "注释", "註釋"),
    "category": ("category", "asset type", "device category", "类别", "類別", "分类", "分類",
                 "设备类型", "設備類型", "资产类型", "資產類型", "资产类别", "資產類別", "设备类别"),
    "status": ("status", "state", "lifecycle", "状态", "狀態", "使用状态", "使用狀態", "资产状态",
               "資產狀態", "设备状态", "設備狀態"),
    "vendor": ("vendor", "manufacturer", "brand", "make", "品牌", "厂商", "廠商", "厂家", "廠家",
               "廠牌", "制造商", "製造商", "生产厂家", "生產廠家"),
    "model": ("model", "model no", "model number", "型号", "型號", "规格型号", "規格型號", "规格",
              "規格"),
    "serial": ("serial", "serial number", "serial no", "sn", "s/n", "序列号", "序列號", "序号",
               "序號", "出厂编号", "出廠編號"),
    "hostname": ("hostname", "host name", "主机名", "主機名", "主机名称", "主機名稱"),
    "ip_address": ("ip", "ip address", "ip地址", "ip位址", "管理ip", "管理地址"),
    "mac_address": ("mac", "mac address", "mac地址", "mac位址"),
    "purchase_date": ("purchase date", "purchased", "date purchased", "purchase_date",
                      "购置日期", "購置日期", "采购日期", "採購日期", "购买日期", "購買日期",
                      "入账日期", "入帳日期", "购入日期"),
    "warranty_end": ("warranty end", "warranty expires", "warranty expiry", "warranty until",
                     "warranty end date", "保修截止", "保修截止日期", "保修到期", "保修到期日",
                     "保修期至", "保固到期", "保固到期日", "保固截止", "保固截止日", "维保到期",
                     "維保到期"),
    "purchase_cost": ("purchase cost", "cost", "price", "purchase price", "价格", "價格", "采购价格",
                      "採購價格", "购置价格", "購置價格", "原值", "资产原值", "資產原值", "金额", "金額"),
    "supplier": ("supplier", "供应商", "供應商", "经销商", "經銷商"),
    "order_number": ("order number", "order no", "po number", "purchase order", "订单号", "訂單號",
                     "采购单号", "採購單號"),
    "company": ("company", "公司", "所属公司", "所屬公司"),
    "model_number": ("part number", "product number", "料号", "料號"),
    "department": ("department", "dept", "所属部门", "所屬部門", "部门", "部門", "使用部门",
                   "使用部門", "归属部门", "歸屬部門"),
    "owner": ("owner", "user", "responsible", "custodian", "负责人", "負責人", "使用人", "责任人",
              "責任人", "保管人", "管理员", "管理員"),
    "cpu_cores": ("cpu cores", "cores", "cpu", "cpus", "vcpus", "cpu核数", "cpu核數", "核数",
                  "核數", "核心数", "核心數", "处理器核数", "處理器核數"),
    "ram_gb": ("ram", "memory", "ram gb", "memory gb", "ram_gb", "内存", "內存", "記憶體",
               "内存容量", "內存容量"),
    "disk_gb": ("disk", "disk gb", "storage gb", "disk_gb", "硬盘", "硬碟", "磁盘", "磁碟",
                "硬盘容量", "硬碟容量", "存储容量", "儲存容量"),
    "type": ("type", "location type", "类型", "類型", "位置类型", "位置類型", "层级", "層級"),
    "address": ("address", "地址", "详细地址", "詳細地址"),
    "version": ("version", "版本", "版本号", "版本號"),
    "os": ("os", "operating system", "操作系统", "操作系統", "作業系統"),
    "min_cpu_cores": ("min cpu cores", "minimum cpu cores", "min cores", "最低cpu核数",
                      "最低核数", "最低核數", "最少核数"),
    "min_ram_gb": ("min ram", "min memory", "minimum ram", "min ram gb", "最低内存", "最低內存",
                   "最低記憶體"),
    "min_disk_gb": ("min disk", "minimum disk", "min disk gb", "最低硬盘", "最低硬碟", "最低磁盘"),
    "supported_models": ("supported models", "models", "支持型号", "支持型號", "支援型號",
                         "适用型号", "適用型號"),
    "end_of_support": ("end of support", "eos", "eol", "end of life", "支持截止", "支援截止",
                       "停止支持日期", "停止支援日期"),
    "criticality": ("criticality", "service level", "sla", "重要性", "重要程度", "等级", "等級",
                    "服务级别", "服務級別", "服務等級", "服务等级"),
    "min_hosts": ("min hosts", "minimum hosts", "最少主机数", "最少主機數"),
    "location": ("location", "site", "place", "located in", "parent", "parent location",
                 "存放地点", "存放地點", "位置", "所在位置", "地点", "地點", "安装位置", "安裝位置",
                 "上级位置", "上級位置", "所属位置", "所屬位置", "机房", "機房"),
    "image": ("image", "software image", "standard image", "镜像", "鏡像", "标准镜像", "標準鏡像",
              "映像", "系统镜像", "系統鏡像", "標準映像"),
    "connected_to": ("connected to", "uplink", "power feed", "连接到", "連接到", "上联", "上聯",
                     "上联设备", "上聯設備"),
    "runs_on": ("runs on", "hosts", "host", "servers", "hardware", "运行于", "運行於", "部署在",
                "部署主机", "部署主機", "主机", "主機", "服务器", "伺服器"),
    "depends_on": ("depends on", "dependencies", "依赖", "依賴", "依赖于", "依賴於", "依赖应用",
                   "依賴應用"),
    "from": ("from", "source", "from key", "源", "从", "從", "起点", "起點", "源编号"),
    "to": ("to", "target", "to key", "目标", "目標", "到", "终点", "終點", "目标编号"),
}
# Headings whose meaning depends on the sheet's kind.
KIND_SPECIFIC: dict[str, dict[str, str]] = {
    "Hardware": {"type": "category", "类型": "category", "類型": "category", "device type": "model",
                 "end of life": "end_of_life", "eol": "end_of_life", "eol date": "end_of_life",
                 "asset eol date": "end_of_life", "报废日期": "end_of_life", "報廢日期": "end_of_life"},
    RELATIONSHIPS_SHEET: {"type": "type", "relationship": "type", "relation": "type",
                          "关系": "type", "關係": "type", "关系类型": "type", "關係類型": "type"},
}

SHEET_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Hardware": ("hardware", "devices", "device", "assets", "asset", "equipment", "servers",
                 "硬件", "硬體", "设备", "設備", "资产", "資產", "资产清单", "資產清單", "资产台账",
                 "資產台帳", "台账", "台帳"),
    "Location": ("locations", "location", "sites", "places", "位置", "地点", "地點", "机房",
                 "機房", "位置清单"),
    "SoftwareImage": ("softwareimages", "softwareimage", "images", "image", "software images",
                      "镜像", "鏡像", "映像", "软件镜像", "軟體映像", "标准镜像", "標準鏡像"),
    "Application": ("applications", "application", "apps", "services", "systems", "应用",
                    "應用", "应用系统", "應用系統", "业务系统", "業務系統", "系统", "系統"),
    RELATIONSHIPS_SHEET: ("relationships", "relations", "links", "relationship", "关系", "關係",
                          "关联", "關聯", "依赖关系", "依賴關係"),
}


def norm(text: str) -> str:
    """Heading comparison form: NFKC (full-width to half-width), lower case, no spaces,
    underscores, dashes, dots or colons."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-.:：/]+", "", s)


def strip_unit(text: str) -> str:
    """``内存(GB)`` / ``RAM [GB]`` -> ``内存`` / ``ram``."""
    s = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s*[(\[][^)\]]*[)\]]\s*$", "", s)


def kind_fields(kind: str) -> tuple[str, ...]:
    if kind == RELATIONSHIPS_SHEET:
        return REL_SHEET_FIELDS
    rels = tuple(f for f, (_, kinds) in REL_COLUMNS.items() if kind in kinds)
    return ("key", *KINDS[kind].user_properties, *rels)


GENERIC: dict[str, str] = {}
# A field's own name, as the export writes it, means that field whatever the synonyms say
# ("model_number" is not the "model number" that people write for the model).
for _field in (*SYNONYMS, *(p for k in KINDS.values() for p in k.user_properties)):
    GENERIC.setdefault(norm(_field), _field)
for _field, _words in SYNONYMS.items():
    for _w in _words:
        GENERIC.setdefault(norm(_w), _field)


def known_heading_count(headings: list[str]) -> int:
    return sum(1 for h in headings if norm(h) in GENERIC or norm(strip_unit(h)) in GENERIC)
