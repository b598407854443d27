#!/usr/bin/env bash
# Build libxml2 SERIES (2.15) from Debian's source package into
# $ONTSTATUS_PG_CACHE/libxml2-SERIES, once per machine, for the matrix
# configuration "18+libxml2-2.15": Debian 12 ships libxml2 2.9.14, while
# sites on newer distributions run 2.12 and later, whose parser (and
# soname, libxml2.so.16 from 2.14) differ.  The library is installed into a
# private prefix only; nothing of the system's libxml2 is replaced.
set -euo pipefail
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS

series=${1:?usage: build-libxml2.sh SERIES (e.g. 2.15)}
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
prefix=$cache/libxml2-$series
here=$(cd "$(dirname "$0")/../.." && pwd)
logs=$here/test/results/matrix
# shellcheck source=debian-source.sh
. "$here/test/matrix/debian-source.sh"

if [ -x "$prefix/bin/xml2-config" ] && [ -f "$prefix/.complete" ]; then
	chmod a+rx "$cache" && chmod -R a+rX "$prefix"
	exit 0
fi

# where each series is in Debian's archive (2026-11-30: sid has 2.15.4)
case $series in
	2.15) sources=("http://deb.debian.org/debian sid") ;;
	*) echo "build-libxml2.sh: no Debian source package known for libxml2 $series (known: 2.15)" >&2
		exit 2 ;;
esac

need=()
for p in gcc make pkg-config dpkg-dev xz-utils; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "build-libxml2.sh: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
	mkdir -p "$logs"
	cp "$2" "$logs/libxml2-$series-$1.log" 2>/dev/null || true
	echo "build-libxml2.sh: libxml2 $series: $1 failed; log in test/results/matrix/libxml2-$series-$1.log:" >&2
	tail -30 "$2" >&2
	exit 1
}

if ! debian_source libxml2 "$work/src" "$work/fetch.log" "${sources[@]}"; then
	mkdir -p "$logs"
	cp "$work/fetch.log" "$logs/libxml2-$series-fetch.log" 2>/dev/null || true
	echo "build-libxml2.sh: Debian's archive does not serve libxml2's source now (${sources[*]##* }): $(debian_source_reason "$work/fetch.log")" >&2
	exit 1
fi
tarball=$(ls "$work/src"/libxml2_*.orig.tar.* | head -1)
version=$(basename "$tarball" | sed -E 's/^libxml2_([0-9.]+).*/\1/')
# the configuration is named after its series: when the suite has moved on,
# say so rather than test another libxml2 under this name
case $version in
	"$series".*) ;;
	*) echo "build-libxml2.sh: Debian $debian_source_suite now has libxml2 $version, not $series.x: add the suite that keeps $series, or move the matrix to ${version%.*}" >&2
		exit 1 ;;
esac
tar -xf "$tarball" -C "$work/src"
srcdir=$(find "$work/src" -maxdepth 1 -type d -name "libxml2-*" | head -1)

echo "build-libxml2.sh: building libxml2 $version into $prefix"
rm -rf "$prefix"
cd "$srcdir"
./configure --prefix="$prefix" --without-python --disable-static >"$work/configure.log" 2>&1 ||
	fail configure "$work/configure.log"
make -j"$(nproc)" >"$work/make.log" 2>&1 || fail make "$work/make.log"
make install >"$work/install.log" 2>&1 || fail install "$work/install.log"
echo "$version" >"$prefix/.version"
touch "$prefix/.complete"
chmod a+rx "$cache" && chmod -R a+rX "$prefix"
echo "build-libxml2.sh: libxml2 $version ready in $prefix"
