/*
 * fuzz_sqlite.c - libFuzzer target for lib/source_sqlite.c: the rows of a SQLite
 * database as winnow maps them to JSON records (the dump's tracks or artists joined
 * with their artists, album and genres, --sqlite-join, or one table's rows).
 *
 * The input is a database file after a flags byte (tracks or artists, joined, or the
 * table "tracks" as it is, which is also what the dump's tracks are without the join). Start the fuzzer from the seeds in tests/fuzz/corpus/fuzz_sqlite
 * (small databases in the dump's layout, 512-byte pages): its mutations then change
 * cells, types, row order and the schema. Whatever the file, the source must refuse it
 * with a message or hand out records the strict parser accepts, on one line: every
 * value SQLite can hold (text that is not UTF-8, blobs, NaN, huge integers) becomes
 * valid JSON or a rejected record with its reason.
 */
#include "fuzz.h"

static void check(const wn_srec *r, const wn_jresult *jr, void *ud)
{
	(void)ud;
	(void)r;
	FUZZ_ASSERT(jr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_json *js;
	char path[64];
	if (!size)
		return 0;
	if (!js)
		FUZZ_ASSERT((js = wn_json_new()));
	uint8_t flags = data[0];
	int fd = fuzz_file(data + 1, size - 1, path);
	wn_ingest_opts o;
	wn_ingest_opts_init(&o);
	o.format = "sqlite";
	o.kind = flags & 1 ? "artist" : "track";
	o.sqlite_table = flags & 2 ? "tracks" : NULL;
	o.sqlite_join = !(flags & 2);
	o.max_line = 1 << 16;
	wn_source *s;
	if (!wn_source_open(&s, path, &o))
		fuzz_drain(s, js, check, NULL);
	else if (s)
		FUZZ_ASSERT(*s->err);
	wn_source_close(s);
	close(fd);
	return 0;
}
