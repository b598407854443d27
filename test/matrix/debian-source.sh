# Sourced by build-pg.sh and build-libxml2.sh: fetch a source package from
# Debian's archive without touching the machine's apt configuration (a
# private sources list and state directory; no binary package of another
# suite is ever installed).
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
