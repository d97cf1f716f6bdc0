# bench/lib.sh - what the benchmark scripts share (sourced by run.sh and xml.sh): timing a
# command into $RES, letting writeback settle, reading a number from a JSON file.
# Needs TIME (GNU time), D (the output folder) and RES (results.tsv) set.

exec 3>&1
# measure NAME RECORDS BYTES -- command...: wall seconds and peak RSS of a command
measure() {
	local name=$1 recs=$2 bytes=$3; shift 4
	"$TIME" -f '%e %M' -o "$D/.time" "$@"
	read -r secs rss <"$D/.time"
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$rss" "$recs" "$bytes" >>"$RES"
	printf '  %-44s %7.2f s %9.0f rec/s %7.0f MB/s %6.0f MiB RSS\n' "$name" "$secs" >&3 \
		"$(echo "$recs / $secs" | bc -l)" "$(echo "$bytes / $secs / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}
# let the writeback of what the previous step wrote finish, so that it does not land on
# the fsyncs of the next measurement
settle() { sync; sleep 2; }
jget() { grep -o "\"$2\":[0-9.]*" "$1" | head -n 1 | cut -d: -f2; }
fail() { echo "bench: CORRECTNESS CHECK FAILED: $*" >&2; exit 1; }
