#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2013  # dpkg-query formats are dpkg's to expand; Makefile words
# make deb, make deb-test: the Debian package postgresql-NN-ontstatus, built
# with Debian's own tooling (debian/: debhelper and pg_buildext) in a clean
# chroot of a Debian release, and tested as a site installs it.
#
#   deb.sh build    (make deb)       dist/postgresql-NN-ontstatus_V-1_ARCH.deb
#   deb.sh test     (make deb-test)  built first if dist/ lacks it
#
# DEB_RELEASE names the release: bookworm (Debian 12, PostgreSQL 15; the
# default) or trixie (Debian 13, PostgreSQL 17).  Runs as root (debootstrap,
# chroot, mount).
#
# The chroots: a minbase chroot of the release (debootstrap from the mirror
# this machine's apt sources name, nothing installed but its upgrades) is
# made once into $ONTSTATUS_PG_CACHE (default /var/cache/ontstatus-pg) as
# chroot-base-RELEASE (about a minute; ONTSTATUS_DEBIAN_REFRESH=1 makes it
# again), and every run works in a throwaway copy of it, removed at the end,
# with the mount discipline of make matrix (test/matrix/chroot-lib.sh):
# every mount undone on every way out, after stopping what runs inside.
# Downloaded packages are kept in the cache (apt-archives-RELEASE, bound on
# /var/cache/apt/archives) so that a second run downloads nothing.
#
# build: the source tree is the files git has (tracked, and untracked ones
# it does not ignore, as they are in the work tree: what the next commit
# would hold), copied into the chroot.  debian/changelog is not kept in git:
# it is written here, "ontstatus (V-1) RELEASE", V being default_version in
# ontstatus.control - the one place a version is bumped - dated with the
# last commit (dpkg takes SOURCE_DATE_EPOCH from it).  debian/control is
# made from debian/control.in for the release's major (as
# `pg_buildext updatecontrol` makes it; debian/rules checks it is).  Then in
# the copy: build-essential, `apt-get build-dep` (only what debian/control's
# Build-Depends names, so a missing one fails the build), and
# `dpkg-buildpackage -us -uc -b`.  The .deb (and its -dbgsym, which debhelper
# makes) go to dist/, with the .buildinfo and .changes as
# ontstatus_V-1_ARCH_RELEASE.changes; the log to test/results/deb/build-RELEASE.log.
#
# test (the package built first if dist/ lacks it or the tree has changed
# since): in a throwaway copy holding only the release's postgresql-NN,
#   - `apt-get install ./postgresql-NN-ontstatus_*.deb` installs it and
#     nothing else (its Depends name postgresql-NN, libxml2, libc6 only);
#   - it holds the module, the control file, every install and upgrade
#     script (DATA in the Makefile) and README.md, the upstream changelog
#     and the DEP-5 copyright under /usr/share/doc;
#   - the regression and isolation suites run against the installed files
#     (debian/tests/installcheck, the package's autopkgtest, running
#     test/deb/installcheck.sh as postgres): the chroot holds the tests'
#     inputs and no build (no module, no control file, no install script
#     outside the package: checked);
#   - `apt-get remove` (then `dpkg --purge`) leaves none of its files;
#   - lintian (the release's) reports no error; its tags are shown and kept
#     in test/results/deb/lintian-RELEASE.txt (see debian/README.source
#     for the warnings that remain and why).
# Each step's time is printed.  Exits non-zero on any failure.
set -uo pipefail
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS

mode=${1:-}
case $mode in
	build | test) ;;
	*) echo "usage: deb.sh build|test (DEB_RELEASE=bookworm|trixie)" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/../.." && pwd)
release=${DEB_RELEASE:-bookworm}
case $release in
	bookworm | 12) release=bookworm major=15 label="Debian 12" ;;
	trixie | 13) release=trixie major=17 label="Debian 13" ;;
	*) echo "deb.sh: DEB_RELEASE=$release: known releases are bookworm (Debian 12) and trixie (Debian 13)" >&2
		exit 2 ;;
