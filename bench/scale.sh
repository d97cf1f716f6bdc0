#!/usr/bin/env bash
# bench/scale.sh - `make bench-scale`: ingest 1M, 10M and 100M generated track records
# piped straight from the generator (nothing is stored but the catalog), checking the
# counts against the generator's truth, and report throughput, peak RSS and index bytes
# per record at each point, and the per-record cost at the largest point relative to
# the smallest. One point (10M by default) is also ingested from a file in the page
# cache, which takes the generator's share of the two cores out of the measurement.
# The generator runs with --vmsplice: the pipe takes its pages instead of a copy, which
# leaves more of the two cores to winnow (winnow reads with read(2), so that is safe).
# Results: bench/RESULTS-scale.md.
#
# Points of up to 10M records are run SCALE_REPEAT times (default 3) and reported by
# their fastest run, with every run's time beside it: on a shared or virtual machine one
# run can be 20% slower than the next for reasons of its own. Larger points run once.
#
# Environment: WINNOW (binary), SCALE_POINTS (default "1000000 10000000 100000000"),
# SCALE_FILE_POINT (default 10000000; empty: none), SCALE_REPEAT (default 3), BENCH_DIR
# (default bench/out-scale; needs ~20 GB free for the 100M point, and 4.5 GB per 10M
# records for the file point), SCALE_GEN_OPTS (more generator options), SCALE_INGEST_OPTS
# (more ingest options).
#
# The dump's point, opt-in (about 33 GB of catalog, 10+ minutes):
#   SCALE_POINTS="1000000 256000000" SCALE_GEN_OPTS="--isrc-share-rate 0.27" \
#   SCALE_INGEST_OPTS=--cluster make bench-scale
# (256M tracks with 186M distinct ISRCs: about 27% of the tracks carry an earlier one's.)
#
# Each row also says what bounded it, from the run's own figures: the CPU share of the
# two cores GNU time measured, and which of winnow's threads waited on which.
set -euo pipefail
cd "$(dirname "$0")/.."
WINNOW=${WINNOW:-build-bench/winnow}
GEN=${GEN:-bench/gen}
POINTS=${SCALE_POINTS:-"1000000 10000000 100000000"}
FILE_POINT=${SCALE_FILE_POINT-10000000}
REPEAT=${SCALE_REPEAT:-3}
GEN_OPTS=${SCALE_GEN_OPTS:-}
INGEST_OPTS=${SCALE_INGEST_OPTS:-}
D=${BENCH_DIR:-bench/out-scale}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-scale: needs GNU time (apt-get install time)" >&2; exit 2; }
mkdir -p "$D"
jget() { grep -o "\"$2\":[0-9.]*" "$1" | head -n 1 | cut -d: -f2; }
settle() { sync; sleep 2; }
rows=()
first_cost= last_cost= last_n= max_rss=0 max_idx=0
file_rate= ten_rate=
# point N HOW: run the measured ingest (HOW: pipe or file) once, or REPEAT times up to 10M
# records, check every run, add a row for the fastest
point() {
	local n=$1 how=$2 cmd reps=1 r secs rss cpu runs="" best_secs= best_rss=0
	[ "$n" -gt 10000000 ] || reps=$REPEAT
	if [ "$how" = pipe ]; then
		echo "== $n records: bench/gen --count $n --seed 11 --vmsplice | winnow ingest ($reps run(s))"
		# the generator writes its truth while it streams the records into winnow
		cmd="'$GEN' --count $n --seed 11 $GEN_OPTS --vmsplice --truth '$D/truth.json' | '$WINNOW' ingest -q -C '$D/cat' $INGEST_OPTS --json >'$D/ingest.json'"
	else
		echo "== $n records from a file in the page cache: winnow ingest FILE ($reps run(s))"
		"$GEN" --count "$n" --seed 11 $GEN_OPTS --truth "$D/truth.json" -o "$D/in.jsonl"
		cmd="'$WINNOW' ingest -q -C '$D/cat' $INGEST_OPTS --json '$D/in.jsonl' >'$D/ingest.json'"
	fi
	for r in $(seq 1 "$reps"); do
		rm -rf "$D/cat"
		# the kernel may page out what has not been read for a minute (DAMON here)
		[ "$how" = pipe ] || cat "$D/in.jsonl" >/dev/null
		settle
		"$TIME" -f '%e %M %P' -o "$D/time.txt" sh -c "$cmd"
		read -r secs rss cpu <"$D/time.txt"
		check_counts "$n"
		runs="$runs${runs:+ / }$secs"
		[ "$rss" -le "$best_rss" ] || best_rss=$rss
		if [ -z "$best_secs" ] || [ "$(echo "$secs < $best_secs" | bc)" = 1 ]; then
			best_secs=$secs best_cpu=${cpu%\%}
			cp "$D/ingest.json" "$D/ingest-best.json"
			"$WINNOW" stats -C "$D/cat" --json --top 0 >"$D/stats.json"
			cat_mb=$(du -sm "$D/cat" | cut -f1)
		fi
	done
	rm -f "$D/in.jsonl"
	secs=$best_secs rss=$best_rss
	cp "$D/ingest-best.json" "$D/ingest.json"
	report_point "$n" "$how" "$secs" "$rss" "$runs" "$best_cpu"
}
# bound SECS CPU: what bounded a run, from GNU time's CPU share (CPU percent of one core)
# and winnow's stage seconds (ingest.json): the cores, and then which thread waited
bound() {
	local secs=$1 cpu=$2 cores st cw iw parse
	cores=$(nproc)
	st=$(sed -n 's/.*"stage_seconds":{\([^}]*\)}.*/\1/p' "$D/ingest.json")
	cw=$(echo "$st" | grep -o '"compress_wait":[0-9.]*' | cut -d: -f2)
	iw=$(echo "$st" | grep -o '"input_wait":[0-9.]*' | cut -d: -f2)
	parse=$(echo "$st" | grep -o '"parse":[0-9.]*' | cut -d: -f2)
	local what
	if [ "$(echo "$cpu >= 90 * $cores" | bc)" = 1 ]; then what="CPU (${cpu}% of $cores cores)"
	else what="CPU ${cpu}% of $cores cores: not all busy"; fi
	if [ "$(echo "${cw:-0} >= 0.3 * $secs" | bc)" = 1 ]; then what="$what; the ingesting thread waited on compression ${cw} s"
	elif [ "$(echo "${parse:-0} >= 0.7 * $secs" | bc)" = 1 ]; then what="$what; the parsing thread busy ${parse} s of ${secs}"
	fi
	[ "$(echo "${iw:-0} >= 0.1 * $secs" | bc)" = 0 ] || what="$what; waited on input ${iw} s"
	echo "$what"
}
# check_counts N: the last run's counts against the generator's truth
check_counts() {
	local n=$1 k
	for k in kept duplicates revisions rejected; do
		[ "$(jget "$D/ingest.json" $k)" = "$(jget "$D/truth.json" $k)" ] || {
			echo "bench-scale: CORRECTNESS CHECK FAILED at $n: $k winnow $(jget "$D/ingest.json" $k) truth $(jget "$D/truth.json" $k)" >&2
			exit 1
		}
	done
	[ "$(jget "$D/ingest.json" read)" = "$n" ] || { echo "bench-scale: CORRECTNESS CHECK FAILED at $n: read" >&2; exit 1; }
}
# report_point N HOW SECS RSS RUNS: print and keep the row of a point (stats.json, cat_mb:
# of its fastest run)
report_point() {
	local n=$1 how=$2 secs=$3 rss=$4 runs=$5 cpu=$6 idx rate cost ratio stages bnd
	idx=$(jget "$D/stats.json" index_bytes_per_record)
	rate=$(echo "$n / $secs" | bc -l)
	cost=$(echo "$secs * 1000000000 / $n" | bc -l)   # ns per record
	stages=$(sed -n 's/.*"stage_seconds":{\([^}]*\)}.*/\1/p' "$D/ingest.json" | tr -d '"' | sed 's/,/, /g')
	bnd=$(bound "$secs" "$cpu")
	if [ "$how" = pipe ]; then
		[ -n "$first_cost" ] || first_cost=$cost
		last_cost=$cost last_n=$n
		ratio=$(printf '%.2f' "$(echo "$cost / $first_cost" | bc -l)")
		[ "$n" != 10000000 ] || ten_rate=$rate
	else
		ratio="(file)"
		file_rate=$rate
	fi
	[ "$rss" -le "$max_rss" ] || max_rss=$rss
	[ "$(echo "$idx > $max_idx" | bc)" = 0 ] || max_idx=$idx
	printf '  %.1f s (runs: %s s), %.0f records/s, peak RSS %.0f MiB, index %s bytes/record, catalog %s MiB, %.0f ns/record%s\n  stage seconds: %s\n  bound by: %s\n' \
		"$secs" "$runs" "$rate" "$(echo "$rss / 1024" | bc -l)" "$idx" "$cat_mb" "$cost" \
		"$([ "$how" = pipe ] && echo " (${ratio}x the first point)")" "$stages" "$bnd"
	rows+=("$(printf '| %s | %s | %.1f | %s | %.0f | %.0f | %s | %s | %.0f | %s | %s | %s |' "$n" "$how" "$secs" "$runs" "$rate" \
		"$(echo "$rss / 1024" | bc -l)" "$idx" "$cat_mb" "$cost" "$ratio" "$stages" "$bnd")")
	cp "$D/ingest.json" "$D/ingest-$n-$how.json"
}
for n in $POINTS; do
	point "$n" pipe
