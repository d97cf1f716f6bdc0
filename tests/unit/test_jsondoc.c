/*
 * test_jsondoc.c - unit tests for lib/source_json.c: records inside one JSON document
 * (a top-level array, or the arrays a --records-path names), and the transcoding source.
 *
 * Hand-written cases cover the path forms, what is skipped, whitespace, keys written with
 * escapes, positions, faults in the document and too-long records. A seeded randomised
 * test writes a document of random records (nested values, strings holding brackets,
 * quotes and escapes, random indentation) larger than the reader's buffer, plain and as
 * .zst, and checks that the records come back as their compact text, and that a resume
 * from the middle gives the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "source.h"
#include "tap.h"

static char tmpdir[] = "/tmp/winnow-test-jsondoc.XXXXXX";
typedef struct results {
	int rc;
	char err[256];
	int n;
	char rec[16][600];
	size_t toolong[16];
	int code[16];
	uint64_t line[16], off[16], end[16];
	uint64_t err_line;      /* the source's err_line after an error */
} results;

static results G;

static void read_all(const char *name, const char *data, size_t n, const char *rpath, const char *enc)
{
	wn_ingest_opts o;
	wn_ingest_opts_init(&o);
	o.records_path = rpath;
	o.encoding = enc;
	o.max_line = 100;
	if (!rpath && strstr(name, ".json") && !strstr(name, ".jsonl"))
		o.format = "json";
	wn_source *s;
	memset(&G, 0, sizeof G);
	G.rc = wn_source_open(&s, tap_write_file(tmpdir, name, data, n), &o);
	if (G.rc) {
		snprintf(G.err, sizeof G.err, "%s", s ? s->err : "");
		wn_source_close(s);
		return;
	}
	wn_srec r;
	int got;
	while ((got = s->next(s, &r, 1)) == 1 && G.n < 16) {
		snprintf(G.rec[G.n], sizeof G.rec[0], "%.*s", (int)r.len, r.rec);
		G.toolong[G.n] = r.toolong_len;
		G.code[G.n] = r.code;
		G.line[G.n] = r.lineno;
		G.off[G.n] = r.off;
		G.end[G.n] = r.end;
		G.n++;
	}
	if (got != 0) {
		G.rc = got;
		snprintf(G.err, sizeof G.err, "%s", s->err);
		G.err_line = s->err_line;
	}
	wn_source_close(s);
}

#define STR(s) s, sizeof(s) - 1

