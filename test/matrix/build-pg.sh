#!/usr/bin/env bash
# Build PostgreSQL MAJOR from Debian's source package into
# /var/cache/ontstatus-pg/MAJOR (ONTSTATUS_PG_CACHE), once per machine.
#
# Debian 12 ships only 15; the upstream sources of other majors are in
# Debian's archive as source packages (13 in bullseye-security, 18 in sid).
# They are fetched with a private sources list and apt state directory, so
# the machine's apt configuration is not touched, and no binary package of
# another suite is ever installed.  configure's --with-system-tzdata keeps
# the time-zone data the same as Debian 12's PostgreSQL 15.
set -euo pipefail
major=${1:?usage: build-pg.sh MAJOR}
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
prefix=$cache/$major
[ -x "$prefix/bin/pg_config" ] && [ -f "$prefix/.complete" ] && exit 0

case $major in
	13) suite=bullseye-security; uri=http://deb.debian.org/debian-security ;;
	18) suite=sid; uri=http://deb.debian.org/debian ;;
	*) echo "build-pg.sh: no source known for PostgreSQL $major" >&2; exit 2 ;;
esac

# what building from source needs, from Debian 12's own archive
need=()
for p in bison flex gcc make zlib1g-dev libxml2-dev libipc-run-perl dpkg-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "build-pg.sh: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/src"
cat >"$work/sources.list" <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main
LIST
apt_opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$work/lists" -o APT::Sandbox::User=root)
echo "build-pg.sh: fetching the source of postgresql-$major ($suite)"
apt-get "${apt_opts[@]}" -qq update
(cd "$work/src" && apt-get "${apt_opts[@]}" -qq source --download-only "postgresql-$major")
tarball=$(ls "$work/src"/postgresql-"$major"_*.orig.tar.* | head -1)
tar -xf "$tarball" -C "$work/src"
srcdir=$(find "$work/src" -maxdepth 1 -type d -name "postgresql-$major*" | head -1)

echo "build-pg.sh: building PostgreSQL $major into $prefix (a few minutes)"
cd "$srcdir"
./configure --prefix="$prefix" --with-libxml --enable-tap-tests --without-icu \
	--with-system-tzdata=/usr/share/zoneinfo --without-readline >"$work/configure.log" 2>&1 ||
	{ tail -30 "$work/configure.log"; exit 1; }
make -s -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log"; exit 1; }
make -s install >/dev/null
make -s -C src/test/isolation install >/dev/null 2>&1 || true
# PGXS's ISOLATION needs pg_isolation_regress and isolationtester beside
# pg_regress; 13's install target does not put them there
pgxs=$("$prefix/bin/pg_config" --pgxs)
isodir=$(dirname "$pgxs")/../../src/test/isolation
mkdir -p "$isodir"
for f in pg_isolation_regress isolationtester; do
	[ -x "$isodir/$f" ] || install -m 755 "src/test/isolation/$f" "$isodir/$f"
done
touch "$prefix/.complete"
echo "build-pg.sh: PostgreSQL $major ready in $prefix"
