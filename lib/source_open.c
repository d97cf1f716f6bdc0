/*
 * source_open.c - choosing the source for an input: by --format, else by the file name,
 * else by the first bytes.
 *
 * This is the one file that knows every format. It sits above the sources and the
 * transcoding source, and none of them calls it. A text input is opened once, by the
 * JSONL source (source_jsonl.c), which reads its first 64 KiB; what those bytes say
 * decides the format, and the input, none of it consumed yet, moves on to that
 * format's source. SQLite is opened by its path, as SQLite reads the file itself. With
 * --encoding, JSONL and JSON documents are wrapped in the transcoding source
 * (transcode.c); CSV transcodes as it parses.
 */
#include "source.h"
#include "input.h"

#include <strings.h>

/* ---- choosing the source ---- */

static int ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && !strncasecmp(s + n - k, suf, k);
}

/* What the file name says: a format, "json?" (a .json file may hold one JSON document or
 * be JSONL under another name: its first line tells), or NULL. */
static const char *format_by_name(const char *path)
{
	static const char *const ext[][2] = { { ".jsonl", "jsonl" }, { ".ndjson", "jsonl" }, { ".json", "json?" },
		{ ".csv", "csv" }, { ".tsv", "tsv" }, { ".xml", "xml" }, { ".sqlite3", "sqlite" }, { ".sqlite", "sqlite" }, { ".db", "sqlite" } };
	size_t n = strlen(path);
	static const char *const comp[] = { ".zst", ".gz", ".xz", ".bz2" };
	for (size_t i = 0; i < sizeof comp / sizeof comp[0]; i++)
		if (ends_with(path, n, comp[i])) {
			n -= strlen(comp[i]);
			break;
		}
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (ends_with(path, n, ext[i][0]))
			return ext[i][1];
	return NULL;
}

/* What the first bytes say (the first 64 KiB are in the buffer): "{" starts JSONL (or,
 * if the first line is not a whole object, a JSON document), "[" a JSON document, the
 * SQLite header a database, and a first line with commas (tabs) a CSV (TSV) header.
 * "<" starts an XML document, unless it is a web page (HTML). Text that is none of these
 * (HTML; a first line without a separator) is refused here, saying what it looks like:
 * read as JSONL, its every line would be rejected. Only text is told apart: bytes that are not (control bytes other
 * than whitespace) are read as JSONL, whose every line is then rejected with its reason. */
static void excerpt(char *out, size_t cap, const uint8_t *p, const uint8_t *e);

/* A web page rather than a document of records: <html or <!doctype html first. */
static int is_html(const uint8_t *p, const uint8_t *e)
{
	return (e - p >= 5 && !strncasecmp((const char *)p, "<html", 5)) ||
	       (e - p >= 14 && !strncasecmp((const char *)p, "<!doctype html", 14));
}