static void cases(void)
{
	read_all("a.json", STR("[\n  {\"id\": \"1\", \"t\": \"a b\"},\n  {\"id\":\"2\",\n   \"x\": [1, {\"y\": null}]}\n]\n"), NULL, NULL);
	IS_INT(G.rc, 0, "top-level array");
	IS_INT(G.n, 2, "two records");
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"t\":\"a b\"}", "whitespace outside strings is left out, inside kept");
	tap_is_str(G.rec[1], "{\"id\":\"2\",\"x\":[1,{\"y\":null}]}", "a record over several lines becomes one line");
	IS_INT(G.line[1], 3, "line of the second record");
	IS_INT(G.off[0], 4, "offset of the first record");
	IS_INT(G.end[0], 27, "end of the first record");

	const char mpd[] = "{\"info\": {\"tracks\": [{\"id\": \"no\"}]},\n"
		" \"playlists\": [\n"
		"  {\"name\": \"p1\", \"tracks\": [{\"id\": \"a\"}, {\"id\": \"b\", \"s\": \"]}[{\\\"\"}]},\n"
		"  {\"name\": \"p2\", \"tracks\": []},\n"
		"  {\"name\": \"p3\"},\n"
		"  {\"tracks\": \"not an array\"},\n"
		"  {\"pl\\u0061y\": 1, \"tr\\u0061cks\": [{\"id\": \"c\"}]}\n"
		" ],\n"
		" \"after\": [{\"id\": \"no\"}]}\n";
	read_all("mpd.json", STR(mpd), "playlists[].tracks[]", NULL);
	IS_INT(G.rc, 0, "--records-path playlists[].tracks[]");
	IS_INT(G.n, 3, "three records on the path, none elsewhere");
	tap_is_str(G.rec[0], "{\"id\":\"a\"}", "first");
	tap_is_str(G.rec[1], "{\"id\":\"b\",\"s\":\"]}[{\\\"\"}", "brackets and an escaped quote inside a string");
	tap_is_str(G.rec[2], "{\"id\":\"c\"}", "a key written with escapes still matches");
	IS_INT(G.line[2], 7, "line of the third record");

	read_all("arr.json", STR("[{\"tracks\":[{\"id\":1},{\"id\":2}]},{\"tracks\":[{\"id\":3}]}]"), "[].tracks[]", NULL);
	IS_INT(G.n, 3, "--records-path [].tracks[]");
	tap_is_str(G.rec[2], "{\"id\":3}", "... records of every element");
	read_all("obj.json", STR("{\"a\":{\"b\":[{\"id\":1}],\"c\":2},\"b\":[{\"id\":9}]}"), "a.b[]", NULL);
	IS_INT(G.n, 1, "--records-path a.b[] (an object step)");
	tap_is_str(G.rec[0], "{\"id\":1}", "... only a.b");
	read_all("scalars.json", STR("[1, \"two\", true, null, {\"id\":\"x\"}]"), NULL, NULL);
	IS_INT(G.n, 5, "scalar elements are records too (the JSON parser rejects them)");
	tap_is_str(G.rec[1], "\"two\"", "... a string");
	tap_is_str(G.rec[3], "null", "... null");

	read_all("o.json", STR("{\"a\":[1]}"), NULL, NULL);
	IS_INT(G.rc, 0, "an object without --records-path: read");
	IS_INT(G.n, 1, "... as one record");
	tap_is_str(G.rec[0], "{\"a\":[1]}", "... the whole document");
	read_all("o2.json", STR("{\"a\":[1]}"), "[]", NULL);
	IS_INT(G.rc, WN_E_USAGE, "an object with --records-path []: an error");
	read_all("items.json", STR("{\"items\":[{\"t\":{\"id\":1},\"x\":0},{\"x\":1},{\"t\":{\"id\":2}}]}"), "items[].t", NULL);
	IS_INT(G.n, 2, "--records-path items[].t: a member of every element");
	tap_is_str(G.rec[1], "{\"id\":2}", "... elements without it give none");
	read_all("m.json", STR("{\"a\":{\"b\":{\"id\":7}},\"b\":1}"), "a.b", NULL);
	IS_INT(G.n, 1, "--records-path a.b: members alone name one record");
	tap_is_str(G.rec[0], "{\"id\":7}", "... its value");
	read_all("none.json", STR("{\"a\":[1]}"), "b[]", NULL);
	IS_INT(G.rc, WN_E_USAGE, "nothing matches the path: an error at the end");
	read_all("empty.json", STR("{\"b\":[]}"), "b[]", NULL);
	IS_INT(G.rc, 0, "an empty array on the path is fine");
	IS_INT(G.n, 0, "... with no records");
	read_all("trunc.json", STR("[{\"id\":\"1\"},{\"id\":\"2\""), NULL, NULL);
	IS_INT(G.rc, WN_E_PARSE, "a truncated document: an error");
	OK(strstr(G.err, "truncated") != NULL, "... that says it may be truncated (%s)", G.err);
	IS_INT(G.n, 1, "... after the records before it");
	read_all("trail.json", STR("[{\"id\":\"1\"}] x"), NULL, NULL);
	IS_INT(G.rc, WN_E_PARSE, "data after the document: an error");
	read_all("comma.json", STR("[{\"id\":\"1\"} {\"id\":\"2\"}]"), NULL, NULL);
	IS_INT(G.rc, WN_E_PARSE, "a missing comma between records: an error");
	IS_INT(G.err_line, 1, "... with the line (%s)", G.err);
	/* text that is not a value is never a record: no empty record, a fault where it is */
	read_all("double-comma.json", STR("[{\"id\":\"a\"},,{\"id\":\"b\"}]"), NULL, NULL);
	IS_INT(G.rc, WN_E_PARSE, "a doubled comma between records: an error");
	IS_INT(G.n, 1, "... after the record before it, and no empty record for the gap");
	tap_is_str(G.err, "',' where a value should be (byte 12)", "... saying what is where");
	read_all("lead-comma.json", STR("[,{\"id\":\"1\"}]"), NULL, NULL);
	IS_INT(G.rc, WN_E_PARSE, "a comma before the first record: an error");
	IS_INT(G.n, 0, "... with no record");
	read_all("brace.json", STR("[}"), NULL, NULL);
	IS_INT(G.rc, WN_E_PARSE, "\"[}\": an error");
	IS_INT(G.n, 0, "... with no record");
	IS_INT(G.err_line, 1, "... on line 1 of a one-line file");
	tap_is_str(G.err, "'}' where a value should be (byte 1)", "... at byte 1");
	read_all("brace2.json", STR("[{\"id\":\"a\"},\n\n  }"), NULL, NULL);
	IS_INT(G.err_line, 3, "a fault on line 3 after a record on line 1: line 3");
	read_all("member.json", STR("{\"a\":[{\"id\":\"1\"}],\"b\":,\"c\":1}"), "a[]", NULL);
	IS_INT(G.rc, WN_E_PARSE, "a member without a value off the path: an error");
	read_all("colon.json", STR("{\"a\"::[{\"id\":\"1\"}]}"), "a[]", NULL);
	IS_INT(G.rc, WN_E_PARSE, "a doubled colon: an error");
	IS_INT(G.n, 0, "... with no record");
	read_all("bad.json", STR("[{\"id\":\"1\",}]"), NULL, NULL);
	IS_INT(G.rc, 0, "a bad record inside a good document is a record");
	tap_is_str(G.rec[0], "{\"id\":\"1\",}", "... which the JSON parser will reject");
	read_all("long.json", STR("[{\"id\":\"1\",\"pad\":\"0123456789012345678901234567890123456789012345678901234567890123"
		"456789012345678901234567890123456789\"},{\"id\":\"2\"}]"), NULL, NULL);
	IS_INT(G.n, 2, "a record longer than --max-line");
	IS_INT(G.toolong[0], 119, "... is marked too long, with its length");
	tap_is_str(G.rec[1], "{\"id\":\"2\"}", "... and the next one is fine");
	read_all("bad-path.json", STR("[]"), "a.b", NULL);
	IS_INT(G.rc, WN_E_USAGE, "a path that does not end with [] is an error");
	read_all("cp.json", STR("[{\"id\":\"1\",\"n\":\"Beyonc\xe9 \x93x\x94\"}]"), NULL, "cp1252");
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"n\":\"Beyonc\xc3\xa9 \xe2\x80\x9cx\xe2\x80\x9d\"}", "--encoding cp1252 transcodes records");
	read_all("cp.jsonl", STR("{\"id\":\"1\",\"n\":\"\xe9\"}\n"), NULL, "latin1");
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"n\":\"\xc3\xa9\"}", "... JSONL too");
}