esac
# what chroot-lib.sh makes the chroot of
suite=$release extra=("$release-updates" "$release-security") stale_ok=""
version=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$top/ontstatus.control")
[ -n "$version" ] || { echo "deb.sh: no default_version in ontstatus.control" >&2; exit 2; }
debversion=$version-1
arch=$(dpkg --print-architecture)
pkg=postgresql-$major-ontstatus
deb=${pkg}_${debversion}_$arch.deb
dist=$top/dist
logs=$top/test/results/deb
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
mkdir -p "$logs" "$cache" && cache=$(cd "$cache" && pwd -P)
base=$cache/chroot-base-$release
archives=$cache/apt-archives-$release
start=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
	echo "deb.sh: a chroot needs root (debootstrap, chroot, mount)" >&2
	exit 2
fi
if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	echo "deb.sh: $top is not a git checkout: the package is built from the files git has" >&2
	exit 2
fi
# make deb-test builds the package first when dist/ lacks it, or when a
# file git has is newer than it
if [ "$mode" = test ]; then
	if [ ! -f "$dist/$deb" ]; then
		echo "deb.sh: no dist/$deb: building it first"
		"$0" build || exit 1
	elif [ "$(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r stat -c %Y 2>/dev/null | sort -n | tail -1)" -gt "$(stat -c %Y "$dist/$deb")" ]; then
		echo "deb.sh: the tree has changed since dist/$deb was built: building it again"
		"$0" build || exit 1
	fi
fi

# shellcheck source=test/matrix/chroot-lib.sh
. "$top/test/matrix/chroot-lib.sh"
chroot_mirrors
chroot_traps

# the base chroot holds the release's minbase and its upgrades, nothing more
populate() { :; }
t0=$(date +%s)
timed() {
	echo "deb.sh: $1: $(($(date +%s) - t0)) s"
	t0=$(date +%s)
}
fail() {
	echo "deb.sh: $1; log in ${log#"$top"/}:" >&2
	tail -30 "$log" >&2
	exit 1
}

chroot_ensure "$base" populate "$logs/chroot-base-$release.log" || exit 1
chroot_throwaway "$base" || exit 1
mount_in "$root" || exit 1
mkdir -p "$archives/partial"
mount --bind "$archives" "$root/var/cache/apt/archives" || exit 1
timed "a throwaway $release chroot"
log=$logs/$mode-$release.log
: >"$log"
step in_chroot apt-get update -q >>"$log" 2>&1 || fail "apt-get update failed"

if [ "$mode" = build ]; then
	src=/build/ontstatus-$version
	mkdir -p "$root$src"
	# the files git has, as they are in the work tree (those deleted there
	# are passed over)
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$root$src" || fail "copying the tree failed"
	[ -f "$root$src/debian/control" ] && { echo "deb.sh: debian/control is made from control.in: remove it" >&2; exit 1; }
	sed "s/PGVERSION/$major/g" "$root$src/debian/control.in" >"$root$src/debian/control"
	date=$(cd "$top" && git log -1 --format=%cD 2>/dev/null) || date=$(date -R)
	maintainer=$(sed -n 's/^Maintainer: //p' "$root$src/debian/control.in")
	cat >"$root$src/debian/changelog" <<-EOF
	ontstatus ($debversion) $release; urgency=medium

	  * ontstatus $version for PostgreSQL $major on $label: see the upstream
	    changelog (changelog.gz, CHANGELOG.md in the source).

	 -- $maintainer  $date
	EOF
	timed "the source tree (ontstatus $debversion)"
	{
		step in_chroot apt-get install -y -q --no-install-recommends build-essential &&
			step in_chroot apt-get build-dep -y -q --no-install-recommends "$src"
	} >>"$log" 2>&1 || fail "installing the Build-Depends failed"
	timed "build-essential and the Build-Depends"
	step in_chroot env -C "$src" DEB_BUILD_OPTIONS=parallel=2 \
		dpkg-buildpackage -us -uc -b >>"$log" 2>&1 || fail "dpkg-buildpackage failed"
	timed "dpkg-buildpackage -us -uc -b"
	mkdir -p "$dist"
	[ -f "$root/build/$deb" ] || fail "no $deb made"
	cp "$root"/build/*.deb "$dist/" || fail "copying the packages failed"
	# the source's .buildinfo and .changes have the same names for every
	# release: kept with the release's name added
	for f in "$root"/build/*.buildinfo "$root"/build/*.changes; do
		[ -f "$f" ] || continue
		b=${f##*/}
		cp "$f" "$dist/${b%.*}_$release.${b##*.}"
	done
	echo "deb.sh: dist/$deb ($(du -k "$dist/$deb" | cut -f1) kB) for PostgreSQL $major on $label, in $(($(date +%s) - start)) s"
	exit 0
