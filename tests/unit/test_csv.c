/*
 * test_csv.c - unit tests for lib/source_csv.c (CSV and TSV rows as JSON records), the
 * choice of format in wn_source_open(), and the encodings of lib/encoding.c.
 *
 * Besides hand-written cases (RFC 4180 quoting, BOM, CRLF, rows over several lines,
 * wrong field counts with their raw bytes, --types, --csv-unwrap, cp1252) there is a
 * seeded randomised test: random rows with separators, quotes, line ends and non-ASCII
 * text in their fields are written as CSV, read back through the source in batches (as
 * the ingest does, with may_move only at the start of a batch, checking at the end of
 * each batch that every record of it is still intact) and compared with what a slow,
 * independent encoder written here makes of the same fields. A resume from the middle
 * must give the same records as reading on.
 *
 * Run with `--bench FILE [ID]` to time the CSV source alone on FILE.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "source.h"
#include "tap.h"

static char tmpdir[] = "/tmp/winnow-test-csv.XXXXXX";
typedef struct results {
	int rc;                 /* of open */
	char err[256];
	int n;
	char rec[32][512];
	int code[32];
	char why[32][200];
	uint64_t line[32], off[32], end[32];
} results;

static results G;

/* Read all records of `data` (as file `name`) with options o; results in G. */
static void read_all(const char *name, const char *data, size_t n, const wn_ingest_opts *o)
{
	wn_source *s;
	memset(&G, 0, sizeof G);
	G.rc = wn_source_open(&s, tap_write_file(tmpdir, name, data, n), o);
	if (G.rc) {
		snprintf(G.err, sizeof G.err, "%s", s ? s->err : "");
		wn_source_close(s);
		return;
	}
	wn_srec r;
	int got;
	while ((got = s->next(s, &r, 1)) == 1 && G.n < 32) {
		snprintf(G.rec[G.n], sizeof G.rec[0], "%.*s", (int)r.len, r.rec);
		G.code[G.n] = r.code;
		snprintf(G.why[G.n], sizeof G.why[0], "%s", r.why ? r.why : "");
		G.line[G.n] = r.lineno;
		G.off[G.n] = r.off;
		G.end[G.n] = r.end;
		G.n++;
	}
	if (got < 0 || got > 1) {
		G.rc = got;
		snprintf(G.err, sizeof G.err, "%s", s->err);
	}
	wn_source_close(s);
}

#define STR(s) s, sizeof(s) - 1

static wn_ingest_opts opts(void)
{
	wn_ingest_opts o;
	wn_ingest_opts_init(&o);
	return o;
}

/* ---- hand-written cases ---- */

