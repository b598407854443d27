# Sourced by build-pg.sh, build-libxml2.sh and pg-cron.sh: fetch a source
# package, or a binary package's file, from Debian's archive without
# touching the machine's apt configuration (a private sources list and
# state directory; no binary package of another suite is ever installed on
# the machine: debian_binary only downloads the .deb).
#
#   debian_source PACKAGE DEST LOG "URI SUITE" ...
#
# tries each suite in turn and leaves the files of the first that serves the
# package's .orig tarball in DEST; sets debian_source_suite to that suite.
# Returns 1 when none does, with apt's reasons in LOG.
debian_source() {
	local pkg=$1 dest=$2 log=$3 entry uri suite state
	shift 3
	debian_source_suite=""
	state=$(mktemp -d)
	: >"$log"
	for entry in "$@"; do
		read -r uri suite <<<"$entry"
		rm -rf "$state/lists" "$dest" && mkdir -p "$state/lists/partial" "$dest"
		printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			"$uri" "$suite" >"$state/sources.list"
		local apt_opts=(-o Dir::Etc::SourceList="$state/sources.list"
			-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$state/lists"
			-o APT::Sandbox::User=root)
		echo "fetching the source of $pkg ($suite)"
		if apt-get "${apt_opts[@]}" -qq update >>"$log" 2>&1 &&
			(cd "$dest" && apt-get "${apt_opts[@]}" -qq source --download-only "$pkg") >>"$log" 2>&1 &&
			ls "$dest/${pkg}"_*.orig.tar.* >/dev/null 2>&1; then
			debian_source_suite=$suite
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
	local pkg=$1 dest=$2 log=$3 uri suite state rc=1
	read -r uri suite <<<"$4"
	state=$(mktemp -d)
	mkdir -p "$state/lists/partial" "$dest"
	: >"$state/status"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$uri" "$suite" >"$state/sources.list"
	# an empty dpkg status: the machine's installed packages play no part
	local apt_opts=(-o Dir::Etc::SourceList="$state/sources.list"
		-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$state/lists"
		-o Dir::State::Status="$state/status" -o APT::Sandbox::User=root)
	echo "fetching the package $pkg ($suite)"
	if apt-get "${apt_opts[@]}" -qq update >"$log" 2>&1 &&
		(cd "$dest" && apt-get "${apt_opts[@]}" -qq download "$pkg") >>"$log" 2>&1 &&
		ls "$dest/${pkg}"_*.deb >/dev/null 2>&1; then
		rc=0
	fi
	rm -rf "$state"
	return $rc
}
