#!/usr/bin/env bash
# t0730-index-checksums.sh - the index checks itself: every map block and every meta,
# files and frames row carries a checksum, and damage to any of them (a flipped byte, as
# a bad disk leaves it) stops ingest, get, export and stats with exit 1 and a message
# that says to run `winnow reindex`, instead of being used. An index written before the
# checksums (version 1) is refused with the same advice.
. "$(dirname "$0")/lib.sh"

WNC=${WNC:-$(dirname "$WINNOW")/tests/tools/wn-corrupt}
IN=$T/tracks.jsonl
"$GEN" --count 20000 --seed 3 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --frame-size 64K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
ID=$(head -n 1 "$IN" | sed 's/^{"id":"\([^"]*\)".*/\1/')
ISRC=$(head -n 1 "$IN" | sed 's/.*"isrc":"\([^"]*\)".*/\1/')
check "get works on the sound catalog" "$WINNOW" get -C "$C" "$ID"
check "get --isrc works on the sound catalog" "$WINNOW" get -C "$C" --isrc "$ISRC"

fresh() { rm -rf "$T/$1"; cp -r "$C" "$T/$1"; D=$T/$1; }
# damaged "what" STATUS command...: exits STATUS and names winnow reindex; get and
# export hand out nothing
damaged() {
	local what=$1 want=$2; shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	local got=$? quiet=1
	case "$2" in get | export) [ -s "$T/.out" ] && quiet=0 ;; esac
	if [ "$got" -eq "$want" ] && grep -q 'winnow reindex' "$T/.err" && [ "$quiet" = 1 ]; then
		ok "$what"
	else
		not_ok "$what"
		diag "command: $*" "exit $got, wanted $want" "$(head -c 600 "$T/.out")" "$(tail -n 5 "$T/.err")"
	fi
}

# id blocks: a byte in the middle of every block's entries
fresh id
"$WNC" "$D" flip track.id all 1000
damaged "id block damaged: get exits 1 naming winnow reindex" 1 "$WINNOW" get -C "$D" "$ID"
damaged "id block damaged: ingest exits 1 naming winnow reindex" 1 "$WINNOW" ingest -C "$D" -q "$IN"
grep -q 'id block of run .* fails its checksum' "$T/.err" && ok "the message says which block" ||
	{ not_ok "the message says which block"; diag "$(cat "$T/.err")"; }
# a block's checksum itself
fresh idsum
"$WNC" "$D" flip track.id 0 4035
damaged "id block checksum damaged: ingest exits 1" 1 "$WINNOW" ingest -C "$D" -q "$IN"

# isrc and fp blocks
fresh isrc
"$WNC" "$D" flip track.isrc all 7
damaged "isrc block damaged: get --isrc exits 1" 1 "$WINNOW" get -C "$D" --isrc "$ISRC"
fresh fp
"$WNC" "$D" flip track.fp all 7
damaged "fp block damaged: ingest of revisions exits 1" 1 "$WINNOW" ingest -C "$D" -q "$IN"

# frames rows
fresh frames
"$WNC" "$D" flip track.frames all 9
damaged "frames row damaged: export exits 1" 1 "$WINNOW" export -C "$D"
damaged "frames row damaged: get exits 1" 1 "$WINNOW" get -C "$D" "$ID"

# files rows
fresh files
"$WNC" "$D" flip files all 20
damaged "files row damaged: stats exits 1" 1 "$WINNOW" stats -C "$D"
damaged "files row damaged: ingest exits 1" 1 "$WINNOW" ingest -C "$D" -q "$IN"

# meta rows: every one
fresh meta
"$WNC" "$D" flip meta all 0
damaged "meta rows damaged: get exits 1" 1 "$WINNOW" get -C "$D" "$ID"
damaged "meta rows damaged: export exits 1" 1 "$WINNOW" export -C "$D"
damaged "meta rows damaged: ingest exits 1" 1 "$WINNOW" ingest -C "$D" -q "$IN"

# an index without checksums (written before index_version existed)
fresh v1
"$WNC" "$D" del-meta index_version -
must_fail "an index of version 1 is refused" 3 "$WINNOW" get -C "$D" "$ID"
grep -q 'index is version 1.*winnow reindex' "$T/.err" && ok "the refusal says to run winnow reindex" ||
	{ not_ok "the refusal says to run winnow reindex"; diag "$(cat "$T/.err")"; }

check "the sound catalog still verifies clean" "$WINNOW" verify -C "$C" --deep