static const char *format_by_content(const wn_input *in, const char *hint, const char *delim, char *err, size_t cap)
{
	const uint8_t *p = (const uint8_t *)in->buf + in->start, *e = (const uint8_t *)in->buf + in->end;
	if (e - p >= 16 && !memcmp(p, "SQLite format 3", 16))
		return "sqlite";
	if (e - p >= 4 && ((p[0] == 0xff && p[1] == 0xfe && p[3] == 0) || (p[0] == 0xfe && p[1] == 0xff && p[2] == 0))) {
		snprintf(err, cap, "the input is UTF-16, which winnow does not read: convert it first (iconv -f UTF-16 -t UTF-8)");
		return NULL;
	}
	for (const uint8_t *q = p; q < e && q < p + 4096; q++)
		if (*q < 0x20 && *q != '\t' && *q != '\n' && *q != '\r')
			return "jsonl";
	if (e - p >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	const uint8_t *nl = p < e ? memchr(p, '\n', (size_t)(e - p)) : NULL, *le = nl ? nl : e;
	if (p < e && *p == '[')
		return "json";
	if (p < e && *p == '<' && !is_html(p, le))
		return "xml";
	if (p < e && *p == '{') {
		while (le > p && (le[-1] == ' ' || le[-1] == '\t' || le[-1] == '\r'))
			le--;
		return !nl || le[-1] == '}' ? "jsonl" : "json";
	}
	if (hint)
		return hint;
	if (p == e)
		return "jsonl";   /* nothing but whitespace: no records, whatever the format */
	/* a --delimiter that the first line holds: CSV, whatever else the line holds */
	if (delim && memmem(p, (size_t)(le - p), delim, strlen(delim)))
		return "csv";
	size_t commas = 0, tabs = 0;
	for (const uint8_t *q = p; q < le; q++) {
		commas += *q == ',';
		tabs += *q == '\t';
	}
	if (*p != '<' && (commas || tabs))
		return tabs > commas ? "tsv" : "csv";
	char head[40];
	excerpt(head, sizeof head, p, le);
	const char *reads = "winnow reads JSONL, JSON documents, CSV/TSV, XML and SQLite";
	if (*p == '<')
		snprintf(err, cap, "the input looks like HTML (it starts with `%s`): %s", head, reads);
	else if (memmem(p, (size_t)(le - p), "<SEP>", 5))
		snprintf(err, cap, "the input is not JSON (no '{' or '[' first) nor CSV/TSV, but its first line (`%s`) has <SEP> "
			"between fields: read it with --format csv --delimiter '<SEP>' --columns NAME,... (it has no header)", head);
	else
		snprintf(err, cap, "the input is not JSON (no '{' or '[' first) nor CSV/TSV (no ',' or tab in its first line, "
			"`%s`): %s (a CSV of one column: --format csv)", head, reads);
	return NULL;
}

/* The first bytes of p..e for a message: printable ASCII and whole UTF-8 characters,
 * other bytes as '?', "..." when cut. */
static void excerpt(char *out, size_t cap, const uint8_t *p, const uint8_t *e)
{
	size_t o = 0;
	while (p < e && o + 8 < cap) {
		size_t l = *p < 0x80 ? 1 : wn_utf8_seq(p, (size_t)(e - p));
		if (l > 1 && o + l + 4 < cap) {
			memcpy(out + o, p, l);
			o += l;
			p += l;
			continue;
		}
		out[o++] = *p >= 0x20 && *p < 0x7f ? (char)*p : '?';
		p++;
	}
	if (p < e) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
}

/* With --encoding cp1252 or latin1, text that is valid UTF-8 with characters beyond
 * ASCII is almost surely UTF-8, and is about to be made into other characters ("é"
 * into "Ã©"): say so once. The first 64 KiB tell (a character cut at their end, when
 * more follows, does not count against them). */
static void note_utf8(const wn_input *in, const wn_ingest_opts *o, int enc)
{
	const uint8_t *p = (const uint8_t *)in->buf + in->start, *e = (const uint8_t *)in->buf + in->end;
	size_t multi = 0;
	while (p < e) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		size_t l = wn_utf8_seq(p, (size_t)(e - p));
		if (!l) {
			if (!in->eof && e - p < 4)
				break;   /* cut by the buffer's end */
			return;  /* not UTF-8: the encoding may well be right */
		}
		multi++;
		p += l;
	}
	char where[48] = "";
	if (!in->eof)
		snprintf(where, sizeof where, " in its first %zu KiB", (size_t)((in->end - in->start) / 1024));
	if (multi)
		wn_source_note(o, in->name, "its text is valid UTF-8 (%zu non-ASCII character%s%s, no byte that is not "
			"UTF-8), which --encoding %s reads as other characters (UTF-8 \"\xc3\xa9\" becomes \"\xc3\x83\xc2\xa9\"); "
			"if the file is UTF-8, leave --encoding out", multi, multi == 1 ? "" : "s", where,
			enc == WN_ENC_CP1252 ? "cp1252" : "latin1");
}

int wn_source_open(wn_source **out, const char *path, const wn_ingest_opts *o)
{
	return wn_source_reopen(out, path, o, 0);
}

/* Choose the format of the text input the JSONL source s has opened (fmt: what the options
 * or the name said, or NULL), and hand it on to that format's source. sqlite_path: how to
 * open it as SQLite (NULL: it cannot be). With members_only, an input whose format only its
 * content would tell and that is not JSON or XML (a README, a TIMESTAMP file) is not
 * records: *not_records is set, with the reason in s->err, and 0 returned. */