done
[ -z "$FILE_POINT" ] || point "$FILE_POINT" file
rm -rf "$D/cat"
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
cost_ratio=$(echo "$last_cost / $first_cost" | bc -l)
summary=()
summary+=("$(printf -- '- per-record cost at %s records: %.2fx that at the first point (target <= 1.3x: %s)' "$last_n" "$cost_ratio" "$(verdict "$(echo "$cost_ratio <= 1.3" | bc)")")")
summary+=("$(printf -- '- peak RSS, largest of all points: %.0f MiB (target <= 1024 MiB: %s)' "$(echo "$max_rss / 1024" | bc -l)" "$(verdict "$(echo "$max_rss <= 1048576" | bc)")")")
summary+=("$(printf -- '- index, largest of all points: %s bytes per kept record (target <= 64: %s)' "$max_idx" "$(verdict "$(echo "$max_idx <= 64" | bc)")")")
[ -z "$ten_rate" ] || summary+=("$(printf -- '- 10M records piped from the generator: %.0f records/s (target >= 600000: %s; the generator shares the two cores)' "$ten_rate" "$(verdict "$(echo "$ten_rate >= 600000" | bc)")")")
[ -z "$file_rate" ] || summary+=("$(printf -- '- %s records from a file in the page cache: %.0f records/s (target >= 600000 at 10M: %s)' "$FILE_POINT" "$file_rate" "$(verdict "$(echo "$file_rate >= 600000" | bc)")")")
echo "== summary"
printf '%s\n' "${summary[@]}"
{
	echo "# Ingest at scale"
	echo
	echo "Produced by \`make bench-scale\` (bench/scale.sh) on $(date -u +%Y-%m-%d): $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, $("$WINNOW" --version)."
	echo
	echo "Each pipe point: \`bench/gen --count N --seed 11 --vmsplice | $WINNOW ingest -C CAT --json\` (default settings: zstd level 3,"
	echo "1 GiB memory budget), the generator and winnow sharing the two cores (\`--vmsplice\`: the generator hands the"
	echo "pipe its pages instead of copying them, about 1 s of CPU less per 10M records). The file point: the same records"
	echo "written to a file first and read from the page cache. Points of up to 10M records ran $REPEAT times and are"
	echo "reported by their fastest run (every run's time is in the table; peak RSS is the largest of them). The counts"
	echo "of every run matched the generator's truth before any figure was taken. Time and peak RSS by GNU time (RSS"
	echo "of the pipeline's largest process); stage seconds are winnow's own (\`stage_seconds\`: read and parse in the"
	echo "parsing thread, the rest in the ingesting thread; merge is part of commit)."
	echo
	printf '%s\n' "${summary[@]}"
	echo
	[ -z "$GEN_OPTS$INGEST_OPTS" ] || { echo "Generator options: \`${GEN_OPTS:-none}\`; ingest options: \`${INGEST_OPTS:-none}\`."; echo; }
	echo "| records | input | seconds | every run, s | records/s | peak RSS MiB | index bytes/record | catalog MiB | ns/record | cost vs first | stage seconds (fastest run) | bound by |"
	echo "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|"
	printf '%s\n' "${rows[@]}"
} >bench/RESULTS-scale.md
echo "== wrote bench/RESULTS-scale.md"
