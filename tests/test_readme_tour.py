"""The README's commands, as printed, against the demo estate.

The commands are read from README.md itself, so the two cannot drift apart: every ``cmdb``
line of its shell blocks is either run here, in README order, with what it must say, or listed
in ``NOT_RUN`` with the reason. As a new user would: a working copy whose register ``make run``
put in ``./data`` (demo loaded, ``cmdb serve`` running), and a second shell with no ``CMDB_*``
variables that runs each command in the working copy.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.printer_listener import raw_printer_port
from tests.serve_support import CMDB, START_TIMEOUT, Served, stop_background_engine
from tests.spreadsheets import xlsx_bytes

README = Path(__file__).resolve().parent.parent / "README.md"
# The README's example printer; here the labels go to a stand-in printer on loopback.
README_PRINTER = "tcp://10.0.0.50:9100"


@dataclass(frozen=True)
class Expect:
    says: tuple[str, ...] = ()       # text the command prints (stdout and stderr)
    writes: tuple[tuple[str, bytes], ...] = ()  # (file, what it starts with)
    exit: int = 0
    empty_register: bool = False     # run against a new, empty register of its own


PDF, PNG, XLSX, HTML, GZIP = b"%PDF", b"\x89PNG", b"PK", b"<!DOCTYPE html>", b"\x1f\x8b"

TOUR = {
    "cmdb ci list --kind Hardware --category server": Expect(says=("CIs, showing 1–", "SRV-010\tHardware")),
    "cmdb ci show SRV-010": Expect(says=("Hardware SRV-010", "Category\tServer", "Status\tIn use")),
    "cmdb history SRV-010": Expect(says=("history of SRV-010", "\tCreated\t")),
    'cmdb ci add Hardware 000777 --set name="Finance printer 财务打印机" --set category=printer '
    "--set status=in_use": Expect(says=("created Hardware 000777",)),
    "cmdb link 000777 LOCATED_IN A-201": Expect(says=("linked 000777 → A-201",)),
    "cmdb token create --name alice --role reviewer": Expect(says=("token for alice (reviewer)",)),
    "cmdb token create --name sz-clerk --role asset_staff --scope SZ-DC": Expect(
        says=("token for sz-clerk (asset_staff, writes only inside SZ-DC)",)),
    "cmdb impact SRV-001": Expect(says=("25 CI(s) affected — 0 down, 25 degraded",
                                        "VIP\tDegraded\tAPP-AD\tActive Directory")),
    "cmdb impact SH-HQ-B": Expect(says=("40 CI(s) affected — 40 down, 0 degraded",
                                        "APP-VMS -RUNS_ON-> NVR-01 -LOCATED_IN-> B-101")),
    "cmdb check-image W10-2026 --to W11-2026": Expect(
        says=("30 device(s) built from W10-2026 checked against W11-2026: 21 pass, 9 fail",
              "rollout W10-2026 → W11-2026: 0 moved, 21 can move, 9 cannot, 0 unknown",
              "why not: ")),
    "cmdb check-image W10-2026 --set min_ram_gb=8": Expect(says=("verdict\tdevice",)),
    "cmdb check-hardware SRV-001 --set ram_gb=8": Expect(
        says=("SRV-001 with ram_gb=8: Fail", "RHEL9-2026\tRHEL 9 server baseline\tPass\tFail")),
    "cmdb labels --location A-101 --format pdf -o a-101.pdf": Expect(
        says=("label(s) as PDF to a-101.pdf",), writes=(("a-101.pdf", PDF),)),
    "cmdb labels --unlabelled --kind Hardware --template avery-l7160 --skip 4 -o new.pdf": Expect(
        says=("label(s) as PDF to new.pdf",), writes=(("new.pdf", PDF),)),
    "cmdb labels SRV-010 000777 --format png -o label.png": Expect(
        says=("2 label(s) as PNG to 2 files",),
        writes=(("label-SRV-010.png", PNG), ("label-000777.png", PNG))),
    "cmdb labels --category switch --format zpl --dpi 300 --size 50.8x25.4 --print "
    + README_PRINTER: Expect(says=("label(s) as ZPL to tcp://127.0.0.1:",)),
    "cmdb import 资产清单.xlsx --dry-run": Expect(says=("dry run, nothing written: would be 2 created",)),
    "cmdb import 资产清单.xlsx": Expect(says=("imported: 2 created",)),
    "cmdb import sites.csv racks.csv devices.csv --mapping netbox": Expect(
        says=("imported: 4 created",)),
    "cmdb export register.xlsx": Expect(writes=(("register.xlsx", XLSX),)),
    "cmdb contract add LEN-WR-2026-01 --vendor Lenovo --type warranty --start 2026-01-01 "
    "--end 2029-01-01 --coverage hardware --coverage spare_first --covers PC-0006": Expect(
        says=("added contract LEN-WR-2026-01 (Warranty, 2026-01-01 – 2029-01-01), covering 1 CI(s)",)),
    "cmdb contract link LEN-WR-2026-01 PC-0010": Expect(says=("contract LEN-WR-2026-01 now covers 2 CI(s)",)),
    "cmdb contract list --expiring 90d": Expect(says=("1 contract(s)", "DELL-PS-2023-0117\tWarranty\tDell")),
    "cmdb contract show LEN-WR-2024-0388": Expect(says=("vendor\tLenovo", "PC-0002")),
    "cmdb warranty show PC-0002": Expect(says=("PC-0002: in warranty until ",
                                               "contract LEN-WR-2024-0388 (Lenovo, Warranty)")),
    "cmdb warranty report --within 90d -o w.xlsx": Expect(says=("CI(s) to w.xlsx (xlsx)",),
                                                          writes=(("w.xlsx", XLSX),)),
    'cmdb repair open PC-0002 --fault "不开机 no power"': Expect(
        says=("on PC-0002: Open, under warranty until ", "contract LEN-WR-2024-0388")),
    "cmdb spare issue PC-0002 PC-0058 --slip slip.pdf": Expect(
        says=("issued PC-0058 (SI-", "for PC-0002 at A-301; slip written to slip.pdf"),
        writes=(("slip.pdf", PDF),)),
    'cmdb repair send PC-0002 --to "Lenovo service centre"': Expect(
        says=("Sent out", "sent to Lenovo service centre (due back ")),
    'cmdb repair note PC-0002 "mainboard ordered 已订购主板"': Expect(says=("next note due ",)),
    "cmdb repair overdue": Expect(says=("0 overdue repair order(s)",)),
    "cmdb repair return PC-0002 --cost 0": Expect(says=("on PC-0002: Returned",)),
    "cmdb repair close PC-0002 --outcome repaired": Expect(says=("on PC-0002: Repaired",)),
    'cmdb spare stock --min "ThinkCentre M70q@A-B01=2"': Expect(
        says=("ThinkCentre M70q\tA-B01\t1\t0\t2\t1",)),
    "cmdb history PC-0058": Expect(says=("\tSpare part\t", "event=issued", "event=returned",
                                         "Type=STANDS_IN_FOR")),
    "cmdb category list": Expect(says=("20 categories", "server\tServer\t服务器\t伺服器")),
    'cmdb category add railings --name-en "Ornamental railings" --name-zh-cn 装饰栏杆 '
    "--name-zh-tw 裝飾欄杆 --synonym Railings": Expect(says=("added category railings",)),
    "cmdb category rename nvr video_recorder": Expect(
        says=("category video_recorder: 3 CIs changed",)),
    "cmdb category merge thin_client pc": Expect(says=("merged thin_client into pc: 0 CIs changed",)),
    "cmdb category delete railings": Expect(says=("deleted category railings",)),
    'cmdb status add-word in_repair "Out for Calibration"': Expect(says=("Out for Calibration",)),
    'cmdb field add Hardware 资产负责人电话 --name-en "Owner\'s phone"': Expect(
        says=("added Text field Hardware.资产负责人电话",)),
    'cmdb ci set PC-0001 资产负责人电话="0755-8888 1234"': Expect(says=("updated Hardware PC-0001",)),
    'cmdb ci list --field 资产负责人电话="0755-8888 1234"': Expect(says=("1 CI, showing 1–1", "PC-0001\tHardware")),
    "cmdb import snipeit-assets.csv --mapping snipeit --new-fields --dry-run": Expect(
        says=("categories would create: ornamental_railings (Ornamental Railings)",
              "custom fields would create: Hardware.paint_colour (Text)",
              "dry run, nothing written: would be 3 created")),
    'cmdb audit start "Spring 2027" --scope SH-HQ --due 2027-04-30': Expect(
        says=("(Spring 2027): 119 expected, 2 away in repair",)),
    'cmdb audit import-scans "Spring 2027" scanner-export.csv': Expect(
        says=("3 rows: 3 scans added, 0 already recorded",)),
    'cmdb audit scan "Spring 2027" PC-0007 --at A-301': Expect(says=("recorded PC-0007 at A-301",)),
    'cmdb audit reconcile "Spring 2027"': Expect(
        says=("3 of 119 expected verified", "Found\t1\n", "Relocated\t2\n", "Unexpected\t1\n")),
    'cmdb audit report "Spring 2027" -o spring-2027.html': Expect(writes=(("spring-2027.html", b"<"),)),
    'cmdb audit close "Spring 2027" --apply-relocations --mark-missing': Expect(
        says=("2 relocated, 116 marked missing, 3 audited",)),
    "LANG=zh_CN.UTF-8 cmdb ci show SRV-010": Expect(says=("硬件 SRV-010", "状态\t在用", "类别\t服务器",
                                                         "保修截止\t")),
    'CMDB_LANGUAGE=zh_TW cmdb audit reconcile "Spring 2027"': Expect(
        says=("盤點結果\t數量", "找到\t", "缺少\t", "已關閉")),
    "cmdb audit overdue": Expect(says=("\tnever audited\n", " due or overdue (")),
    'cmdb baseline create "Hand-over 2026" --note "agreed with the customer"': Expect(
        says=("baseline 'Hand-over 2026': ", " of the whole register at ")),
    "cmdb ci set SRV-002 --set ram_gb=512": Expect(says=("updated Hardware SRV-002",)),
    'cmdb baseline diff "Hand-over 2026" -o since-hand-over.xlsx': Expect(
        says=("Hand-over 2026 → now: Changed 1", "Changed\tSRV-002\tHardware\tRAM (GB)\t256\t512\tcli:"),
        writes=(("since-hand-over.xlsx", XLSX),)),
    'cmdb baseline report "Hand-over 2026" -o hand-over.html': Expect(
        says=("previous: none",), writes=(("hand-over.html", b"<!doctype html>"),)),
    "cmdb baseline list": Expect(says=("1 baseline", "Hand-over 2026\t")),
    "cmdb image lineage W10-2026": Expect(says=("superseded by: W11-2026", "supersedes: —")),
    "cmdb image superseded --site SH-HQ --category pc": Expect(
        says=("30 devices still on a superseded image: SH-HQ 30",)),
    "cmdb image past-support --on 2027-02-01": Expect(
        says=("30 devices on an image past its end of support on 2027-02-01",)),
    'cmdb doc attach model "OptiPlex 7010" optiplex-7010-manual.pdf --title "OptiPlex 7010 service manual"':
        Expect(says=("attached optiplex-7010-manual.pdf (application/pdf, ",
                     " to Hardware model OptiPlex 7010 as DOC-")),
    'cmdb doc note model "OptiPlex 7010" --title "Blue screen after docking" --solves "Blue screen after '
    'docking" --body "Update the dock firmware before the BIOS."': Expect(
        says=("for Hardware model OptiPlex 7010: Blue screen after docking",)),
    "cmdb doc search docking": Expect(says=("1 found for 'docking'", "\tNote\tBlue screen after docking\t")),
    "cmdb level defaults": Expect(says=("vip\tVIP\t7×24 (around the clock)\t1 h\t1 h\t2 h",
                                        "standard\tStandard\t5×8 (working days, 09:00–17:00)\t2 h\t4 h\t4 h")),
    "cmdb level assign immediate B-101": Expect(says=("assigned immediate to B-101",)),
    "cmdb level of SRV-010": Expect(says=("VIP: application Virtualisation cluster is VIP",)),
    'cmdb fault open SRV-010 --title "RAID degraded" --severity B --reported-by "Zhou Hui" '
    "--at 2026-10-09T16:30+08:00": Expect(says=("F-202610-0001 [B] Open on SRV-010 (VIP)",)),
    'cmdb fault assign F-202610-0001 --to "Li Wei" --at 2026-10-09T16:50+08:00': Expect(
        says=("assigned on SRV-010 (VIP): Response met",)),
    "cmdb fault arrive F-202610-0001 --at 2026-10-09T17:20+08:00": Expect(says=("arrival met",)),
    'cmdb fault resolve F-202610-0001 --resolution "disk replaced" --at 2026-10-09T19:00+08:00':
        Expect(says=("Resolution BREACHED",)),
    'cmdb fault close F-202610-0001 --signed-by "Wang" --at 2026-10-10T19:30+08:00': Expect(
        says=("F-202610-0001 [B] Closed",)),
    "cmdb fault list": Expect(says=("F-202610-0001\tB\tClosed\tSRV-010\tRAID degraded\tVIP",)),
    'cmdb round start "October cleaning" --scope A-201': Expect(says=("October cleaning (Open, A-201)",)),
    "cmdb round overdue": Expect(says=("overdue rounds",)),
    "cmdb report demo-month --month 2026-09": Expect(says=("fault records and 1 maintenance round",)),
    "cmdb report monthly --month 2026-09 --scope SH-HQ -o 2026-09.xlsx": Expect(
        says=("written to 2026-09.xlsx",), writes=(("2026-09.xlsx", XLSX),)),
    "cmdb report monthly --month 2026-09 --language zh-CN -o 2026-09.pdf": Expect(
        says=("written to 2026-09.pdf",), writes=(("2026-09.pdf", PDF),)),
    "cmdb backup cmdb-2026-11-22.jsonl.gz": Expect(writes=(("cmdb-2026-11-22.jsonl.gz", GZIP),)),
    "cmdb restore cmdb-2026-11-22.jsonl.gz": Expect(says=("verified",), empty_register=True),
    "cmdb restore cmdb-2026-11-22.jsonl.gz --merge": Expect(says=("verified",)),
    "cmdb backup cmdb-move.jsonl.gz": Expect(writes=(("cmdb-move.jsonl.gz", GZIP),)),
}

NEO4J = "the move to Neo4j: needs a Neo4j server (CMDB_NEO4J_URI), which cannot run here"
NOT_RUN = {
    "cmdb restore cmdb-move.jsonl.gz": NEO4J,
    "cmdb ci list --limit 5": NEO4J,
    "cmdb history <some key>": NEO4J + "; <some key> is a placeholder",
    "cmdb audit list": NEO4J,
}


def readme_commands() -> list[str]:
    """Every ``cmdb`` command of the README's shell blocks, in order, without its comment."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        for line in block.splitlines():
            command = re.split(r"\s+#\s", line.strip(), maxsplit=1)[0].strip()
            if re.match(r"(?:[A-Z_]+=\S+\s+)*cmdb ", command):  # with VAR=value before it, too
                commands.append(command)
    return commands


