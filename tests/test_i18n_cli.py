"""The command line speaks the reader's language: help texts, Typer's and Click's own words,
usage errors; ``LANG=C`` (or ``CMDB_LANGUAGE=en``) keeps every English text as it was."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.serve_support import CMDB, START_TIMEOUT


def _env(**extra: str) -> dict[str, str]:
    """The machine's environment without any language or cmdb setting, and a fixed width."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith(("CMDB_", "LC_")) or k in ("LANG", "LANGUAGE", "COLUMNS"))
           or k.startswith("CMDB_TEST_")}
    return {**env, "COLUMNS": "100", **extra}


def _cmdb(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([CMDB, *args], env=_env(**env), capture_output=True, text=True,
                          timeout=START_TIMEOUT)


def _lines(text: str) -> list[str]:
    """The text of each line, without the panels' borders and padding."""
    return [line.strip(" │╭╮╰╯─") for line in text.splitlines()]


def test_root_help_in_simplified_chinese_from_the_locale():
    result = _cmdb("--help", LANG="zh_CN.UTF-8")
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert "用法：cmdb [选项] 命令 [参数]..." in lines
    assert "CMDB：以图的形式管理硬件、软件镜像、应用和位置。" in lines
    assert {"选项", "命令"} <= set(lines)
    assert "--version          显示版本并退出。" in lines
    assert "--help             显示此帮助并退出。" in lines
    assert "history         配置项的变更记录，最新的在前。" in lines
    assert "ci              添加、查看、列出、修改和删除配置项。" in lines


def test_subcommand_help_in_traditional_chinese_from_cmdb_language():
    result = _cmdb("ci", "add", "--help", CMDB_LANGUAGE="zh_TW", LANG="zh_CN.UTF-8")
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert "用法：cmdb ci add [選項] {kind} {key}" in lines
    assert "建立組態項目。" in lines
    assert {"引數", "選項"} <= set(lines)
    assert "*    key       <str>  資產標籤（以文字儲存） [必填]" in lines
    assert "--set   -s      <str>  NAME=VALUE，可重複" in lines
    assert "--json                 在標準輸出上輸出一個 JSON 文件。" in lines
    assert "--help                 顯示此說明並結束。" in lines


def test_group_help_with_defaults_in_simplified_chinese():
    result = _cmdb("ci", "list", "--help", LANG="zh_CN.UTF-8")
    assert result.returncode == 0, result.stderr
    lines = _lines(result.stdout)
    assert "列出配置项，可筛选、分页。" in lines
    assert any(line.startswith("--limit") and line.endswith("[默认：50]") for line in lines), lines
    fault = _lines(_cmdb("fault", "--help", LANG="zh_CN.UTF-8").stdout)
    assert "故障处理工作单：开单、派工、到场、解决、关闭、列出。" in fault


def test_missing_argument_in_traditional_chinese():
    result = _cmdb("ci", "add", CMDB_LANGUAGE="zh_TW")
    assert result.returncode == 2
    assert _lines(result.stderr) == [
        "用法：cmdb ci add [選項] {kind} {key}",
        "執行 'cmdb ci add --help' 檢視說明。",
        "錯誤",
        "缺少引數 'kind'。",
        "",
    ]


def test_unknown_option_and_bad_value_in_simplified_chinese():
    bogus = _cmdb("ci", "list", "--bogus", LANG="zh_CN.UTF-8")
    assert bogus.returncode == 2
    assert _lines(bogus.stderr) == [
        "用法：cmdb ci list [选项]",
        "运行 'cmdb ci list --help' 查看帮助。",
        "错误",
        "没有选项：--bogus",
        "",
    ]
    bad = _cmdb("ci", "list", "--limit", "abc", LANG="zh_CN.UTF-8")
    assert bad.returncode == 2
    assert "'--limit' 的值无效：'abc' 不是有效的整数。" in _lines(bad.stderr)
    unknown = _cmdb("nosuch", LANG="zh_CN.UTF-8")
    assert unknown.returncode == 2 and "没有命令 'nosuch'。" in _lines(unknown.stderr)


def test_english_stays_as_it_was():
    for env in ({"LANG": "C"}, {"CMDB_LANGUAGE": "en", "LANG": "zh_CN.UTF-8"}):
        root = _lines(_cmdb("--help", **env).stdout)
        assert "Usage: cmdb [OPTIONS] COMMAND [ARGS]..." in root
        assert "CMDB: hardware, software images, applications and locations as a graph." in root
        assert {"Options", "Commands"} <= set(root)
        assert "--help             Show this message and exit." in root
        add = _lines(_cmdb("ci", "add", "--help", **env).stdout)
        assert {"Create a CI.", "Arguments", "Options"} <= set(add)
        assert "*    key       <str>  The asset tag (kept as text) [required]" in add
        assert _lines(_cmdb("ci", "add", **env).stderr) == [
            "Usage: cmdb ci add [OPTIONS] {kind} {key}",
            "Try 'cmdb ci add --help' for help.",
            "Error",
            "Missing argument 'kind'.",
            "",
        ]
        assert "No such option: --bogus" in _lines(_cmdb("ci", "list", "--bogus", **env).stderr)
        listed = _lines(_cmdb("ci", "list", "--help", **env).stdout)
        assert any(line.startswith("--limit") and line.endswith("[default: 50]")
                   for line in listed), listed


# Every command's help, gathered in one process (a process per command would take minutes).
_ALL_HELP = r"""
import json, sys
import typer.main
from typer.testing import CliRunner
from cmdb.cli import app

root = typer.main.get_command(app)
paths, names = [], set()

def walk(command, path):
    paths.append(path)
    names.add(command.name or "")
    for param in command.params:
        names.update([param.name or "", *param.opts, *param.secondary_opts])
        names.update(str(v) for v in (param.default if isinstance(param.default, (list, tuple))
                                      else [param.default]))
        names.update(getattr(param.type, "choices", None) or ())
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        walk(sub, [*path, name])

walk(root, [])
runner = CliRunner()
helps = {}
for path in paths:
    result = runner.invoke(app, [*path, "--help"], prog_name="cmdb")
    helps[" ".join(path)] = result.output
json.dump({"helps": helps, "names": sorted(n for n in names if n)}, sys.stdout)
"""

# Words that stay as written: product and format names, and values that are typed as they are.
_ALLOWED = {
    "CMDB", "API", "CSV", "QR", "ZPL", "PDF", "PNG", "JSON", "YAML", "XLSX", "HTML", "UUID", "VIP",
    "ISO", "Web", "Markdown", "OptiPlex", "dpi", "tcp", "cmdb", "str", "int", "float", "path",
    "Location", "Hardware", "SoftwareImage", "Application", "Relationships", "Servers",
    "snipeit", "netbox", "gbk", "utf", "mac", "roman", "windows", "big", "en", "zh",
    "pdf", "png", "zpl", "xlsx", "html", "csv", "pc", "vip", "now", "ppfp",
}
# A Latin word that is not part of a name, option, path or number.
_WORD = re.compile(r"(?<![\w\-./@:'=\[{<])[A-Za-z]{2,}(?![\w\-./@:=}>'])")


def _english_words(text: str, names: set[str]) -> list[str]:
    text = re.sub(r"`[^`]*`", "", text)  # commands quoted as examples
    left = []
    for match in _WORD.finditer(text):
        word = match.group()
        if word in names or word in _ALLOWED or word.isupper():
            continue
        if text[match.end():match.end() + 1] == "（":  # a value with its meaning after it
            continue
        left.append(word)
    return left


def test_every_command_s_help_is_in_chinese():
    result = subprocess.run([sys.executable, "-c", _ALL_HELP], env=_env(LANG="zh_CN.UTF-8",
                                                                         COLUMNS="200"),
                            capture_output=True, text=True, timeout=START_TIMEOUT)
    assert result.returncode == 0, result.stderr
    gathered = json.loads(result.stdout)
    names = {n.lstrip("-") for n in gathered["names"]} | set(gathered["names"])
    assert len(gathered["helps"]) > 60
    english = {path: words for path, text in gathered["helps"].items()
               if (words := _english_words(text, names))}
    assert english == {}
    assert all("用法：" in text for text in gathered["helps"].values())