static void basics(void)
{
	wn_ingest_opts o = opts();
	read_all("a.csv", STR("id,name,n\n1,Alpha,10\n2,\"Be,ta\",20\n"), &o);
	IS_INT(G.rc, 0, "open a simple CSV");
	IS_INT(G.n, 2, "two rows");
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"name\":\"Alpha\",\"n\":\"10\"}", "values are strings, keys in header order");
	tap_is_str(G.rec[1], "{\"id\":\"2\",\"name\":\"Be,ta\",\"n\":\"20\"}", "a quoted field holds the separator");
	IS_INT(G.line[0], 2, "first row is line 2");
	IS_INT(G.off[1], 21, "offset of the second row");
	IS_INT(G.end[1], 34, "end of the second row");

	read_all("b.csv", STR("\xef\xbb\xbfid,q\r\n1,\"say \"\"hi\"\"\"\r\n2,\"two\r\nlines\"\r\n3,x"), &o);
	IS_INT(G.n, 3, "BOM, CRLF, no final newline: three rows");
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"q\":\"say \\\"hi\\\"\"}", "BOM dropped, doubled quotes");
	tap_is_str(G.rec[1], "{\"id\":\"2\",\"q\":\"two\\r\\nlines\"}", "a line end inside quotes is kept as it is (CRLF)");
	IS_INT(G.line[1], 3, "the row over two lines starts on line 3");
	IS_INT(G.line[2], 5, "the next row is on line 5");
	tap_is_str(G.rec[2], "{\"id\":\"3\",\"q\":\"x\"}", "last row without a line end");

	read_all("c.csv", STR("id,a,b\n1,x\n2,\"multi\nline\",y,z\n\n3,\"\",\n"), &o);
	IS_INT(G.n, 4, "rows with wrong field counts and an empty line are records to reject");
	IS_INT(G.code[0], WN_E_ROW, "too few fields: rejected");
	tap_is_str(G.why[0], "row has 2 fields, the header has 3", "... with the counts");
	tap_is_str(G.rec[0], "1,x", "... and the raw bytes of the row");
	IS_INT(G.code[1], WN_E_ROW, "too many fields: rejected");
	tap_is_str(G.why[1], "row has 4 fields, the header has 3", "... with the counts");
	tap_is_str(G.rec[1], "2,\"multi\nline\",y,z", "raw bytes of a row over two lines, line end included");
	IS_INT(G.line[1], 3, "... and the line where it starts");
	IS_INT(G.code[2], WN_E_EMPTY, "an empty line is rejected as empty");
	IS_INT(G.code[3], 0, "a row ending in an empty field is fine");
	tap_is_str(G.rec[3], "{\"id\":\"3\",\"a\":\"\",\"b\":\"\"}", "empty fields are empty strings");

	read_all("d.csv", STR("id,t\n1,a\"b\n2,\"x\"y\n3,tab\there\\back\x01\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"t\":\"a\\\"b\"}", "a quote inside an unquoted field is text");
	tap_is_str(G.rec[1], "{\"id\":\"2\",\"t\":\"xy\"}", "text after a closing quote is kept");
	tap_is_str(G.rec[2], "{\"id\":\"3\",\"t\":\"tab\\there\\\\back\\u0001\"}", "tab, backslash and control bytes escaped");
	read_all("d2.csv", STR("id,t\n1,bs\bff\f\x1f\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"t\":\"bs\\bff\\f\\u001f\"}", "BS and FF as \\b and \\f (the one escaper, wn_json_quote)");

	read_all("e.csv", STR("id,x\n1,\"never closed\n2,b\n"), &o);
	IS_INT(G.n, 1, "a quote left open runs to the end of the input");
	IS_INT(G.code[0], WN_E_ROW, "... and that row is rejected");
	tap_is_str(G.why[0], "the quoted field opened on line 2 is not closed at the end of the input", "... saying so");

	read_all("f.csv", STR("id,x,x,x_2\n1,a,b,c\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"x\":\"a\",\"x_3\":\"b\",\"x_2\":\"c\"}", "a repeated column name gets a suffix");

	read_all("g.csv", STR("id,name\n,nobody\n\"\",nobody\n"), &o);
	IS_INT(G.code[0], WN_E_NOID, "an empty id is rejected");
	tap_is_str(G.why[0], "missing id (column \"id\" is empty)", "... with the reason");
	IS_INT(G.code[1], WN_E_NOID, "a quoted empty id too");

	o.id_field = "track_id";
	read_all("h.csv", STR("id,name\n1,x\n"), &o);
	IS_INT(G.rc, WN_E_USAGE, "no column for the id: an error");
	OK(strstr(G.err, "no column \"track_id\"") && strstr(G.err, "--map id="), "... that names the column and --map");
	o = opts();

	read_all("i.tsv", STR("id\tname\n1\ta,b \"q\"\n2\t\"x\ty\"\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"name\":\"a,b \\\"q\\\"\"}", "TSV: commas are text");
	tap_is_str(G.rec[1], "{\"id\":\"2\",\"name\":\"x\\ty\"}", "TSV: a quoted tab");

	o.format = "csv";
	o.csv_delimiter = ';';
	read_all("j.txt", STR("id;v\n1;2,5\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"v\":\"2,5\"}", "--delimiter ';'");
	o = opts();

	read_all("one.csv", STR("id\n1\n\n2\n"), &o);
	IS_INT(G.n, 3, "one column: an empty line is a row");
	IS_INT(G.code[1], WN_E_NOID, "... with an empty id");

	read_all("empty.csv", "", 0, &o);
	IS_INT(G.rc, 0, "an empty file is fine");
	IS_INT(G.n, 0, "... and has no rows");
}

static void types(void)
{
	wn_ingest_opts o = opts();
	const char data[] = "id,i,n,b,s\n"
		"1,42,3.5,true,007\n"
		"2,\"1,234,567\",-1e3,False,x\n"
		"3,,,,\n"
		"4,+007,.5,YES,1\n"
		"5,1.5,1,0,2\n"
		"6,12a,1,1,\n"
		"7,1,1,maybe,\n"
		"8,\"1,23\",1,1,\n";
	o.csv_types = "i=int,n=number,b=bool";
	read_all("t.csv", STR(data), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"i\":42,\"n\":3.5,\"b\":true,\"s\":\"007\"}", "int, number, bool; others stay strings");
	tap_is_str(G.rec[1], "{\"id\":\"2\",\"i\":1234567,\"n\":-1e3,\"b\":false,\"s\":\"x\"}", "thousands separators, exponents, False");
	tap_is_str(G.rec[2], "{\"id\":\"3\",\"i\":null,\"n\":null,\"b\":null,\"s\":\"\"}", "empty typed values are null");
	tap_is_str(G.rec[3], "{\"id\":\"4\",\"i\":7,\"n\":0.5,\"b\":true,\"s\":\"1\"}", "+007 is 7, .5 is 0.5, YES is true");
	IS_INT(G.code[4], WN_E_ROW, "1.5 is not an int");
	tap_is_str(G.why[4], "column \"i\": \"1.5\" is not an integer", "... and the reason says so");
	IS_INT(G.code[5], WN_E_ROW, "12a is not an int");
	IS_INT(G.code[6], WN_E_ROW, "maybe is not a bool");
	tap_is_str(G.why[6], "column \"b\": \"maybe\" is not true or false", "... and the reason says so");
	IS_INT(G.code[7], WN_E_ROW, "1,23 is not a number with thousands separators");

	o.csv_types = "auto";
	read_all("t2.csv", STR("id,a,b,c,d,e\n1,12,-0.5e2,007,\"1,234\",x\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":1,\"a\":12,\"b\":-0.5e2,\"c\":\"007\",\"d\":\"1,234\",\"e\":\"x\"}",
		"auto: JSON numbers become numbers; 007 and 1,234 stay strings");
	o.csv_types = "auto,id=string";
	read_all("t3.csv", STR("id,a\n1,2\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"a\":2}", "auto with id=string");
	o.csv_types = "id=string,auto";
	read_all("t3.csv", STR("id,a\n1,2\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"a\":2}", "an explicit type wins whatever the order");

	o.csv_types = "nope=int";
	read_all("t4.csv", STR("id,a\n1,2\n"), &o);
	IS_INT(G.rc, WN_E_USAGE, "--types on a column that is not there: an error");
	o.csv_types = "a=float";
	read_all("t4.csv", STR("id,a\n1,2\n"), &o);
	IS_INT(G.rc, WN_E_USAGE, "--types with an unknown type: an error");

	o = opts();
	o.csv_empty_null = 1;
	read_all("t5.csv", STR("id,a,b\n1,,\"\"\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"a\":null,\"b\":\"\"}", "--empty-null: unquoted empty is null, quoted empty is \"\"");
}

static void unwrap_and_encodings(void)
{
	wn_ingest_opts o = opts();
	const char wrapped[] = "\"id,\"\"name\"\",\"\"n\"\"\"\r\n"
		"\"1,\"\"A, B\"\",\"\"2\"\"\"\r\n"
		"\"2,\"\"cut\"\r\n"
		"plain,row,here\r\n";
	read_all("w.csv", STR(wrapped), &o);
	IS_INT(G.rc, WN_E_USAGE, "a CSV encoded twice is refused");
	OK(strstr(G.err, "--csv-unwrap") && strstr(G.err, "3 columns"), "... with a message naming --csv-unwrap");
	o.csv_unwrap = 1;
	read_all("w.csv", STR(wrapped), &o);
	IS_INT(G.rc, 0, "--csv-unwrap reads it");
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"name\":\"A, B\",\"n\":\"2\"}", "the inner line is parsed");
	IS_INT(G.code[1], WN_E_ROW, "a truncated inner line is rejected");
	tap_is_str(G.why[1], "row has 2 fields, the header has 3 (the last field's quote is not closed)", "... with the counts");
	tap_is_str(G.rec[1], "\"2,\"\"cut\"", "... and its raw bytes");
	IS_INT(G.code[2], WN_E_ROW, "a line that is not wrapped is rejected");
	read_all("w2.csv", STR("id,name\n1,x\n"), &o);
	IS_INT(G.rc, WN_E_USAGE, "--csv-unwrap on a plain file: an error");

	o = opts();
	const char cp[] = "id,name\n1,Beyonc\xe9\n2,\x93quoted\x94 \x80\n3,bad\x81\n";
	read_all("cp.csv", STR(cp), &o);
	IS_INT(G.code[0], WN_E_UTF8, "cp1252 bytes are invalid UTF-8: rejected");
	OK(strstr(G.why[0], "utf-8") != NULL, "... with a utf-8 reason (%s)", G.why[0]);
	tap_is_str(G.rec[0], "1,Beyonc\xe9", "... and the raw bytes");
	o.encoding = "cp1252";
	read_all("cp.csv", STR(cp), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"name\":\"Beyonc\xc3\xa9\"}", "--encoding cp1252: e9 is U+00E9");
	tap_is_str(G.rec[1], "{\"id\":\"2\",\"name\":\"\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x82\xac\"}", "93 94 80 are the curly quotes and the euro");
	IS_INT(G.code[2], WN_E_UTF8, "81 is not defined in cp1252: rejected");
	OK(strstr(G.why[2], "latin1") != NULL, "... and the reason points to latin1");
	o.encoding = "latin1";
	read_all("cp.csv", STR(cp), &o);
	tap_is_str(G.rec[1], "{\"id\":\"2\",\"name\":\"\xc2\x93quoted\xc2\x94 \xc2\x80\"}", "latin1: 80-9f are U+0080-U+009F");
	tap_is_str(G.rec[2], "{\"id\":\"3\",\"name\":\"bad\xc2\x81\"}", "latin1: 81 is U+0081");
	o.encoding = "ebcdic";
	read_all("cp.csv", STR(cp), &o);
	IS_INT(G.rc, WN_E_USAGE, "an unknown encoding is an error");

	o = opts();
	read_all("bad-header.csv", STR("id,na\xefme\n1,x\n"), &o);
	IS_INT(G.rc, WN_E_USAGE, "a header that is not UTF-8 is an error");
	OK(strstr(G.err, "--encoding") != NULL, "... that mentions --encoding");

	/* the UTF-8 checks of encoding.c */
	static const struct { const char *s; size_t ok; } u[] = { { "\xc3\xa9", 2 }, { "\xc0\xaf", 0 }, { "\xe0\x80\xaf", 0 },
		{ "\xed\xa0\x80", 0 }, { "\xf4\x90\x80\x80", 0 }, { "\xf0\x9f\x8e\xb5", 4 }, { "\xe2\x82", 0 }, { "\x80", 0 },
		{ "\xef\xbf\xbf", 3 } };
	for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
		IS_INT(wn_utf8_seq((const uint8_t *)u[i].s, strlen(u[i].s)), u[i].ok, "wn_utf8_seq case %zu", i);
}

static void detection(void)
{
	wn_ingest_opts o = opts();
	read_all("x.ndjson", STR("{\"id\":\"1\"}\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\"}", ".ndjson is JSONL");
	read_all("x.json", STR("{\"id\":\"1\"}\n{\"id\":\"2\"}\n"), &o);
	IS_INT(G.n, 2, "a .json file whose first line is an object is JSONL");
	read_all("x.json", STR("[{\"id\":\"1\"},\n {\"id\":\"2\"}]\n"), &o);
	IS_INT(G.n, 2, "a .json file holding an array is a document");
	tap_is_str(G.rec[1], "{\"id\":\"2\"}", "... whose elements are the records");
	read_all("noext", STR("id,name\n1,x\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"name\":\"x\"}", "no telling name: a first line with commas is CSV");
	read_all("noext2", STR("id\tname\n1\tx\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"name\":\"x\"}", "... with tabs TSV");
	read_all("noext3", STR("  [ {\"id\":\"1\"} ]"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\"}", "... starting with [ a JSON document");
	read_all("noext4", STR("{\n  \"data\": [ {\"id\":\"1\"} ]\n}\n"), &o);
	IS_INT(G.rc, 0, "a pretty-printed object document without --records-path: read");
	tap_is_str(G.rec[0], "{\"data\":[{\"id\":\"1\"}]}", "... as one record, compact");
	read_all("noext5", STR("\xff\xfei\0d\0"), &o);
	IS_INT(G.rc, WN_E_USAGE, "UTF-16 input: an error");
	o.format = "csv";
	read_all("x.jsonl", STR("id,b\n1,2\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"b\":\"2\"}", "--format wins over the name");
	o.format = "yaml";
	read_all("x.jsonl", STR("id,b\n1,2\n"), &o);
	IS_INT(G.rc, WN_E_USAGE, "an unknown --format is an error");
	o = opts();
	o.records_path = "a[]";
	read_all("x.csv", STR("id,b\n1,2\n"), &o);
	IS_INT(G.rc, WN_E_USAGE, "--records-path with CSV (by name) is an error");
}

/* ---- input that was read wrong without a word ---- */

static char notes[4][600];
static int nnotes;

static void on_note(const char *msg, void *ud)
{
	(void)ud;
	if (nnotes < 4)
		snprintf(notes[nnotes], sizeof notes[0], "%s", msg);
	nnotes++;
}

static void defects(void)
{
	wn_ingest_opts o = opts();
	o.on_note = on_note;
	read_all("cr.csv", STR("id,name\r1,a\r2,b\r"), &o);
	IS_INT(G.rc, WN_E_USAGE, "CR-only line ends: refused (not a header of three odd names and no rows)");
	OK(strstr(G.err, "end in CR alone") != NULL, "... saying so (%s)", G.err);
	read_all("crq.csv", STR("id,\"a\rb\"\n1,2\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"a\\rb\":\"2\"}", "a CR inside a quoted header name is text");
	read_all("crr.csv", STR("id,n\n1,a\rb\n2,\"a\rb\"\n3,x\r\r\n"), &o);
	IS_INT(G.code[0], WN_E_ROW, "a CR outside quotes in a row: rejected");
	tap_is_str(G.why[0], "a carriage return (CR) outside quotes at byte 3 of the row: lines that end in CR alone are "
		"not read as line ends (convert them to LF)", "... saying where");
	IS_INT(G.code[1], 0, "a CR inside quotes is text");
	IS_INT(G.code[2], WN_E_ROW, "CR CR LF: the row rejected, not a value ending in CR");

	nnotes = 0;
	read_all("q.csv", STR("id,t\n1,\"a \"b\" c\"\n2,\"ok \"\"q\"\"\"\n3,\"x\"y\n4,\"x\"\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"t\":\"a b\\\" c\\\"\"}", "a quote not doubled in a quoted field: the value as before");
	IS_INT(nnotes, 1, "... and one note for the file, at close");
	OK(strstr(notes[0], "q.csv: 2 rows (the first on line 2) had a quoted field with a quote in it that was not doubled") != NULL,
		"... counting the rows, naming the first (%s)", notes[0]);
	nnotes = 0;
	read_all("q2.csv", STR("id,t\n1,\"ok \"\"q\"\"\"\n2,\"a,b\",c\n"), &o);
	IS_INT(nnotes, 0, "doubled quotes and quoted separators: no note");

	nnotes = 0;
	o.encoding = "cp1252";
	read_all("u8.csv", STR("id,n\n1,\xc3\xa9\n"), &o);
	tap_is_str(G.rec[0], "{\"id\":\"1\",\"n\":\"\xc3\x83\xc2\xa9\"}", "--encoding cp1252 on UTF-8 transcodes as asked");
	IS_INT(nnotes, 1, "... with one note");
	OK(strstr(notes[0], "valid UTF-8") && strstr(notes[0], "--encoding cp1252"), "... that says the text is UTF-8 (%s)", notes[0]);
	nnotes = 0;
	read_all("c.csv", STR("id,n\n1,\xe9\n"), &o);
	IS_INT(nnotes, 0, "... none on cp1252 text");
	read_all("a.csv", STR("id,n\n1,e\n"), &o);
	IS_INT(nnotes, 0, "... none on ASCII");
	o = opts();

	read_all("t.txt", STR("<?xml version=\"1.0\"?>\n<a><r id=\"1\"/></a>\n"), &o);
	IS_INT(G.rc, 0, "XML: read by its first bytes, whatever the name");
	tap_is_str(G.n ? G.rec[0] : "", "{\"id\":\"1\"}", "... one record per child of the root");
	read_all("h.txt", STR("<!DOCTYPE html>\n<html></html>\n"), &o);
	OK(G.rc == WN_E_USAGE && strstr(G.err, "looks like HTML"), "HTML: refused (%s)", G.err);
	read_all("s.txt", STR("TR1<SEP>SO1<SEP>Artist<SEP>Title\n"), &o);
	OK(G.rc == WN_E_USAGE && strstr(G.err, "`TR1<SEP>SO1<SEP>Artist<SEP>Title`"), "<SEP> text: refused, quoting it (%s)", G.err);
	read_all("blank.txt", STR("\n\n"), &o);
	IS_INT(G.rc, 0, "only whitespace: no records, no error");

	/* names given to repeated header names, as they always were (now from a hash) */
	read_all("dup.csv", STR("x,x,x_2,id,x,x_3,x,x_2_2,x_2\n1,2,3,4,5,6,7,8,9\n"), &o);
	tap_is_str(G.rec[0], "{\"x\":\"1\",\"x_4\":\"2\",\"x_2\":\"3\",\"id\":\"4\",\"x_5\":\"5\",\"x_3\":\"6\",\"x_6\":\"7\","
		"\"x_2_2\":\"8\",\"x_2_3\":\"9\"}", "repeated names: the first suffix no column has, before or after");
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

/* a random field value (UTF-8) */
static size_t rand_value(char *o)
{
	static const char *const bits[] = { "a", "Z", "9", " ", ",", "\"", "\"\"", "\n", "\r\n", "\t", "\\", "é", "ß", "日本",
		"🎵", "x,y", "'", "{", "}", "\x01", "\b", "\f", "0", "-", "." };
	size_t n = 0, k = rnd(8) == 0 ? 0 : rnd(12);
	for (size_t i = 0; i < k; i++) {
		const char *b = bits[rnd(sizeof bits / sizeof bits[0])];
		memcpy(o + n, b, strlen(b));
		n += strlen(b);
	}
	return n;
}

/* RFC 4180 encoding of a field: quoted when it must be (or at random) */
static size_t csv_field(char *o, const char *v, size_t n)
{
	int q = rnd(4) == 0 || n == 0 ? rnd(2) : 0;
	for (size_t i = 0; i < n; i++)
		q |= v[i] == ',' || v[i] == '"' || v[i] == '\n' || v[i] == '\r';
	size_t k = 0;
	if (q)
		o[k++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '"')
			o[k++] = '"';
		o[k++] = v[i];
	}
	if (q)
		o[k++] = '"';
	return k;
}

/* JSON string, written here independently of the library */
static size_t json_string(char *o, const char *v, size_t n)
{
	size_t k = 0;
	o[k++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '"' || c == '\\') {
			o[k++] = '\\';
			o[k++] = (char)c;
		} else if (c == '\n') {
			o[k++] = '\\';
			o[k++] = 'n';
		} else if (c == '\r') {
			o[k++] = '\\';
			o[k++] = 'r';
		} else if (c == '\t') {
			o[k++] = '\\';
			o[k++] = 't';
		} else if (c == '\b' || c == '\f') {
			o[k++] = '\\';
			o[k++] = c == '\b' ? 'b' : 'f';
		} else if (c < 0x20) {
			k += (size_t)sprintf(o + k, "\\u%04x", c);
		} else {
			o[k++] = (char)c;
		}
	}
	o[k++] = '"';
	return k;
}

static void randomised(void)
{
	rng = tap_seed() | 1;
	enum { COLS = 5 };
	const char *names[COLS] = { "id", "a", "b c", "d\"q", "e" };
	size_t cap = 10u << 20, len = 0;
	char *csv = malloc(cap + 4096), *want = malloc(4 * cap);   /* JSON: keys, escapes */
	size_t *want_at = malloc(sizeof(size_t) * (cap / 4));
	size_t nrows = 0, wlen = 0;
	char v[512];
	for (int i = 0; i < COLS; i++) {
		if (i)
			csv[len++] = ',';
		len += csv_field(csv + len, names[i], strlen(names[i]));
	}
	csv[len++] = '\r';
	csv[len++] = '\n';
	while (len < cap - 4096) {   /* more than the reader's 4 MiB buffer */
		want_at[nrows++] = wlen;
		want[wlen++] = '{';
		for (int i = 0; i < COLS; i++) {
			size_t n = rand_value(v);
			if (i == 0)
				n = (size_t)sprintf(v, "r%zu", nrows);
			if (i)
				csv[len++] = ',';
			len += csv_field(csv + len, v, n);
			if (i)
				want[wlen++] = ',';
			wlen += json_string(want + wlen, names[i], strlen(names[i]));
			want[wlen++] = ':';
			wlen += json_string(want + wlen, v, n);
		}
		want[wlen++] = '}';
		if (rnd(2)) {
			csv[len++] = '\r';
		}
		csv[len++] = '\n';
	}
	want_at[nrows] = wlen;
	wn_ingest_opts o = opts();
	wn_source *s;
	const char *path = tap_write_file(tmpdir, "random.csv", csv, len);
	int rc = wn_source_open(&s, path, &o);
	IS_INT(rc, 0, "random CSV opens");
	if (rc) {
		wn_source_close(s);
		return;
	}
	wn_srec batch[64];
	size_t row = 0, bad = 0, moved = 0;
	uint64_t mid_pos = 0, mid_line = 0;
	size_t mid_row = 0;
	for (;;) {
		size_t nb = 0, want_nb = 1 + rnd(64);
		int got = 1;
		while (nb < want_nb) {
			got = s->next(s, &batch[nb], nb == 0);
			if (got == 2) {
				moved++;
				break;
			}
			if (got != 1)
				break;
			nb++;
		}
		for (size_t i = 0; i < nb; i++, row++) {
			size_t wl = want_at[row + 1] - want_at[row];
			if (row >= nrows || batch[i].code || batch[i].len != wl || memcmp(batch[i].rec, want + want_at[row], wl)) {
				if (bad++ < 3)
					printf("# row %zu: got %.*s\n#   want %.*s\n", row, (int)(batch[i].len > 300 ? 300 : batch[i].len),
						batch[i].rec, (int)(wl > 300 ? 300 : wl), want + want_at[row]);
			}
			if (!mid_pos && row >= nrows / 2) {
				mid_pos = batch[i].end;
				mid_line = batch[i].lineno;
				mid_row = row + 1;
			}
		}
		if (got != 1 && got != 2)
			break;
	}
	IS_INT(row, nrows, "random CSV: every row read (%zu rows, %zu bytes)", nrows, len);
	IS_INT(bad, 0, "random CSV: every record equals the independent encoding, intact to the end of its batch");
	OK(moved > 0, "random CSV: next() without may_move asked to move at buffer ends (%zu times)", moved);
	wn_source_close(s);
	/* resume from the middle */
	rc = wn_source_open(&s, path, &o);
	if (!rc)
		rc = s->skip(s, mid_pos, mid_line);
	IS_INT(rc, 0, "random CSV: skip to the middle");
	size_t same = 0;
	wn_srec r;
	for (size_t k = mid_row; !rc && s->next(s, &r, 1) == 1; k++) {
		size_t wl = want_at[k + 1] - want_at[k];
		same += r.len == wl && !memcmp(r.rec, want + want_at[k], wl);
	}
	IS_INT(same, nrows - mid_row, "random CSV: after the skip, the rest of the rows as read on");
	wn_source_close(s);
	free(csv);
	free(want);
	free(want_at);
}

static int bench(const char *file, const char *id)
{
	wn_ingest_opts o = opts();
	o.id_field = id;
	wn_source *s;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int rc = wn_source_open(&s, file, &o);
	if (rc) {
		fprintf(stderr, "%s: %s\n", file, s ? s->err : wn_strerror(rc));
		wn_source_close(s);
		return 1;
	}
	wn_srec r;
	uint64_t n = 0, bytes = 0, rej = 0;
	for (int i = 0;; i++) {
		rc = s->next(s, &r, i % 64 == 0);
		if (rc == 2)
			rc = s->next(s, &r, 1);
		if (rc != 1)
			break;
		n++;
		bytes += r.len;
		rej += r.code != 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%s: %llu records (%llu rejected), %.0f bytes each, %.3f s, %.0f records/s\n", file, (unsigned long long)n,
		(unsigned long long)rej, n ? (double)bytes / (double)n : 0, t, (double)n / t);
	wn_source_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--bench"))
		return bench(argv[2], argc > 3 ? argv[3] : NULL);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	basics();
	types();
	unwrap_and_encodings();
	detection();
	defects();
	randomised();
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd))
		printf("# could not remove %s\n", tmpdir);
	return tap_done();
}
