#!/usr/bin/env bash
# t0110-man.sh - the man pages in doc/man: winnow.1 for the tool and winnow-<command>.1
# for each command that `winnow --help` lists, no more. Each page has the sections NAME,
# SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS, EXAMPLES and SEE ALSO, and its OPTIONS
# list exactly the options that `--help` prints, long and short, so the two are kept in
# step. The pages are parsed as text, so neither man nor a formatter is needed; where
# groff or mandoc is installed, each page must also format without a warning in it. Then
# `make install DESTDIR=...` puts every page in DESTDIR$(MANDIR)/man1 (MANDIR defaults
# to $(PREFIX)/share/man) and `make uninstall` takes them away again.
. "$(dirname "$0")/lib.sh"

MAN=$TOP/doc/man
B=${B:-build}

# the long options (--name) in a text, one a line, sorted
long_opts() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
# the short options of a --help text: lines such as "  -C, --catalog DIR"
help_short() { grep -oE '^ +-[a-zA-Z], --' "$1" | sed 's/^ *\(-.\).*/\1/' | sort -u; }
# the tags of a page's OPTIONS section (the line after each .TP), as plain text
man_tags() {
	awk '/^\.SH/ { in_opts = ($0 ~ /^\.SH +"?OPTIONS"?$/); next }
	     in_opts && tag { print; tag = 0; next }
	     in_opts && /^\.TP/ { tag = 1 }' "$1" | sed 's/\\-/-/g; s/\\f[BIRP]//g; s/^\.[A-Z]* //'
}
man_short() { man_tags "$1" | grep -oE '^-[a-zA-Z]([ ,]|$)' | cut -c1-2 | sort -u; }
# "a b" when every line of file A is in file B, else the lines missing, on one line
missing() { comm -23 "$1" "$2" | tr '\n' ' ' | sed 's/ $//'; }

formatters=
have mandoc && formatters="$formatters mandoc"
have groff && formatters="$formatters groff"

# ---- one page per command, and no page without a command ----
"$WINNOW" --help >"$T/help.winnow" 2>/dev/null
sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$T/help.winnow" >"$T/commands"
is "winnow --help lists the commands" "$(wc -l <"$T/commands" | tr -d ' ')" "$(grep -c '{ "[a-z-]*", cmd_' "$TOP/tools/winnow.c")"
for f in "$MAN"/winnow-*.1; do
	c=$(basename "$f" .1)
	c=${c#winnow-}
	grep -qx "$c" "$T/commands"
	is "doc/man/winnow-$c.1 is the page of a command of winnow --help" "$?" 0
done

# ---- each page ----
for cmd in winnow $(cat "$T/commands"); do
	if [ "$cmd" = winnow ]; then
		name=winnow
		"$WINNOW" --help >"$T/help" 2>/dev/null
	else
		name=winnow-$cmd
		"$WINNOW" "$cmd" --help >"$T/help" 2>/dev/null
	fi
	page=$MAN/$name.1
	if [ ! -f "$page" ]; then
		not_ok "$name: doc/man/$name.1 exists"
		continue
	fi
	ok "$name: doc/man/$name.1 exists"

	upper=$(echo "$name" | tr a-z A-Z | sed 's/-/\\\\-/g')
	head -n 1 "$page" | grep -qE "^\.TH $upper 1( |$)"
	is "$name: the page begins with .TH ${upper//\\\\/\\} 1" "$?" 0
	grep -qE "^${name//-/\\\\-} \\\\- [a-z]" "$page"
	is "$name: NAME says '$name - what it does' (for whatis and apropos)" "$?" 0

	sed -n 's/^\.SH *//p' "$page" | tr -d '"' >"$T/sections"
	want="NAME SYNOPSIS DESCRIPTION OPTIONS EXIT STATUS EXAMPLES SEE ALSO"
	got=$(grep -xE 'NAME|SYNOPSIS|DESCRIPTION|OPTIONS|EXIT STATUS|EXAMPLES|SEE ALSO' "$T/sections" | tr '\n' ' ' | sed 's/ $//')
	is "$name: sections $want, in that order" "$got" "$want"

	long_opts <"$T/help" >"$T/help.long"
	man_tags "$page" | long_opts >"$T/man.long"
	[ -s "$T/help.long" ]
	is "$name: --help prints its options" "$?" 0
	is "$name: every long option of --help is in OPTIONS" "$(missing "$T/help.long" "$T/man.long")" ""
	is "$name: every long option of OPTIONS is in --help" "$(missing "$T/man.long" "$T/help.long")" ""
	help_short "$T/help" >"$T/help.short"
	man_short "$page" >"$T/man.short"
	is "$name: every short option of --help is in OPTIONS" "$(missing "$T/help.short" "$T/man.short")" ""
	is "$name: every short option of OPTIONS is in --help" "$(missing "$T/man.short" "$T/help.short")" ""

	# every winnow page named in SEE ALSO exists
	sed -n '/^\.SH "*SEE ALSO/,$p' "$page" | sed 's/\\-/-/g' | grep -oE 'winnow(-[a-z]+)? \(1\)' | sed 's/ (1)//' |
		while read -r p; do [ -f "$MAN/$p.1" ] || echo "$p"; done >"$T/dangling"
	is "$name: the winnow pages SEE ALSO names exist" "$(tr '\n' ' ' <"$T/dangling")" ""

	for f in $formatters; do
		case $f in
		mandoc) mandoc -T lint -W warning "$page" >"$T/fmt" 2>&1 ;;
		groff) groff -man -Tutf8 -ww -z "$page" >"$T/fmt" 2>&1 ;;
		esac
		is "$name: $f formats the page without a warning" "$(cat "$T/fmt")" ""
	done
	[ -n "$formatters" ] ||
		skip "$name: the page formats without a warning" "neither groff nor mandoc is installed (the text is checked above)"
