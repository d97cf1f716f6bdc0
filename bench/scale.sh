#!/usr/bin/env bash
# bench/scale.sh - `make bench-scale`: ingest 1M, 10M and 100M generated track records
# piped straight from the generator (nothing is stored but the catalog), checking the
# counts against the generator's truth, and report throughput, peak RSS and index bytes
# per record at each point, and the per-record cost at the largest point relative to
# the smallest. Results: bench/RESULTS-scale.md.
#
# Environment: WINNOW (binary), SCALE_POINTS (default "1000000 10000000 100000000"),
# BENCH_DIR (default bench/out-scale; needs ~20 GB free for the 100M point).
set -euo pipefail
cd "$(dirname "$0")/.."
WINNOW=${WINNOW:-build-bench/winnow}
GEN=${GEN:-bench/gen}
POINTS=${SCALE_POINTS:-"1000000 10000000 100000000"}
D=${BENCH_DIR:-bench/out-scale}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-scale: needs GNU time (apt-get install time)" >&2; exit 2; }
mkdir -p "$D"
jget() { grep -o "\"$2\":[0-9.]*" "$1" | head -n 1 | cut -d: -f2; }
rows=()
first_cost=
for n in $POINTS; do
	rm -rf "$D/cat"
	echo "== $n records: bench/gen --count $n --seed 11 | winnow ingest"
	# the generator writes its truth while it streams the records into winnow
	"$TIME" -f '%e %M' -o "$D/time.txt" sh -c \
		"'$GEN' --count $n --seed 11 --truth '$D/truth.json' | '$WINNOW' ingest -q -C '$D/cat' --json >'$D/ingest.json'"
	read -r secs rss <"$D/time.txt"
	for k in kept duplicates revisions rejected; do
		[ "$(jget "$D/ingest.json" $k)" = "$(jget "$D/truth.json" $k)" ] || {
			echo "bench-scale: CORRECTNESS CHECK FAILED at $n: $k winnow $(jget "$D/ingest.json" $k) truth $(jget "$D/truth.json" $k)" >&2
			exit 1
		}
	done
	"$WINNOW" stats -C "$D/cat" --json --top 0 >"$D/stats.json"
	idx=$(jget "$D/stats.json" index_bytes_per_record)
	cat_mb=$(du -sm "$D/cat" | cut -f1)
	rate=$(echo "$n / $secs" | bc -l)
	cost=$(echo "$secs * 1000000000 / $n" | bc -l)   # ns per record
	[ -n "$first_cost" ] || first_cost=$cost
	ratio=$(echo "$cost / $first_cost" | bc -l)
	printf '  %.1f s, %.0f records/s, peak RSS %.0f MiB, index %s bytes/record, catalog %s MiB, %.0f ns/record (%.2fx the first point)\n' \
		"$secs" "$rate" "$(echo "$rss / 1024" | bc -l)" "$idx" "$cat_mb" "$cost" "$ratio"
	rows+=("$(printf '| %s | %.1f | %.0f | %.0f | %s | %s | %.0f | %.2f |' "$n" "$secs" "$rate" "$(echo "$rss / 1024" | bc -l)" "$idx" "$cat_mb" "$cost" "$ratio")")
	cp "$D/ingest.json" "$D/ingest-$n.json"
done
rm -rf "$D/cat"
{
	echo "# Ingest at scale"
	echo
	echo "Produced by \`make bench-scale\` (bench/scale.sh) on $(date -u +%Y-%m-%d): $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM."
	echo
	echo "Each point: \`bench/gen --count N --seed 11 | $WINNOW ingest -C CAT --json\` (default settings: zstd level 3,"
	echo "1 GiB memory budget), the generator and winnow sharing the two cores; the counts matched the generator's"
	echo "truth before any figure was taken. Time and peak RSS by GNU time (RSS of the whole pipeline's largest process)."
	echo
	echo "| records | seconds | records/s | peak RSS MiB | index bytes/record | catalog MiB | ns/record | cost vs first |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${rows[@]}"
} >bench/RESULTS-scale.md
echo "== wrote bench/RESULTS-scale.md"
