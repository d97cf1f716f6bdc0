#!/usr/bin/env bash
# t0500-verify-clean.sh - a catalog just written verifies clean in fast and deep mode, as
# --json, file by file (--shard) and as a bare folder; the stock tools agree; exit
# statuses for misuse (2) and for a catalog that cannot be read (3).
. "$(dirname "$0")/lib.sh"

IN=$T/tracks.jsonl
"$GEN" --count 5000 --seed 7 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0

check "verify -C exits 0 on a fresh catalog" "$WINNOW" verify -C "$C"
grep -q '^clean: ' "$T/.out"
is "it says clean" "$?" 0
nfiles=$(wc -l <"$C/MANIFEST")
grep -q "^clean: $nfiles files and " "$T/.out"
is "it checked every file MANIFEST lists ($nfiles)" "$?" 0
check "verify --deep exits 0" "$WINNOW" verify -C "$C" --deep
grep -q '^clean: .*5000 records decoded' "$T/.out"
is "deep mode decoded every line of every file (5000: records, ledger and rejects entries)" "$?" 0
check "verify --deep -j 1 exits 0" "$WINNOW" verify -C "$C" --deep -j 1
check "verify --deep -j 7 exits 0" "$WINNOW" verify -C "$C" --deep -j 7

"$WINNOW" verify -C "$C" --deep --json >"$T/v.json" 2>"$T/v.err"
is "verify --deep --json exits 0" "$?" 0
is "--json: ok is true" "$(json_get "$T/v.json" ok)" true
is "--json: shards_checked" "$(json_get "$T/v.json" shards_checked)" "$nfiles"
is "--json: records_checked" "$(json_get "$T/v.json" records_checked)" 5000
is "--json: bytes_checked is the size of the files" "$(json_get "$T/v.json" bytes_checked)" \
	"$(cd "$C" && cat shards/* ledger/* rejects/* | wc -c)"
grep -q '"problems":\[\]' "$T/v.json"
is "--json: no problems" "$?" 0
is "--json: one line" "$(wc -l <"$T/v.json")" 1
if have python3; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is True and d["problems"] == []' "$T/v.json"
	is "--json is valid JSON (python3)" "$?" 0
else
	skip "--json is valid JSON" "python3 not installed"
fi
[ ! -s "$T/v.err" ]
is "nothing on stderr when it is not a terminal" "$?" 0

check "--shard with a name" "$WINNOW" verify -C "$C" --deep --shard track-000002.jsonl.zst
grep -q 'listed files .* not checked (not selected)' "$T/.out"
is "--shard: the other files are noted as not checked" "$?" 0
check "--shard with a glob" "$WINNOW" verify -C "$C" --shard 'shards/*'
grep -q "^clean: $(ls "$C"/shards | wc -l) files" "$T/.out"
is "--shard 'shards/*' checks the shards only" "$?" 0

# a bare folder: the data files and manifests, no index
B=$T/bare
mkdir -p "$B"
cp -r "$C/shards" "$C/ledger" "$C/rejects" "$C/MANIFEST" "$C/MANIFEST.json" "$C/catalog.json" "$B/"
check "verify --manifest DIR (no index) exits 0" "$WINNOW" verify --manifest "$B/MANIFEST" "$B"
check "verify --manifest --deep exits 0" "$WINNOW" verify --manifest "$B/MANIFEST" --deep "$B"
check "DIR defaults to the folder of MANIFEST" "$WINNOW" verify --manifest "$B/MANIFEST"
[ ! -e "$B/index" ]
is "bare mode creates no index" "$?" 0

# the stock tools agree
if have xxhsum; then
	(cd "$C" && xxhsum -c --strict MANIFEST) >/dev/null 2>&1
	is "stock xxhsum -c --strict agrees: clean" "$?" 0
else
	skip "stock xxhsum agrees" "xxhsum not installed"
fi
if have zstd; then
	zstd -q -t "$C"/shards/*.zst "$C"/ledger/*.zst "$C"/rejects/*.zst
	is "stock zstd -t agrees: clean" "$?" 0
fi

# misuse and catalogs that cannot be read
must_fail "no -C and no --manifest: usage, exit 2" 2 "$WINNOW" verify
must_fail "-C and --manifest together: exit 2" 2 "$WINNOW" verify -C "$C" --manifest "$C/MANIFEST"
must_fail "an unknown option: exit 2" 2 "$WINNOW" verify -C "$C" --bogus
must_fail "-j 0: exit 2" 2 "$WINNOW" verify -C "$C" -j 0
must_fail "a folder that is no catalog: exit 3" 3 "$WINNOW" verify -C "$T/nothing-here"
mkdir -p "$T/empty"
must_fail "a folder without an index: exit 3" 3 "$WINNOW" verify -C "$T/empty"
must_fail "a bare folder without MANIFEST: exit 3" 3 "$WINNOW" verify --manifest "$T/empty/MANIFEST" "$T/empty"
"$WINNOW" verify --help >"$T/help" 2>&1
is "--help exits 0" "$?" 0
grep -q -- '--ignore-missing' "$T/help"
is "--help lists the options" "$?" 0
