#!/usr/bin/env bash
# Build PostgreSQL MAJOR from Debian's source package into
# $ONTSTATUS_PG_CACHE/MAJOR (default /var/cache/ontstatus-pg), once per
# machine.
#
# Debian 12 ships only 15; the upstream sources of other majors are in
# Debian's archive as source packages.  They are fetched with a private
# sources list and apt state directory, so the machine's apt configuration
# is not touched, and no binary package of another suite is ever installed.
# configure's --with-system-tzdata keeps the time-zone data the same as
# Debian 12's PostgreSQL 15.
#
# Run by make matrix, by .ci/run, by hand or under make -j: the same build.
set -euo pipefail

# PostgreSQL's Makefile.global makes its generated headers (errcodes.h,
# fmgroids.h ...) only when MAKELEVEL is 0, and a jobserver in MAKEFLAGS
# belongs to the outer make.  Under `make matrix` both come from our own
# Makefile, so PostgreSQL's build must not see them.
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS

major=${1:?usage: build-pg.sh MAJOR}
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
prefix=$cache/$major
here=$(cd "$(dirname "$0")/../.." && pwd)
logs=$here/test/results/matrix

# The servers run as postgres and PGXS reads pg_config's tree: a cache made
# by mktemp -d (mode 0700) must be opened to them, whoever made it.
make_readable() {
	chmod a+rx "$cache"
	[ -d "$prefix" ] && chmod -R a+rX "$prefix"
	return 0
}

if [ -x "$prefix/bin/pg_config" ] && [ -f "$prefix/.complete" ]; then
	make_readable
	exit 0
fi

# where each major's upstream source is in Debian's archive (2026-11-29:
# 17's and 19's files answer 404 for now; when the archive serves them,
# ONTSTATUS_PG_MAJORS="17" works without a change here)
case $major in
	13) sources=("http://deb.debian.org/debian-security bullseye-security") ;;
	17) sources=("http://deb.debian.org/debian-security trixie-security"
		"http://deb.debian.org/debian trixie") ;;
	18) sources=("http://deb.debian.org/debian sid") ;;
	19) sources=("http://deb.debian.org/debian experimental") ;;
	*) echo "build-pg.sh: no Debian source package known for PostgreSQL $major (known: 13, 17, 18, 19)" >&2
		exit 2 ;;
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
mkdir -p "$work/src"

# keep a failed step's log where the matrix keeps its own, and show its end
fail() {
	local step=$1 file=$2
	mkdir -p "$logs"
	cp "$file" "$logs/pg-$major-$step.log" 2>/dev/null || true
	echo "build-pg.sh: PostgreSQL $major: $step failed; log in test/results/matrix/pg-$major-$step.log:" >&2
	tail -30 "$file" >&2
	exit 1
}

# try each known suite in turn; the first that hands out the files wins
fetched=""
for entry in "${sources[@]}"; do
	read -r uri suite <<<"$entry"
	rm -rf "$work/lists" && mkdir -p "$work/lists/partial"
	printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$uri" "$suite" >"$work/sources.list"
	apt_opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists="$work/lists" -o APT::Sandbox::User=root)
	echo "build-pg.sh: fetching the source of postgresql-$major ($suite)"
	if apt-get "${apt_opts[@]}" -qq update >"$work/fetch.log" 2>&1 &&
		(cd "$work/src" && apt-get "${apt_opts[@]}" -qq source --download-only \
			"postgresql-$major") >>"$work/fetch.log" 2>&1 &&
		ls "$work/src"/postgresql-"$major"_*.orig.tar.* >/dev/null 2>&1; then
		fetched=$suite
		break
	fi
	rm -rf "$work/src" && mkdir -p "$work/src"
done
if [ -z "$fetched" ]; then
	mkdir -p "$logs"
	cp "$work/fetch.log" "$logs/pg-$major-fetch.log" 2>/dev/null || true
	reason=$(grep -E "^(E|Err|W):" "$work/fetch.log" | head -1)
	echo "build-pg.sh: PostgreSQL $major: Debian's archive does not serve its source now (${sources[*]##* }): ${reason:-see test/results/matrix/pg-$major-fetch.log}" >&2
	exit 1
fi

tarball=$(ls "$work/src"/postgresql-"$major"_*.orig.tar.* | head -1)
tar -xf "$tarball" -C "$work/src"
srcdir=$(find "$work/src" -maxdepth 1 -type d -name "postgresql-$major*" | head -1)

echo "build-pg.sh: building PostgreSQL $major into $prefix (a few minutes)"
rm -rf "$prefix"
cd "$srcdir"
./configure --prefix="$prefix" --with-libxml --enable-tap-tests --without-icu \
	--with-system-tzdata=/usr/share/zoneinfo --without-readline >"$work/configure.log" 2>&1 ||
	fail configure "$work/configure.log"
make -j"$(nproc)" >"$work/make.log" 2>&1 || fail make "$work/make.log"
make install >"$work/install.log" 2>&1 || fail install "$work/install.log"
make -C src/test/isolation install >>"$work/install.log" 2>&1 || true
# PGXS's ISOLATION needs pg_isolation_regress and isolationtester beside
# pg_regress; 13's install target does not put them there
pgxs=$("$prefix/bin/pg_config" --pgxs)
isodir=$(dirname "$pgxs")/../../src/test/isolation
mkdir -p "$isodir"
for f in pg_isolation_regress isolationtester; do
	[ -x "$isodir/$f" ] || install -m 755 "src/test/isolation/$f" "$isodir/$f"
done
touch "$prefix/.complete"
make_readable
echo "build-pg.sh: PostgreSQL $major ready in $prefix"
