#!/usr/bin/env bash
# Installs the Debian packages ontstatus needs to build and test, when any is
# missing.  Needs root (or sudo) only when something must be installed.
set -euo pipefail

pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-common
      libxml2-dev libxml2-utils pkg-config make gcc libipc-run-perl
      clang-14 libclang-rt-14-dev bc valgrind)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