fi

# ---- test
ok=0 notok=0
check() {
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"; ok=$((ok + 1))
	else
		echo "not ok - $2"; notok=$((notok + 1))
	fi
}
installed() { in_chroot dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort; }
cp "$dist/$deb" "$root/tmp/"
step in_chroot apt-get install -y -q --no-install-recommends "postgresql-$major" >>"$log" 2>&1 ||
	fail "installing postgresql-$major failed"
timed "postgresql-$major installed"
before=$(installed)
step in_chroot apt-get install -y -q --no-install-recommends "/tmp/$deb" >>"$log" 2>&1
check $? "apt-get install ./$deb"
added=$(comm -13 <(echo "$before") <(installed) | tr '\n' ' ')
[ "$added" = "$pkg " ]
check $? "it installs $pkg and nothing else (added: $added)"
depends=$(in_chroot dpkg-query -W -f '${Depends}' "$pkg")
# shellcheck disable=SC2020
names=$(tr ',|' '\n\n' <<<"$depends" | awk '{ print $1 }' | sort -u | tr '\n' ' ')
[ "$names" = "libc6 libxml2 postgresql-$major " ]
check $? "Depends: $depends"
timed "installed"

# what it holds
files=$(in_chroot dpkg -L "$pkg")
share=/usr/share/postgresql/$major/extension
want=("/usr/lib/postgresql/$major/lib/ontstatus.so" "$share/ontstatus.control"
	"/usr/share/doc/$pkg/copyright" "/usr/share/doc/$pkg/changelog.gz"
	"/usr/share/doc/$pkg/changelog.Debian.gz")
for f in $(awk '$1 == "DATA" && $2 == "=" { $1 = $2 = ""; print }' "$top/Makefile"); do
	want+=("$share/${f##*/}")
done
missing=""
for f in "${want[@]}"; do
	grep -qxF "$f" <<<"$files" || missing+=" $f"
done
grep -qE "^/usr/share/doc/$pkg/README\.md(\.gz)?$" <<<"$files" || missing+=" README.md"
[ -z "$missing" ]
check $? "it holds the module, the control file, the ${#want[@]} files of DATA, README.md, changelog, copyright${missing:+ (missing:$missing)}"
grep -q "^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" "$root/usr/share/doc/$pkg/copyright" &&
	grep -q "^License: PostgreSQL$" "$root/usr/share/doc/$pkg/copyright"
check $? "its copyright is DEP-5, naming the PostgreSQL Licence"

# the tests' inputs, and no build: the extension can only come from the package
work=/var/tmp/ontstatus-deb-test
mkdir -p "$root$work"
inputs=(Makefile META.json debian/tests test/deb/installcheck.sh expected test/specs test/expected test/fixtures)
for f in "$top"/sql/*.sql; do
	case ${f##*/} in ontstatus--*) ;; *) inputs+=("sql/${f##*/}") ;; esac
