"""Every caption of the service reports, in English and Simplified Chinese.

The one place report text comes from: when the project's i18n catalogues exist, ``caption``
is where they plug in.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh-CN")

CAPTIONS: dict[str, tuple[str, str]] = {
    "title.month": ("Monthly service report", "月度服务总结"),
    "title.quarter": ("Quarterly service report", "季度服务报告"),
    "title.year": ("Yearly service report", "年度服务报告"),
    "period": ("Period", "期间"),
    "scope": ("Scope", "范围"),
    "scope.all": ("the whole register", "全部登记"),
    "generated": ("Generated", "生成时间"),
    "summary": ("Summary", "概要"),
    "faults": ("Faults", "故障"),
    "faults.total": ("Fault records", "故障单数"),
    "faults.closed": ("Closed", "已关闭"),
    "faults.breached": ("With a breached target", "超出时限"),
    "faults.by_severity": ("Faults by grade and service level", "按等级和服务级别的故障"),
    "faults.breaches": ("Breaches", "超时明细"),
    "faults.none": ("No fault records in this period.", "本期无故障单。"),
    "faults.list": ("Fault records", "故障单"),
    "severity": ("Grade", "等级"),
    "level": ("Service level", "服务级别"),
    "count": ("Count", "数量"),
    "id": ("Record", "单号"),
    "cis": ("CIs", "配置项"),
    "title": ("What", "故障描述"),
    "status": ("Status", "状态"),
    "reported": ("Reported", "报障时间"),
    "response": ("Response (min / target)", "响应（分钟/目标）"),
    "resolution": ("Resolution (min / target)", "解决（分钟/目标）"),
    "clock": ("Clock", "时限"),
    "used": ("Used (min)", "用时（分钟）"),
    "target": ("Target (min)", "目标（分钟）"),
    "repairs": ("Repairs", "维修"),
    "repairs.note": ("Faults with a linked repair order.", "关联维修单的故障。"),
    "repairs.none": ("No repair orders linked in this period.", "本期无关联维修单。"),
    "repair_order": ("Repair order", "维修单"),
    "rounds": ("Maintenance rounds", "巡检维护"),
    "rounds.none": ("No maintenance rounds in this period.", "本期无巡检。"),
    "round": ("Round", "巡检"),
    "checked": ("Checked", "已检"),
    "expected": ("Devices", "设备数"),
    "findings": ("Findings", "发现问题"),
    "item": ("Item", "检查项"),
    "note": ("Note", "备注"),
    "changes": ("Register changes", "登记变更"),
    "changes.added": ("Added", "新增"),
    "changes.moved": ("Moved", "迁移"),
    "changes.retired": ("Retired", "退役"),
    "category": ("Category", "类别"),
    "warranty": ("Warranty ending next quarter", "下季度保修到期"),
    "warranty.none": ("No warranty ends next quarter.", "下季度无保修到期。"),
    "warranty_end": ("Warranty ends", "保修截止"),
    "name": ("Name", "名称"),
    "model": ("Model", "型号"),
    "audits": ("Inventory audits", "资产盘点"),
    "audits.none": ("No audit campaigns.", "无盘点任务。"),
    "audit": ("Campaign", "盘点任务"),
    "scans": ("Scans", "扫描数"),
    "chart.severity": ("Faults by grade", "各等级故障数"),
    "chart.ontime": ("On time and breached", "按时与超时"),
    "ontime": ("On time", "按时"),
    "breached": ("Breached", "超时"),
    "clock.response": ("response", "响应"),
    "clock.arrival": ("on-site arrival", "到场"),
    "clock.resolution": ("resolution", "解决"),
    "state.met": ("met", "达标"),
    "state.breached": ("breached", "超时"),
    "state.within": ("within", "时限内"),
    "state.at_risk": ("at risk", "临近超时"),
    "state.no_target": ("–", "–"),
}


def caption(key: str, language: str = "en") -> str:
    en, zh = CAPTIONS[key]
    return zh if language == "zh-CN" else en
