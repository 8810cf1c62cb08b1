#!/usr/bin/env bash
# Installs courier's build dependencies from Debian's packages when any is missing.
# Run as root (or with sudo available); does nothing when everything is present.
set -euo pipefail

# libconcurrentqueue-dev, libsimdjson-dev: baselines in the benchmarks only.
# git: the format check lists the tracked files with it. tzdata: Abseil reads IANA time zones
# (schedule expressions) from /usr/share/zoneinfo at run time.
packages=(g++ cmake make pkg-config git libabsl-dev libfmt-dev catch2 libbenchmark-dev libssl-dev
          libboost-json1.81-dev libboost1.81-dev libsqlite3-dev zlib1g-dev
          libconcurrentqueue-dev libsimdjson-dev clang-format python3 ccache tzdata)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "courier: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "courier: run as root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}"
