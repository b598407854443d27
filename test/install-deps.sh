#!/usr/bin/env bash
# Installs the Debian packages ontstatus needs to build and test, when any is
# missing.  Needs root (or sudo) only when something must be installed.
#
# postgresql-15-cron is pg_cron, for test/t/005_pg_cron.pl (skipped where
# pg_cron is not installed for the PostgreSQL under test).
#
# The Java packages are for test/java (the ONT cell's own path: PgJDBC and
# JAXB).  They are installed when missing like the rest, but a failure to
# install them is not fatal: test/java/run.sh then reports itself skipped.
set -euo pipefail

pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-common
      libxml2-dev libxml2-utils pkg-config make gcc libipc-run-perl
      clang-14 libclang-rt-14-dev bc valgrind postgresql-15-cron)
java_pkgs=(default-jdk-headless libpostgresql-jdbc-java jaxb libjaxb-java libjaxb-api-java)

missing_of() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}
mapfile -t missing < <(missing_of "${pkgs[@]}")
mapfile -t java_missing < <(missing_of "${java_pkgs[@]}")
[ ${#missing[@]} -eq 0 ] && [ ${#java_missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
apt_install() {
	$sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@"
}

echo "installing: ${missing[*]} ${java_missing[*]}"
if [ ${#missing[@]} -ne 0 ]; then
	$sudo apt-get update -qq
	apt_install "${missing[@]}"
else
	$sudo apt-get update -qq || echo "install-deps: apt-get update failed; trying the Java packages anyway" >&2
fi
if [ ${#java_missing[@]} -ne 0 ]; then
	apt_install "${java_missing[@]}" ||
		echo "install-deps: could not install ${java_missing[*]}: test/java will be skipped" >&2
fi
exit 0
