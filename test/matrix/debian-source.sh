# Sourced by build-pg.sh, build-libxml2.sh and pg-cron.sh: fetch a source
# package, or a binary package's file, from Debian's archive without
# touching the machine's apt configuration (a private sources list and
# state directory; no binary package of another suite is ever installed on
# the machine: debian_binary only downloads the .deb).

# apt_private STATE KIND "URI SUITE": a private apt state in STATE (fresh
# package lists, an empty dpkg status, so the machine's installed packages
# play no part) for one suite's "deb" or "deb-src" line; sets apt_opts, the
# options that make apt-get use it.
apt_private() {
	local state=$1 kind=$2 uri suite
	read -r uri suite <<<"$3"
	rm -rf "$state/lists" && mkdir -p "$state/lists/partial"
	: >"$state/status"
	printf '%s [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$kind" "$uri" "$suite" >"$state/sources.list"
	apt_opts=(-o Dir::Etc::SourceList="$state/sources.list"
		-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$state/lists"
		-o Dir::State::Status="$state/status" -o APT::Sandbox::User=root)
}

# debian_source PACKAGE DEST LOG "URI SUITE" ...: tries each suite in turn
# and leaves the files of the first that serves the package's .orig tarball
# in DEST; sets debian_source_suite to that suite.  Returns 1 when none
# does, with apt's reasons in LOG.
debian_source() {
	local pkg=$1 dest=$2 log=$3 entry state apt_opts
	shift 3
	debian_source_suite=""
	state=$(mktemp -d)
	: >"$log"
	for entry in "$@"; do
		apt_private "$state" deb-src "$entry"
		rm -rf "$dest" && mkdir -p "$dest"
		echo "fetching the source of $pkg (${entry##* })"
		if apt-get "${apt_opts[@]}" -qq update >>"$log" 2>&1 &&
			(cd "$dest" && apt-get "${apt_opts[@]}" -qq source --download-only "$pkg") >>"$log" 2>&1 &&
			ls "$dest/${pkg}"_*.orig.tar.* >/dev/null 2>&1; then
			debian_source_suite=${entry##* }
			break
		fi
	done
	rm -rf "$state"
	[ -n "$debian_source_suite" ]
}

# the first line apt gave as a reason, for a one-line failure message
debian_source_reason() {
	grep -E "^(E|Err|W):" "$1" | head -1
}

# debian_binary PACKAGE DEST LOG "URI SUITE": the .deb of PACKAGE (amd64, as
# the suite has it) downloaded into DEST, not installed.  Returns 1 when the
# suite does not serve it, with apt's reasons in LOG.
debian_binary() {
	local pkg=$1 dest=$2 log=$3 state apt_opts rc=1
	state=$(mktemp -d)
	apt_private "$state" deb "$4"
	mkdir -p "$dest"
	echo "fetching the package $pkg (${4##* })"
	if apt-get "${apt_opts[@]}" -qq update >"$log" 2>&1 &&
		(cd "$dest" && apt-get "${apt_opts[@]}" -qq download "$pkg") >>"$log" 2>&1 &&
		ls "$dest/${pkg}"_*.deb >/dev/null 2>&1; then
		rc=0
	fi
	rm -rf "$state"
	return $rc
}
