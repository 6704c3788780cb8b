#!/usr/bin/env bash
# Installs the Debian packages HeatTwin needs, only those missing, only when running as root.
# Usage: install_system_deps.sh [package ...]   (default: everything the tests need)
set -euo pipefail

wanted=("$@")
if [ ${#wanted[@]} -eq 0 ]; then
  # poppler-data: the CMaps pdftotext needs to read back the reports' Chinese (CID font) text; only a
  # "recommends" of poppler, which --no-install-recommends leaves out.
  wanted=(postgresql chromium chromium-driver mosquitto fonts-noto-cjk poppler-utils poppler-data)
fi

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts these as services on install; HeatTwin runs its own private instances instead.
for svc in postgresql mosquitto; do
  if command -v service >/dev/null; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
