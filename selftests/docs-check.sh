#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/docs-check.sh - the documentation cannot rot unnoticed (TAP).
# Run by `make check` (selftests/check.sh docs); host only, no guest.
#
#  * every man page renders without a warning: man -l with groff's
#    warnings on, and mandoc -Tlint at level warning;
#  * each program's usage text and its man page (SYNOPSIS and OPTIONS)
#    name the same options: pcid --help and pcid(1), memd and memd(1),
#    rxuctl and rxuctl(1);
#  * make -C userspace install (DESTDIR, PREFIX) puts every page where
#    man(1) finds it;
#  * the examples of README.md and docs/ (the C block after a marker
#    comment "example: compiled by ...") compile with -Wall -Wextra
#    -Werror against the build tree's librxu (rxu-uninstalled.pc);
#  * every relative link of README.md, CONTRIBUTING.md and docs/*.md names
#    a file of the tree, and every #anchor a heading of that file;
#  * README.md stays a front page: at most 250 lines, and a measured figure
#    only in a row of its Status table that names the commit it was
#    measured at and links the docs page holding the same ratio.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
build=$top/build/userspace
work=$top/build/check/docs
rm -rf "$work"
mkdir -p "$work"

# Pages other branches add; a link to one of them is reported, not failed,
# until it exists.  Remove a name once its page has landed.
pending=""

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; }
# check NAME CMD...: one case; CMD's output is shown only when it fails.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		nok "$name"
		printf '%s\n' "$out" | head -n 20 | sed 's/^/# /'
	fi
}