static int choose(wn_source **out, const char *sqlite_path, const char *fmt, const wn_ingest_opts *o, int again,
	int *not_records)
{
	int enc = wn_encoding_parse(o->encoding);
	wn_source *s = *out;
	wn_input *in = wn_source_jsonl_input(s);
	int rc;
	if (not_records && !fmt) {
		char why[sizeof s->err];
		const char *c = format_by_content(in, NULL, o->csv_delimiter, why, sizeof why);
		if (!c || !strcmp(c, "csv") || !strcmp(c, "tsv")) {
			char head[40];
			const uint8_t *p = (const uint8_t *)in->buf + in->start, *e = (const uint8_t *)in->buf + in->end;
			const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
			excerpt(head, sizeof head, p, nl ? nl : e);
			snprintf(s->err, sizeof s->err, "passed over, not records: its name has no extension winnow reads "
				"and its first line (`%s`) is not JSON or XML", head);
			*not_records = 1;
			return 0;
		}
	}
	if (!fmt || !strcmp(fmt, "json?")) {
		fmt = format_by_content(in, fmt ? "json" : NULL, o->csv_delimiter, s->err, sizeof s->err);
		if (!fmt)
			return WN_E_USAGE;
		if (!strcmp(fmt, "sqlite")) {
			if (!sqlite_path || !in->regular || in->zst || in->codec) {
				snprintf(s->err, sizeof s->err, "an SQLite database must be read from a file (not from %s)",
					!sqlite_path ? "an archive: extract it first" :
					in->zst || in->codec ? "a compressed file: decompress it first" : "a pipe or standard input");
				return WN_E_USAGE;
			}
			wn_source_close(*out);
			return wn_source_sqlite(out, sqlite_path, o);
		}
	}
	if (strcmp(fmt, "jsonl") && strcmp(fmt, "json") && strcmp(fmt, "csv") && strcmp(fmt, "tsv") &&
	    strcmp(fmt, "xml")) {
		snprintf(s->err, sizeof s->err, "unknown format \"%s\" (jsonl, json, csv, tsv, xml or sqlite)", fmt);
		return WN_E_USAGE;
	}
	if (enc < 0) {
		snprintf(s->err, sizeof s->err, "unknown encoding \"%s\" (utf-8, cp1252 or latin1)", o->encoding);
		return WN_E_USAGE;
	}
	if (o->records_path && strcmp(fmt, "json")) {
		snprintf(s->err, sizeof s->err, "--records-path is for JSON documents, and this input is read as %s", fmt);
		return WN_E_USAGE;
	}
	if (enc != WN_ENC_UTF8 && !again)
		note_utf8(in, o, enc);
	/* a UTF-8 byte-order mark first is no part of the first record or header (its bytes
	 * count in offsets); XML's parser reads it itself, as the document's encoding mark */
	if (strcmp(fmt, "xml"))
		wn_input_skip_bom(in);
	if (strcmp(fmt, "jsonl")) {
		wn_input moved;
		wn_input_move(&moved, in);
		wn_source_close(*out);
		*out = NULL;
		if (!strcmp(fmt, "csv") || !strcmp(fmt, "tsv"))
			return wn_source_csv(out, &moved, o, fmt[0] == 't');
		if (!strcmp(fmt, "xml"))   /* libxml2 decodes the encoding the document declares */
			return wn_source_xml(out, &moved, o);
		if ((rc = wn_source_json(out, &moved, o)))
			return rc;
	}
	if (enc != WN_ENC_UTF8)
		return wn_source_transcode(out, *out, enc);
	return 0;
}

int wn_source_reopen(wn_source **out, const char *path, const wn_ingest_opts *o, int again)
{
	const char *fmt = o->format && strcmp(o->format, "auto") ? o->format : NULL;
	*out = NULL;
	if (!fmt && o->records_path)
		fmt = "json";
	if (!fmt && strcmp(path, "-"))
		fmt = format_by_name(path);
	if (fmt && !strcmp(fmt, "sqlite"))
		return wn_source_sqlite(out, path, o);
	/* the JSONL source opens the input (and explains why it cannot); if the format is
	 * another, its input moves to the source of that format */
	int rc = wn_source_jsonl(out, path, o);
	if (rc)
		return rc;
	if (wn_source_jsonl_input(*out)->archive) {
		(*out)->archive = 1;   /* its members are the inputs */
		return 0;
	}
	return choose(out, path, fmt, o, again, NULL);
}

int wn_source_open_member(wn_source **out, struct wn_input *archive, const char *name, const char *member,
	const wn_ingest_opts *o, int again, int *not_records)
{
	const char *fmt = o->format && strcmp(o->format, "auto") ? o->format : NULL;
	*out = NULL;
	if (not_records)
		*not_records = 0;
	if (!fmt && o->records_path)
		fmt = "json";
	if (!fmt)
		fmt = format_by_name(member);
	if (fmt && !strcmp(fmt, "sqlite")) {
		int rc = wn_source_jsonl_member(out, archive, name, o);
		if (!rc)
			rc = wn_source_fail(*out, WN_E_USAGE, "an SQLite database must be read from a file (not from an "
				"archive: extract it first)");
		return rc;
	}
	int rc = wn_source_jsonl_member(out, archive, name, o);
	if (rc)
		return rc;
	return choose(out, NULL, fmt, o, again, fmt ? NULL : not_records);
}