done

# the tool's page names every command, and its SEE ALSO every command's page
for c in $(cat "$T/commands"); do
	grep -qx "\.B $c" "$MAN/winnow.1"
	is "winnow.1 describes the command $c" "$?" 0
	sed -n '/^\.SH "*SEE ALSO/,$p' "$MAN/winnow.1" | grep -qF ".BR winnow\\-$c (1)"
	is "winnow.1 SEE ALSO names winnow-$c(1)" "$?" 0
done

# ---- make install and make uninstall ----
pages=$(cd "$MAN" && ls ./*.1 | sed 's|^\./||')
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PREFIX -u MANDIR -u DESTDIR make -s --no-print-directory -C "$TOP" B="$B" "$@"; }
installed_ok() { # DIR: every page there, byte for byte, mode 644
	local p
	for p in $pages; do
		cmp -s "$MAN/$p" "$1/$p" && [ "$(stat -c %a "$1/$p")" = 644 ] || { echo "$p"; return 1; }
	done
}
check "make install DESTDIR=... exits 0" mk install DESTDIR="$T/inst"
d=$T/inst/usr/local/share/man/man1
is "make install puts every page in DESTDIR/usr/local/share/man/man1, mode 644" "$(installed_ok "$d")" ""
v=$(sed -n 's/^Version: //p' "$T/inst/usr/local/lib/pkgconfig/winnow.pc" 2>/dev/null)
is "the installed winnow.pc has the version winnow --version prints" "winnow $v" "$("$WINNOW" --version)"
check "make uninstall DESTDIR=... exits 0" mk uninstall DESTDIR="$T/inst"
left=$(cd "$d" 2>/dev/null && ls)
is "make uninstall removes the pages" "$left" ""

check "make install MANDIR=/usr/share/man DESTDIR=... exits 0" mk install DESTDIR="$T/inst2" MANDIR=/usr/share/man
is "MANDIR says where the pages go" "$(installed_ok "$T/inst2/usr/share/man/man1")" ""
check "make uninstall with the same MANDIR exits 0" mk uninstall DESTDIR="$T/inst2" MANDIR=/usr/share/man
is "... and removes them" "$(cd "$T/inst2/usr/share/man/man1" && ls)" ""
