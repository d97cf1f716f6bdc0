#!/usr/bin/env bash
# t0105-version.sh - winnow --version prints the library's version (wn_version()), which
# is the one winnow.h's WN_VERSION_MAJOR/MINOR/PATCH give, and --help mentions it.
. "$(dirname "$0")/lib.sh"

want=$(awk '$2 ~ /^WN_VERSION_(MAJOR|MINOR|PATCH)$/ { v = v s $3; s = "." } END { print v }' "$TOP/include/winnow.h")
case $want in
[0-9]*.[0-9]*.[0-9]*) ok "winnow.h has a MAJOR.MINOR.PATCH version ($want)" ;;
*) not_ok "winnow.h has a MAJOR.MINOR.PATCH version (got '$want')" ;;
esac
check "--version exits 0" "$WINNOW" --version
is "--version prints 'winnow VERSION' on stdout" "$(cat "$T/.out")" "winnow $want"
is "--version prints nothing on stderr" "$(wc -c <"$T/.err")" 0
"$WINNOW" --help >"$T/help" 2>&1
grep -q -- '--version' "$T/help"
is "--help mentions --version" "$?" 0