pages=$(ls man/man1/*.1 man/man3/*.3)
programs="pcid memd rxuctl"
echo "TAP version 13"
examples=$(grep -l '<!-- example: compiled by' README.md docs/*.md 2>/dev/null)
echo "1..$(($(echo "$pages" | wc -w) * 2 + $(echo "$programs" | wc -w) + \
	$(echo "$examples" | wc -w) + 4))"

# The binaries whose usage is compared (built by check.sh's host step; a
# stand-alone run builds them).
make -s --no-print-directory -C userspace all >"$work/build.log" 2>&1 &&
	make -s --no-print-directory -C userspace/tools "$build/tools/rxuctl" \
		>>"$work/build.log" 2>&1 ||
	echo "# building librxu and the tools failed: see $work/build.log"

# --- man pages render cleanly ---------------------------------------------

man_warnings() { # man_warnings PAGE: groff's warnings, and fail on any
	local w
	w=$(MANWIDTH=80 man --warnings=all -l "$1" 2>&1 >/dev/null) || return 1
	[ -z "$w" ] || { printf '%s\n' "$w"; return 1; }
}
for p in $pages; do
	check "$p renders with man -l, no groff warning" man_warnings "$p"
	check "$p is clean under mandoc -Tlint -W warning" \
		mandoc -Tlint -W warning "$p"
done

# --- usage text = man page, option by option ------------------------------

# The options a text names: -x and --long-name tokens at a word start.
options_of() {
	grep -oE '(^|[][ ,|(])--?[A-Za-z][A-Za-z-]*' | sed -E 's/^[][ ,|(]//' |
		grep -vE '^--?$' | sort -u
}
# The SYNOPSIS and OPTIONS sections of a rendered man page.
man_options() {
	MANWIDTH=200 man -l "$1" 2>/dev/null | col -b |
		awk '/^[A-Z][A-Z ]*$/ { keep = ($0 == "SYNOPSIS" || $0 == "OPTIONS"); next }
		     keep' | options_of
}
same_options() { # same_options PAGE CMD...: CMD's usage vs PAGE's options
	local page=$1
	shift
	"$@" >"$work/usage.txt" 2>&1
	options_of <"$work/usage.txt" >"$work/usage.opts"
	man_options "$page" >"$work/man.opts"
	[ -s "$work/usage.opts" ] || { echo "no options in: $*"; return 1; }
	diff -u --label "$* (usage)" --label "$page (SYNOPSIS, OPTIONS)" \
		"$work/usage.opts" "$work/man.opts"
}
check "pcid --help and pcid(1) list the same options" \
	same_options man/man1/pcid.1 "$build/pcid/pcid" --help
check "memd's usage and memd(1) list the same options" \
	same_options man/man1/memd.1 "$build/memd/memd" -h
check "rxuctl --help and rxuctl(1) list the same options" \
	same_options man/man1/rxuctl.1 "$build/tools/rxuctl" --help

# --- installed where man finds them ---------------------------------------

installed() {
	local stage=$work/stage p name sec
	make -s --no-print-directory -C userspace install DESTDIR="$stage" \
		PREFIX=/usr >"$work/install.log" 2>&1 || { cat "$work/install.log"; return 1; }
	for p in $pages; do
		name=$(basename "$p")
		sec=${name##*.}
		[ -f "$stage/usr/share/man/man$sec/$name" ] || { echo "not installed: $name"; return 1; }
		MANWIDTH=80 man -M "$stage/usr/share/man" "$sec" "${name%.*}" >/dev/null 2>&1 ||
			{ echo "man -M ... $sec ${name%.*} finds nothing"; return 1; }
	done
	for p in bin/memd bin/rxuctl sbin/pcid; do
		[ -x "$stage/usr/$p" ] || { echo "not installed: /usr/$p"; return 1; }
	done
}
check "make -C userspace install puts every man page (and pcid, memd, rxuctl) in place" installed

# --- the examples compile ---------------------------------------------------

# example MD: the C block after the marker in MD, compiled and linked.
example() {
	local md=$1 name
	name=$(basename "$md" .md)
	awk '/<!-- example: compiled by/ { want = 1; next }
	     want && /^```c$/ { on = 1; next }
	     on && /^```$/ { exit }
	     on' "$md" >"$work/$name.c"
	[ -s "$work/$name.c" ] || { echo "no C block after the marker in $md"; return 1; }
	# shellcheck disable=SC2046 # pkg-config's words are meant to split
	cc -std=c11 -Wall -Wextra -Werror -o "$work/$name" "$work/$name.c" \
		$(PKG_CONFIG_PATH=$build pkg-config --cflags --libs rxu) \
		-Wl,-rpath,"$build"
}
for md in $examples; do
	check "the example of $md compiles (-std=c11 -Wall -Wextra -Werror)" example "$md"
done

# --- links ----------------------------------------------------------------

# The anchor GitHub gives a heading: lower case, punctuation dropped,
# blanks to dashes.
slugs() {
	sed -n 's/^#\{1,6\} \{1,\}//p' "$1" | tr '[:upper:]' '[:lower:]' |
		sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'
}
links() {
	local md dir target file anchor bad=0
	for md in README.md CONTRIBUTING.md docs/*.md; do
		[ -f "$md" ] || continue
		dir=$(dirname "$md")
		# [text](target), outside code spans is close enough here
		while read -r target; do
			case $target in
			http://* | https://* | mailto:*) continue ;;
			esac
			file=${target%%#*}
			anchor=
			[ "$file" != "$target" ] && anchor=${target#*#}
			[ -n "$file" ] || file=$(basename "$md")
			local path
			path=$(realpath -m "$dir/$file")
			if [ ! -e "$path" ]; then
				case " $pending " in
				*" ${path#"$top"/} "*)
					echo "# $md: $target: pending (another branch adds it)" >&2
					continue ;;
				esac
				echo "$md: $target: no such file"
				bad=1
				continue
			fi
			if [ -n "$anchor" ] && [ "${path##*.}" = md ] &&
			   ! slugs "$path" | grep -qxF "$anchor"; then
				echo "$md: $target: no heading for #$anchor"
				bad=1
			fi
		done < <(grep -oE '\]\([^) ]+\)' "$md" | sed -E 's/^\]\((.*)\)$/\1/')
	done
	return $bad
}
check "README, CONTRIBUTING and docs/ links name existing files and headings" links

# --- the README stays a front page -----------------------------------------

readme_short() {
	local l
	l=$(wc -l <README.md)
	[ "$l" -le 250 ] || { echo "README.md has $l lines (at most 250)"; return 1; }
}
check "README.md has at most 250 lines" readme_short

# A measured figure: a number with a unit of time or rate, a percentage, or
# a ratio such as 1.45x or 0.37×.
figure_re='[0-9][0-9,.]* ?(µs|us|ms|min|minutes|seconds|ops/s|k/s|M/s|MB/s|/s|%)([^a-z]|$)|[0-9]\.[0-9]+(x|×)'

readme_figures() {
	# Outside code blocks, a figure may stand only in a row of the Status
	# table, and that row must name the commit it was measured at and link
	# the docs page whose table holds the same ratio (the README quotes
	# the headline; the page is where it was measured and explained).
	local bad=0 line row page r
	while IFS= read -r line; do
		row=${line#*:}
		case $row in
		'|'*) ;;
		*) echo "README.md:${line%%:*}: a figure outside the Status table"
		   bad=1; continue ;;
		esac
		echo "$row" | grep -qE '\b[0-9a-f]{7,40}\b' ||
			{ echo "README.md:${line%%:*}: no commit for its figures"; bad=1; }
		page=$(echo "$row" | grep -oE '\]\(docs/[^)#]+' | head -n 1 | sed 's/^](//')
		if [ -z "$page" ] || [ ! -f "$page" ]; then
			echo "README.md:${line%%:*}: figures without a docs page"
			bad=1
			continue
		fi
		for r in $(echo "$row" | grep -oE '[0-9]+\.[0-9]+(x|×)' | sed 's/[x×]$//'); do
			grep -qE "(^|[^0-9.])${r/./\\.}([^0-9]|$)" "$page" ||
				{ echo "README.md:${line%%:*}: ${r}x is not in $page"; bad=1; }
		done
	done < <(awk '/^```/ { code = !code; next } /^## / { status = ($0 == "## Status") }
		!code { print NR ":" (status ? "" : "@") $0 }' README.md |
		grep -E "^[0-9]+:.*($figure_re)")
	return $bad
}
check "README.md's figures are Status rows quoting their docs page, with a commit" readme_figures

[ "$fails" -eq 0 ]
