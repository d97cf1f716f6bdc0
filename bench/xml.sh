#!/usr/bin/env bash
# bench/xml.sh - the Discogs XML and gzip figures of `make bench`, each beside its target
# (issue 13): Discogs XML at >= 60 MB/s of uncompressed XML, and gzip input at >= 0.9x
# the rate of `gzip -dc FILE | winnow ingest -` (same file, same run). run.sh sources it;
# alone: `WINNOW=build-bench/winnow bash bench/xml.sh` (writes bench/out-xml).
#
# Data: BENCH_XML_RELEASES (default 60000) Discogs-shaped releases from
# `bench/formats.py discogs N 1`, and the same file through `gzip -6`. Every run is
# checked (read and kept equal the releases; the first record as the document has it)
# before its time counts. The XML, the gzip file and the gzip file through gzip -dc are
# ingested in turn, twice each, and the faster run of each counts: the machine may be
# shared.
# Sets XML_LINE, XML_NOTE, GZIP_LINE and GZIP_NOTE for run.sh's summary.
if [ -z "${RES:-}" ]; then
	set -euo pipefail
	cd "$(dirname "$0")/.."
	WINNOW=${WINNOW:-build-bench/winnow}
	D=${BENCH_DIR:-bench/out-xml}
	TIME=/usr/bin/time
	[ -x "$TIME" ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
	rm -rf "$D" && mkdir -p "$D"
	RES=$D/results.tsv
	: >"$RES"
	. bench/lib.sh
fi
NX=${BENCH_XML_RELEASES:-60000}
echo "== Discogs XML: $NX generated releases (bench/formats.py discogs, seed 1), and the same file gzipped"
XBYTES=$(python3 bench/formats.py discogs "$NX" 1 "$D/releases.xml")
[ "$XBYTES" = "$(stat -c %s "$D/releases.xml")" ] || fail "bench/formats.py wrote $(stat -c %s "$D/releases.xml") bytes, said $XBYTES"
gzip -6 -c "$D/releases.xml" >"$D/releases.xml.gz"
cat "$D/releases.xml" "$D/releases.xml.gz" >/dev/null
# check_run JSON CATALOG WHAT: every release read and kept, the first as the document has it
check_run() {
	[ "$(jget "$1" read)" = "$NX" ] && [ "$(jget "$1" kept)" = "$NX" ] ||
		fail "$3: read $(jget "$1" read), kept $(jget "$1" kept), want $NX"
	local title
	title=$(head -c 100000 "$D/releases.xml" | grep -o '</artists><title>[^<]*</title>' | head -n 1 | sed 's/.*<title>\(.*\)<\/title>/\1/')
	"$WINNOW" get -C "$2" 1 | grep -q "^{\"id\":\"1\",\"status\":\"Accepted\",\"images\":\[{\"type\":\"primary\".*\"title\":\"$title\",.*\"tracklist\":\[{\"position\":\"A1\"" ||
		fail "$3: release 1 is not the document's"
}
for i in 1 2; do
	settle
	measure "winnow ingest, Discogs XML (run $i)" "$NX" "$XBYTES" -- \
		"$WINNOW" ingest -q -C "$D/cat-xml" --json "$D/releases.xml" >"$D/ingest-xml.json"
	check_run "$D/ingest-xml.json" "$D/cat-xml" "Discogs XML"
	settle
	measure "winnow ingest, the XML gzipped (run $i)" "$NX" "$XBYTES" -- \
		"$WINNOW" ingest -q -C "$D/cat-gz" --json "$D/releases.xml.gz" >"$D/ingest-gz.json"
	check_run "$D/ingest-gz.json" "$D/cat-gz" ".xml.gz"
	settle
	measure "gzip -dc | winnow ingest - (run $i)" "$NX" "$XBYTES" -- \
		sh -c "gzip -dc '$D/releases.xml.gz' | '$WINNOW' ingest -q -C '$D/cat-pipe' --json - >'$D/ingest-pipe.json'"
	check_run "$D/ingest-pipe.json" "$D/cat-pipe" "gzip -dc | winnow ingest -"
	rm -rf "$D/cat-xml" "$D/cat-gz" "$D/cat-pipe"
done
# the shortest time of the runs whose name starts with $1
best_s() { awk -F'\t' -v p="$1" 'index($1, p) == 1 && (m == "" || $2 < m) { m = $2 } END { print m }' "$RES"; }
meets() { [ "$(echo "$1 >= $2" | bc -l)" = 1 ] && echo met || echo "NOT met"; }
XML_MBS=$(echo "$XBYTES / $(best_s "winnow ingest, Discogs XML") / 1000000" | bc -l)
GZ_RATIO=$(echo "$(best_s "gzip -dc | winnow ingest -") / $(best_s "winnow ingest, the XML gzipped")" | bc -l)
XML_LINE=$(printf 'Discogs XML: %.1f MB/s of uncompressed XML (target >= 60 MB/s: %s)' "$XML_MBS" "$(meets "$XML_MBS" 60)")
GZIP_LINE=$(printf 'gzip input: %.2fx the rate of gzip -dc FILE | winnow ingest - (target >= 0.9x: %s)' "$GZ_RATIO" "$(meets "$GZ_RATIO" 0.9)")
XML_NOTE="Data: \`python3 bench/formats.py discogs $NX 1\`, $XBYTES bytes of XML; \`$WINNOW ingest -C CAT --json releases.xml\`, the faster of two runs, every release read and kept and release 1 checked against the document"
GZIP_NOTE="The same file through \`gzip -6\`: \`winnow ingest -C CAT releases.xml.gz\` and \`gzip -dc releases.xml.gz | winnow ingest -C CAT -\` in turn, twice each, the faster of each compared (rates in uncompressed bytes); the counts checked as above"
echo "  $XML_LINE"
echo "  $GZIP_LINE"