done
(cd "$top" && tar -cf - "${inputs[@]}") | tar -xf - -C "$root$work" || fail "copying the tests failed"
strays=$(cd "$root" && find . -xdev \( -name 'ontstatus*.so' -o -name 'ontstatus*.control' -o -name 'ontstatus--*.sql' -o -name '*.o' \) -print |
	sed 's/^\.//' | grep -vxF -f <(echo "$files"))
[ -z "$strays" ]
check $? "no ontstatus file in the chroot but the package's${strays:+ (also: ${strays//$'\n'/ })}"
in_chroot dpkg -S "/usr/lib/postgresql/$major/lib/ontstatus.so" | grep -q "^$pkg: "
check $? "dpkg -S: $pkg owns /usr/lib/postgresql/$major/lib/ontstatus.so"
in_chroot chown -R postgres: "$work"
step in_chroot runuser -u postgres -- env -C "$work" debian/tests/installcheck >"$logs/installcheck-$release.log" 2>&1
suite_rc=$?
grep -E "^(ok|not ok) - " "$logs/installcheck-$release.log"
p=$(grep -cE "^(test .*\.\.\. ok|ok +[0-9]+ +[-+] )" "$logs/installcheck-$release.log")
f=$(grep -cE "^(test .*\.\.\. (FAILED|failed)|not ok +[0-9]+ )" "$logs/installcheck-$release.log")
[ $suite_rc -ne 0 ] && tail -60 "$logs/installcheck-$release.log"
check $suite_rc "the regression and isolation suites against the installed package: $p passed, $f failed (log in test/results/deb/installcheck-$release.log)"
timed "the suites"

# removed, then purged: none of its files is left; of its directories only
# those another package owns
step in_chroot apt-get remove -y -q "$pkg" >>"$log" 2>&1
check $? "apt-get remove $pkg"
left=""
for f in $files; do
	[ -d "$root$f" ] && continue
	[ -e "$root$f" ] || [ -L "$root$f" ] && left+=" $f"
done
[ -z "$left" ]
check $? "removed: none of its $(wc -w <<<"$files") paths' files left${left:+ (left:$left)}"
# (apt knows a package from a local file only while it is installed: the
# purge is dpkg's)
step in_chroot dpkg --purge "$pkg" >>"$log" 2>&1
check $? "dpkg --purge $pkg"
left=""
for f in $files; do
	[ "$f" = /. ] && continue
	if [ -d "$root$f" ]; then
		in_chroot dpkg -S "$f" >/dev/null 2>&1 || left+=" $f"
	elif [ -e "$root$f" ] || [ -L "$root$f" ]; then
		left+=" $f"
	fi
done
[ -z "$left" ] && [ -z "$(in_chroot dpkg-query -W -f '${db:Status-Abbrev}' "$pkg" 2>/dev/null | tr -d ' ')" ]
check $? "purged: nothing of it left, not even its dpkg record${left:+ (left:$left)}"
timed "removed and purged"

# lintian of the release
step in_chroot apt-get install -y -q --no-install-recommends lintian >>"$log" 2>&1 ||
	fail "installing lintian failed"
in_chroot lintian --version | sed 's/^/# /'
step in_chroot runuser -u nobody -- env HOME=/tmp lintian --display-info --display-experimental \
	--tag-display-limit 0 "/tmp/$deb" >"$logs/lintian-$release.txt" 2>&1
lint=$?
sed 's/^/#   /' "$logs/lintian-$release.txt"
errors=$(grep -c "^E: " "$logs/lintian-$release.txt")
warnings=$(grep -c "^W: " "$logs/lintian-$release.txt")
[ "$errors" -eq 0 ] && [ $lint -eq 0 ]
check $? "lintian: $errors errors, $warnings warnings (exit $lint)"
timed "lintian"

echo "deb.sh: $pkg $debversion on $label: $ok passed, $notok failed (in all $(($(date +%s) - start)) s)"
[ "$notok" -eq 0 ]
