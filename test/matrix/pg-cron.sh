#!/usr/bin/env bash
# pg_cron for a PostgreSQL built from source by build-pg.sh, so that
# test/t/005_pg_cron.pl runs there too:
#
#   pg-cron.sh PG_CONFIG
#
# Debian's archive serves pg_cron's binary packages but not its source
# (pg-cron's .orig tarballs answer 404, 2026-12-07), so the files of the
# release's postgresql-MAJOR-cron are put into that build's tree: the
# library into pkglibdir, the extension's control and scripts into
# sharedir/extension.  Within a major PostgreSQL keeps its ABI (the
# library's magic block is checked when it loads), so Debian's build fits a
# build of the same major; what must fit too is the machine's C library:
#   13  Debian 11's postgresql-13-cron, pg_cron 1.3.0 (glibc 2.14 symbols)
#   18  sid's postgresql-18-cron 1.6.8 needs glibc 2.38 (Debian 12 has
#       2.36): not installed here; make matrix's 18-sid configuration tests
#       pg_cron on 18 with sid's own packages, in a chroot
# Other majors: nothing to do (15 has Debian 12's package, 17 and 19 run in
# their release's chroot).  Idempotent: a tree that has pg_cron is left as
# it is.  Exits non-zero when a known package cannot be fetched or installed.
set -euo pipefail
pgc=${1:?usage: pg-cron.sh PG_CONFIG}
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=debian-source.sh
. "$here/test/matrix/debian-source.sh"

major=$("$pgc" --version | sed -nE 's/^PostgreSQL ([0-9]+).*/\1/p')
case $major in
	13) suite="http://deb.debian.org/debian bullseye" ;;
	*) exit 0 ;;
esac
pkglibdir=$("$pgc" --pkglibdir)
extdir=$("$pgc" --sharedir)/extension
if [ -f "$pkglibdir/pg_cron.so" ] && [ -f "$extdir/pg_cron.control" ]; then
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=postgresql-$major-cron
if ! debian_binary "$pkg" "$work/deb" "$work/fetch.log" "$suite"; then
	echo "pg-cron.sh: $pkg: ${suite##* } does not serve it now: $(debian_source_reason "$work/fetch.log")" >&2
	exit 1
fi
dpkg-deb -x "$work"/deb/"$pkg"_*.deb "$work/root"
install -m 755 "$work/root/usr/lib/postgresql/$major/lib/pg_cron.so" "$pkglibdir/"
install -m 644 "$work/root/usr/share/postgresql/$major/extension"/pg_cron* "$extdir/"
echo "pg-cron.sh: $pkg $(dpkg-deb -f "$work"/deb/"$pkg"_*.deb Version) installed into $("$pgc" --bindir)/.."