/* ---- randomised ---- */

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const ws[] = { "", " ", "\n  ", "\t", "\r\n" };

/* a random JSON value: its text with random whitespace into doc, compact into want */
static void value(wn_buf *doc, wn_buf *want, int depth)
{
	/* the long ones, without a backslash, fill whole 64-byte blocks of the reader's fast
	 * path, with brackets, quotes' neighbours and spaces on either side of block edges */
	static const char *const strs[] = { "\"a\"", "\"]}[{,:\"", "\"q\\\"uote\"", "\"back\\\\\"", "\"\\u00e9t\\u00e9\"",
		"\"sp ace\"", "\"日本\"", "\"\"",
		"\"a string long enough to fill a block: ]}[{ ,: and {\\\"} and more ]] }} to the end of it \"",
		"\"{{{{[[[[ ]]]]}}}} sixty-four bytes and more, none of it structure: ]}]}]}]}]}]}]} \"" };
	static const char *const lits[] = { "0", "-1.5e3", "true", "false", "null", "12345678901234567890" };
	int k = depth > 3 ? rnd(2) : rnd(4);
	if (k == 0) {
		const char *s = strs[rnd(10)];
		wn_buf_puts(doc, s);
		wn_buf_puts(want, s);
	} else if (k == 1) {
		const char *s = lits[rnd(6)];
		wn_buf_puts(doc, s);
		wn_buf_puts(want, s);
	} else {
		int obj = k == 2, n = (int)rnd(4);
		wn_buf_puts(doc, obj ? "{" : "[");
		wn_buf_puts(want, obj ? "{" : "[");
		for (int i = 0; i < n; i++) {
			wn_buf_puts(doc, ws[rnd(5)]);
			if (i) {
				wn_buf_puts(doc, ",");
				wn_buf_puts(want, ",");
				wn_buf_puts(doc, ws[rnd(5)]);
			}
			if (obj) {
				wn_buf_printf(doc, "\"k%d\"%s:%s", i, ws[rnd(5)], ws[rnd(5)]);
				wn_buf_printf(want, "\"k%d\":", i);
			}
			value(doc, want, depth + 1);
		}
		wn_buf_puts(doc, ws[rnd(5)]);
		wn_buf_puts(doc, obj ? "}" : "]");
		wn_buf_puts(want, obj ? "}" : "]");
	}
}

