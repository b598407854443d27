#!/usr/bin/env bash
# Build PostgreSQL MAJOR from Debian's source package into
# $ONTSTATUS_PG_CACHE/MAJOR (default /var/cache/ontstatus-pg), once per
# machine.  A configuration MAJOR+libxml2-SERIES (18+libxml2-2.15) builds
# that libxml2 first (build-libxml2.sh) and configures PostgreSQL against
# it, with an rpath, so that the server and ontstatus load the same
# libxml2 and never the system's.  A configuration MAJOR+cassert
# (18+cassert) is the same source built for finding bugs rather than for
# speed: assertions on (--enable-cassert, so a failed Assert() in
# PostgreSQL or in ontstatus is a TRAP: and an abort), debug symbols, and
# USE_VALGRIND, so that memory contexts tell valgrind which palloc'd chunks
# are allocated (make valgrind, test/valgrind/run.sh); PostgreSQL's
# valgrind suppressions are kept as PREFIX/valgrind.supp.
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

config=${1:?usage: build-pg.sh MAJOR, MAJOR+libxml2-SERIES or MAJOR+cassert}
major=${config%%+*}
libxml2=""
cassert=""
case $config in
	*+libxml2-*) libxml2=${config#*+libxml2-} ;;
	*+cassert) cassert=1 ;;
	*+*) echo "build-pg.sh: unknown configuration $config (MAJOR, MAJOR+libxml2-SERIES or MAJOR+cassert)" >&2
		exit 2 ;;
esac
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
prefix=$cache/$config
here=$(cd "$(dirname "$0")/../.." && pwd)
logs=$here/test/results/matrix
# shellcheck source=debian-source.sh
. "$here/test/matrix/debian-source.sh"

# The servers run as postgres and PGXS reads pg_config's tree: a cache made
# by mktemp -d (mode 0700) must be opened to them, whoever made it.
make_readable() {
	chmod a+rx "$cache"
	[ -d "$prefix" ] && chmod -R a+rX "$prefix"
	return 0
}

if [ -n "$libxml2" ]; then
	ONTSTATUS_PG_CACHE=$cache "$here/test/matrix/build-libxml2.sh" "$libxml2"
	xml2_prefix=$cache/libxml2-$libxml2
fi

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

# keep a failed step's log where the matrix keeps its own, and show its end
fail() {
	local step=$1 file=$2
	mkdir -p "$logs"
	cp "$file" "$logs/pg-$config-$step.log" 2>/dev/null || true
	echo "build-pg.sh: PostgreSQL $config: $step failed; log in test/results/matrix/pg-$config-$step.log:" >&2
	tail -30 "$file" >&2
	exit 1
}

if ! debian_source "postgresql-$major" "$work/src" "$work/fetch.log" "${sources[@]}"; then
	mkdir -p "$logs"
	cp "$work/fetch.log" "$logs/pg-$major-fetch.log" 2>/dev/null || true
	reason=$(debian_source_reason "$work/fetch.log")
	echo "build-pg.sh: PostgreSQL $major: Debian's archive does not serve its source now (${sources[*]##* }): ${reason:-see test/results/matrix/pg-$major-fetch.log}" >&2
	exit 1
fi

tarball=$(ls "$work/src"/postgresql-"$major"_*.orig.tar.* | head -1)
tar -xf "$tarball" -C "$work/src"
srcdir=$(find "$work/src" -maxdepth 1 -type d -name "postgresql-$major*" | head -1)

echo "build-pg.sh: building PostgreSQL $config into $prefix (a few minutes)"
rm -rf "$prefix"
cd "$srcdir"
xml_env=()
if [ -n "$libxml2" ]; then
	# configure asks xml2-config (pkg-config from 16 on, which the private
	# .pc answers first); the rpath makes the server load this libxml2
	xml_env=(XML2_CONFIG="$xml2_prefix/bin/xml2-config"
		PKG_CONFIG_PATH="$xml2_prefix/lib/pkgconfig"
		LDFLAGS="-Wl,-rpath,$xml2_prefix/lib")
fi
debug_opts=()
if [ -n "$cassert" ]; then
	# -O1, not -O0: under valgrind every instruction costs tens of times
	# its native time, and -O0 code runs many more of them (every variable
	# kept in memory); -O1 still inlines little (-finline-small-functions
	# comes with -O2), so a stack names the functions of the source, and
	# -fno-omit-frame-pointer keeps stacks whole where unwind information
	# is missing.  PGXS builds ontstatus with these CFLAGS too (and -Werror
	# holds at -O1: no maybe-uninitialized warning there).
	debug_opts=(--enable-cassert --enable-debug CFLAGS="-O1 -g -fno-omit-frame-pointer" CPPFLAGS="-DUSE_VALGRIND")
fi
env "${xml_env[@]}" ./configure --prefix="$prefix" --with-libxml --enable-tap-tests --without-icu \
	--with-system-tzdata=/usr/share/zoneinfo --without-readline "${debug_opts[@]}" >"$work/configure.log" 2>&1 ||
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
if [ -n "$libxml2" ]; then
	# the whole output first: grep -q would close the pipe on ldd (pipefail)
	ldd "$prefix/bin/postgres" >"$work/ldd.log" 2>&1 || true
	grep -q "$xml2_prefix/lib/libxml2" "$work/ldd.log" || fail "libxml2-link" "$work/ldd.log"
fi
if [ -n "$cassert" ]; then
	# the source tree is temporary: its suppressions go with the build
	install -m 644 src/tools/valgrind.supp "$prefix/valgrind.supp" ||
		fail "valgrind.supp" "$work/install.log"
	grep -q "define USE_ASSERT_CHECKING 1" "$("$prefix/bin/pg_config" --includedir-server)/pg_config.h" ||
		fail "cassert" "$work/configure.log"
fi
touch "$prefix/.complete"
make_readable
echo "build-pg.sh: PostgreSQL $config ready in $prefix"