def test_every_readme_command_is_run_here_or_says_why_not():
    documented = readme_commands()
    assert len(documented) == len(set(documented)), "a README command appears twice"
    assert set(documented) == set(TOUR) | set(NOT_RUN)


def _inputs(folder: Path) -> None:
    """The files the tour's commands name, as a user would have them."""
    (folder / "资产清单.xlsx").write_bytes(xlsx_bytes({"设备": [
        ["资产编号", "设备名称", "类别", "状态", "存放地点", "序列号"],
        ["000901", "财务部打印机", "打印机", "在用", "A-201", "CN-PRN-901"],
        ["000902", "销售部电脑", "pc", "库存", "A-301", "CN-PC-902"]]}))
    (folder / "sites.csv").write_text(
        "name,slug,status,region,facility,time_zone,description\n"
        "Tour Site,tour-site,active,,,,A site from NetBox\n", encoding="utf-8")
    (folder / "racks.csv").write_text(
        "site,location,name,status,type,width,u_height\n"
        "Tour Site,,Rack 1,active,4-post-cabinet,19,42\n", encoding="utf-8")
    (folder / "devices.csv").write_text(
        "name,role,manufacturer,device_type,status,site,rack,position,serial\n"
        "tour-sw-01,Access Switch,Cisco,C9300-48P,active,Tour Site,Rack 1,40,FOC001\n"
        "tour-sw-02,Access Switch,Cisco,C9300-48P,active,Tour Site,Rack 1,41,FOC002\n",
        encoding="utf-8")
    (folder / "snipeit-assets.csv").write_text(
        "Asset Tag,Asset Name,Category,Status,Manufacturer,Location,Purchase Date,Warranty,"
        "Paint Colour\r\n"
        "R-001,Stair rail,Ornamental Railings,Ready to Deploy,Smith,Tour Office,12/31/22,24,"
        "Matte Black\r\n"
        "00042,Laptop 7,Laptops,Deployed,Dell,Tour Office,4/1/23,36,\r\n", encoding="utf-8")
    (folder / "optiplex-7010-manual.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (folder / "scanner-export.csv").write_text(
        "tag,location\nSRV-001,A-101\nPC-0001,A-301\nNO-SUCH-TAG,A-301\n", encoding="utf-8")