static void randomised(void)
{
	rng = tap_seed() | 1;
	wn_buf doc = { 0 }, want = { 0 };
	size_t *at = malloc(sizeof(size_t) * 400000), n = 0;
	uint64_t *line = malloc(sizeof(uint64_t) * 400000), lines = 1;   /* each record's first line */
	size_t counted = 0;
	wn_buf_puts(&doc, "{\"skip\": [1, {\"records\": [\"no\"]}],\n \"data\": {\"records\": [\n");
	while (doc.len < (9u << 20)) {
		if (n)
			wn_buf_puts(&doc, rnd(2) ? ",\n" : " , ");
		for (; counted < doc.len; counted++)
			lines += doc.p[counted] == '\n';
		line[n] = lines;
		at[n++] = want.len;
		wn_buf_printf(&doc, "{%s\"id\":%s\"r%zu\",%s\"v\":", ws[rnd(5)], ws[rnd(5)], n, ws[rnd(5)]);
		wn_buf_printf(&want, "{\"id\":\"r%zu\",\"v\":", n);
		value(&doc, &want, 0);
		wn_buf_puts(&doc, ws[rnd(5)]);
		wn_buf_puts(&doc, "}");
		wn_buf_puts(&want, "}");
	}
	at[n] = want.len;
	wn_buf_puts(&doc, "\n]}}\n");
	for (int z = 0; z < 2; z++) {
		const char *name = z ? "random.json.zst" : "random.json";
		char file[4096];
		if (z) {
			size_t cap = ZSTD_compressBound(doc.len);
			char *c = malloc(cap);
			size_t cl = ZSTD_compress(c, cap, doc.p, doc.len, 1);
			snprintf(file, sizeof file, "%s", tap_write_file(tmpdir, name, c, cl));
			free(c);
		} else {
			snprintf(file, sizeof file, "%s", tap_write_file(tmpdir, name, doc.p, doc.len));
		}
		wn_ingest_opts o;
		wn_ingest_opts_init(&o);
		o.records_path = "data.records[]";
		wn_source *s;
		int rc = wn_source_open(&s, file, &o);
		IS_INT(rc, 0, "%s opens", name);
		wn_srec r;
		size_t k = 0, bad = 0, badline = 0;
		uint64_t mid = 0, mid_line = 0;
		size_t mid_k = 0;
		while (!rc && s->next(s, &r, 1) == 1) {
			size_t wl = at[k + 1] - at[k];
			if (k >= n || r.len != wl || memcmp(r.rec, want.p + at[k], wl)) {
				if (bad++ < 3)
					printf("# record %zu: got %.*s\n#   want %.*s\n", k, (int)(r.len > 200 ? 200 : r.len), r.rec,
						(int)(wl > 200 ? 200 : wl), want.p + at[k]);
			}
			if (k < n && r.lineno != line[k] && badline++ < 3)
				printf("# record %zu: line %llu, want %llu\n", k, (unsigned long long)r.lineno,
				       (unsigned long long)line[k]);
			k++;
			if (k == n / 2) {
				mid = r.end;
				mid_line = r.lineno;
				mid_k = k;
			}
		}
		IS_INT(k, n, "%s: every record (%zu, %zu bytes)", name, n, doc.len);
		IS_INT(bad, 0, "%s: each is its compact text", name);
		IS_INT(badline, 0, "%s: each is on its line", name);
		wn_source_close(s);
		rc = wn_source_open(&s, file, &o);
		if (!rc)
			rc = s->skip(s, mid, mid_line);
		IS_INT(rc, 0, "%s: skip to the middle", name);
		size_t same = 0;
		for (k = mid_k; !rc && s->next(s, &r, 1) == 1; k++)
			same += r.len == at[k + 1] - at[k] && !memcmp(r.rec, want.p + at[k], r.len);
		IS_INT(same, n - mid_k, "%s: after the skip, the rest of the records", name);
		wn_source_close(s);
	}
	wn_buf_free(&doc);
	wn_buf_free(&want);
	free(at);
	free(line);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	cases();
	randomised();
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# could not remove %s\n", tmpdir);
	return tap_done();
}
