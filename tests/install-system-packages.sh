#!/usr/bin/env bash
# The browser tests drive Debian's chromium; the label tests also cover a system CJK font
# (Debian's Noto Sans CJK, found before the one cmdb installs from PyPI).
# Installs them when missing and this user may (root with apt-get); otherwise says what to install.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! fc-list 2>/dev/null | grep -qiE 'Noto Sans CJK|WenQuanYi'; then missing+=(fonts-noto-cjk fontconfig); fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: install ${missing[*]} (e.g. sudo apt-get install ${missing[*]}) for the browser and CJK label tests" >&2
fi