def _user_env(home: Path) -> dict[str, str]:
    """A new shell: no CMDB_* variables, the working copy's .venv activated."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CMDB_") or k.startswith("CMDB_TEST_")}  # the harness's stay
    env["PATH"] = f"{Path(CMDB).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)
    env.pop("XDG_DATA_HOME", None)
    return env


def test_the_readme_tour_as_printed_against_the_demo_estate(tmp_path):
    working_copy, home = tmp_path / "cmdb", tmp_path / "home"
    working_copy.mkdir()
    home.mkdir()
    _inputs(working_copy)
    # make run: the demo into ./data, then cmdb serve (as the Makefile's run recipe does)
    loaded = subprocess.run([CMDB, "demo", "--if-empty"], cwd=working_copy, capture_output=True,
                            text=True, timeout=START_TIMEOUT,
                            env={**_user_env(home), "CMDB_DATA_DIR": str(working_copy / "data"),
                                 "CMDB_ENGINE_IDLE_SECONDS": "0"})
    assert loaded.returncode == 0, loaded.stderr
    served = Served(working_copy / "data", working_copy)
    env = _user_env(home)
    failures: list[str] = []
    try:
        with raw_printer_port() as (printer, received):
            for command in readme_commands():
                if command not in NOT_RUN:
                    failures += _run(command, TOUR[command], working_copy, tmp_path, env, printer)
        assert failures == [], "\n\n".join(failures)
        # Chinese location names go to the printer as graphic fields: no font on the printer
        assert received.startswith(b"^XA") and b"/s/" in received and b"^GFA" in received
    finally:
        try:
            assert served.stop(signal.SIGTERM) == 0, served.output
        finally:
            for register in (working_copy / "data", tmp_path / "empty-register"):
                stop_background_engine(register)
    # every command used the register make run made: none was created anywhere else
    assert not (home / ".local").exists()
    assert sorted(p.name for p in working_copy.iterdir() if p.is_dir()) == ["data"]
    with zipfile.ZipFile(working_copy / "register.xlsx") as workbook:
        assert workbook.namelist()


def _run(command: str, expect: Expect, working_copy: Path, tmp_path: Path, env: dict[str, str],
         printer: str) -> list[str]:
    """What is wrong with what ``command`` did, as sentences (none when it did as documented)."""
    if expect.empty_register:
        env = {**env, "CMDB_DATA_DIR": str(tmp_path / "empty-register")}
    result = subprocess.run(["bash", "-c", command.replace(README_PRINTER, printer)],
                            cwd=working_copy, env=env, capture_output=True, text=True,
                            timeout=START_TIMEOUT)
    said = result.stdout + result.stderr
    wrong = []
    if result.returncode != expect.exit:
        wrong.append(f"exit status {result.returncode}, not {expect.exit}")
    if "Traceback" in said:
        wrong.append("printed a traceback")
    wrong += [f"did not say {text!r}" for text in expect.says if text not in said]
    for name, start in expect.writes:
        path = working_copy / name
        if not (path.exists() and path.read_bytes().startswith(start)):
            wrong.append(f"did not write {name}")
    if not expect.empty_register and ("register:" in said or "new, empty" in said):
        wrong.append("used another register than the one make run serves")
    return [f"{command}: " + "; ".join(wrong) + f"\n{said}"] if wrong else []
