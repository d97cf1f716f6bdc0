/*
 * source_csv.c - CSV and TSV input (RFC 4180): each row becomes one JSON object.
 *
 * The first row is the header; its names are the keys, in header order, and each row
 * becomes {"name1":"value1","name2":"value2",...}: values are strings unless --types
 * says otherwise (--types: parse_types() and typed() below). The text made for a row depends on the row's values
 * only, byte for byte, so the same row always gets the same fingerprint.
 *
 * Parsing follows RFC 4180 and is lenient where files in the wild are not: a field that
 * starts with '"' is quoted (separators, newlines and doubled quotes inside it are text);
 * a quote inside an unquoted field, or text after a closing quote, is kept as text. A
 * row ends at the first line end outside quotes, so a row may span several lines; its
 * position is the byte offset of its first line and its "line" the number of that line.
 * A UTF-8 byte-order mark at the start of the file is dropped before it comes here; CRLF and LF line ends are both
 * fine (a line end inside a quoted field is kept as it is in the file).
 *
 * A row that cannot be made into a record is rejected here, with the row's exact bytes
 * (all its lines) and the reason: a field count other than the header's, invalid UTF-8
 * (or, with --encoding cp1252, a byte cp1252 does not define), a value that is not of
 * its --types type, an empty id, a row longer than --max-line. So the JSON parser never
 * has to reject what this file makes. A quoted field still open after --max-line bytes
 * ends the row there (rejected as too long) and reading goes on at the next line, so one
 * stray quote costs at most one --max-line of input.
 *
 * --csv-unwrap is for files where every line was quoted once more as a single CSV field
 * (each line "a,""b"",""c"""): the outer field is unquoted and the inner line parsed.
 * Without it such a file is recognised by its header and refused with a message.
 *
 * Speed: the row's bytes are copied to the JSON text 16 at a time up to the next byte
 * that needs a look (separator, quote, backslash, control or non-ASCII byte), with
 * SSE2 where there is SSE2, and the key text before each value ({"name": or ,"name":)
 * is made once from the header.
 */
#include "source.h"
#include "input.h"

#include <stdlib.h>
#include <strings.h>
#include <xxhash.h>
#if defined(__SSE2__)
# include <emmintrin.h>
#endif

enum { T_STRING, T_AUTO, T_INT, T_NUMBER, T_BOOL };
static const char *const type_names[] = { "string", "auto", "int", "number", "bool" };

/* convert() results besides 0 (a record) and WN_E_* (a reject) */
#define INCOMPLETE 1

typedef struct col {
	char *name;             /* UTF-8, NUL-terminated */
	size_t nlen;
	char *prefix;           /* {"name": (first column) or ,"name": */
	size_t plen;
	int type;
} col;

typedef struct crow {
	const char *p;          /* the row's bytes, without its final line end */
	size_t n;
	uint64_t off, line, end;
	size_t toolong;         /* > 0: the row is that long and p holds its first bytes */
	int unclosed;           /* the input ends inside a quoted field */
	int copied;             /* p is in c->row (rows of several lines) */
} crow;

/* The field separator: one byte (the fast path: every test below is one compare) or up
 * to WN_DELIM_MAX bytes (--delimiter '<SEP>'). It holds no quote, CR or LF, so it never
 * spans a line end and a quote never starts inside it. */
typedef struct delim {
	char s[WN_DELIM_MAX];
	size_t len;
} delim;

/* The length of the separator at p (p < e), or 0. */
static inline size_t sep_at(const char *p, const char *e, const delim *d)
{
	if (*p != d->s[0])
		return 0;
	if (WN_LIKELY(d->len == 1))
		return 1;
	return (size_t)(e - p) >= d->len && !memcmp(p, d->s, d->len) ? d->len : 0;
}

typedef struct csv {
	wn_source s;
	wn_input in;
	delim sep;
	int enc, unwrap, empty_null;
	size_t max_line;
	col *cols;
	size_t ncols;
	size_t keys_bytes;      /* all prefixes */
	size_t id_col;
	wn_arena arena;
	wn_buf row;             /* a row of several lines */
	wn_buf inner;           /* the inner line of an unwrapped row */
	wn_buf tmp;
	/* a row read in part: it goes on past what is buffered (next() without may_move) */
	int partial, qstate;
	uint64_t p_off, p_line;
	size_t p_term;          /* line end of the last line appended: put back before the next */
	/* quoted fields closed by a quote that text follows ("a "b" c"): said once, at close */
	int stray;              /* in the row being converted */
	uint64_t stray_rows, stray_line;
	const wn_ingest_opts *o;   /* for wn_source_note (the run's options outlive the source) */
	char why[320];
} csv;

/* ---- quote state, to tell where a row ends ---- */

enum { Q_START, Q_BARE, Q_QUOTED, Q_QQ };

/* One step of the quote state at p (p < e): the bytes it took (1, or a whole separator). */
static inline size_t qstep(const char *p, const char *e, int *st, const delim *d)
{
	size_t k;
	switch (*st) {
	case Q_QUOTED:
		if (*p == '"')
			*st = Q_QQ;
		return 1;
	case Q_BARE:
		if ((k = sep_at(p, e, d))) {
			*st = Q_START;
			return k;
		}
		return 1;
	default:   /* Q_START, Q_QQ */
		if (*p == '"') {
			*st = Q_QUOTED;
			return 1;
		}
		if ((k = sep_at(p, e, d))) {
			*st = Q_START;
			return k;
		}
		*st = Q_BARE;
		return 1;
	}
}

/* The quote state after p[0..n), which ends at a line end or at the row's end (a
 * separator never spans either), from state st. */
static int qscan(const char *p, size_t n, int st, const delim *d)
{
	for (size_t i = 0; i < n;)
		i += qstep(p + i, p + n, &st, d);
	return st;
}

/* ---- reading rows ---- */

static int append_line(csv *c, const char *p, size_t n)
{
	static const char crlf[] = "\r\n";
	if (c->p_term && wn_buf_put(&c->row, c->p_term == 2 ? crlf : crlf + 1, c->p_term))
		return WN_E_NOMEM;
	return wn_buf_put(&c->row, p, n);
}

static int input_err(csv *c, int got)
{
	snprintf(c->s.err, sizeof c->s.err, "%s", *c->in.err ? c->in.err : wn_strerror(got));
	return got;
}

/* The next row: 1 = in *r, 0 = end of input, 2 = needs may_move, else an error. */
static int read_row(csv *c, crow *r, int may_move)
{
	const char *line;
	size_t len;
	int toolong, got;
	if (!c->partial) {
		r->off = c->in.offset;
		got = may_move ? wn_input_line(&c->in, &line, &len, &toolong) : wn_input_line_nomove(&c->in, &line, &len, &toolong);
		if (got != 1)
			return got < 0 || got > 2 ? input_err(c, got) : got;
		r->line = c->in.line;
		r->end = c->in.offset;
		r->p = line;
		r->n = len;
		r->toolong = toolong ? c->in.toolong_len : 0;
		r->unclosed = r->copied = 0;
		if (toolong || !memchr(line, '"', len) || qscan(line, len, Q_START, &c->sep) != Q_QUOTED)
			return 1;
		/* a quoted field goes on to the next line */
		c->partial = 1;
		c->p_off = r->off;
		c->p_line = r->line;
		c->p_term = (size_t)(c->in.offset - r->off) - len;
		c->qstate = Q_QUOTED;
		c->row.len = 0;
		if (wn_buf_put(&c->row, line, len))
			return WN_E_NOMEM;
	}
	for (;;) {
		uint64_t lo = c->in.offset;
		got = may_move ? wn_input_line(&c->in, &line, &len, &toolong) : wn_input_line_nomove(&c->in, &line, &len, &toolong);
		if (got == 2)
			return 2;
		if (got < 0 || got > 2)
			return input_err(c, got);
		r->off = c->p_off;
		r->line = c->p_line;
		r->end = c->in.offset;
		r->copied = 1;
		r->toolong = 0;
		r->unclosed = got == 0;
		if (got == 1 && (toolong || c->row.len + c->p_term + len > c->max_line)) {
			/* too long: the row ends here, and the next one starts on the next line */
			r->toolong = c->row.len + c->p_term + (toolong ? c->in.toolong_len : len);
			if (c->row.len > 4096)
				c->row.len = 4096;
			c->partial = 0;
			r->p = c->row.p;
			r->n = c->row.len;
			return 1;
		}
		if (got == 1) {
			if (append_line(c, line, len))
				return WN_E_NOMEM;
			c->p_term = (size_t)(c->in.offset - lo) - len;
			c->qstate = qscan(line, len, c->qstate, &c->sep);
		}
		if (got == 0 || c->qstate != Q_QUOTED) {
			c->partial = 0;
			r->p = c->row.p;
			r->n = c->row.len;
			return 1;
		}
	}
}

/* The first CR in p[0..n) outside quotes, or -1. input.c ends lines at LF (and drops the
 * CR of a CRLF), so a CR left there ends no line it knew of. */
static long bare_cr(const char *p, size_t n, const delim *d)
{
	if (!memchr(p, '\r', n))
		return -1;
	int st = Q_START;
	for (size_t i = 0; i < n;) {
		if (p[i] == '\r' && st != Q_QUOTED)
			return (long)i;
		i += qstep(p + i, p + n, &st, d);
	}
	return -1;
}

/* ---- fields of the header (and of unwrapped rows): unquoted values ---- */

typedef struct fieldlist {
	wn_buf text;            /* the values, one after the other */
	size_t *at;             /* value i is text[at[i] .. at[i+1]) */
	size_t n, cap;
	int quoted_one;         /* the first field was quoted */
	int unclosed;           /* the last field's quote is not closed */
} fieldlist;

static int split_fields(const char *p, size_t n, const delim *d, fieldlist *fl)
{
	fl->text.len = 0;
	fl->n = 0;
	fl->unclosed = 0;
	fl->quoted_one = n && p[0] == '"';
	size_t i = 0;
	for (;;) {
		if (fl->n + 2 > fl->cap) {
			size_t cap = fl->cap ? fl->cap * 2 : 64;
			size_t *a = realloc(fl->at, cap * sizeof *a);
			if (!a)
				return WN_E_NOMEM;
			fl->at = a;
			fl->cap = cap;
		}
		fl->at[fl->n++] = fl->text.len;
		if (i < n && p[i] == '"') {
			for (i++;; i++) {
				if (i == n) {
					fl->unclosed = 1;
					break;
				}
				if (p[i] == '"') {
					if (i + 1 < n && p[i + 1] == '"') {
						i++;
					} else {
						i++;
						break;
					}
				}
				if (wn_buf_put(&fl->text, p + i, 1))
					return WN_E_NOMEM;
			}
		}
		size_t s = i, k = 0;
		while (i < n && !(k = sep_at(p + i, p + n, d)))
			i++;
		if (wn_buf_put(&fl->text, p + s, i - s))
			return WN_E_NOMEM;
		if (i == n)
			break;
		i += k;
	}
	fl->at[fl->n] = fl->text.len;
	return 0;
}

static void fieldlist_free(fieldlist *fl)
{
	wn_buf_free(&fl->text);
	free(fl->at);
}

/* ---- values ---- */

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? : RFC 8259's number */
static int is_json_number(const char *v, size_t n)
{
	size_t i = 0;
	if (i < n && v[i] == '-')
		i++;
	if (i == n)
		return 0;
	if (v[i] == '0')
		i++;
	else if (v[i] >= '1' && v[i] <= '9')
		while (i < n && v[i] >= '0' && v[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && v[i] == '.') {
		size_t d = ++i;
		while (i < n && v[i] >= '0' && v[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (v[i] == 'e' || v[i] == 'E')) {
		i++;
		if (i < n && (v[i] == '+' || v[i] == '-'))
			i++;
		size_t d = i;
		while (i < n && v[i] >= '0' && v[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	return i == n;
}

/* An integer or (want_int = 0) a decimal number as people write them: a sign, digits
 * perhaps grouped by thousands ("1,234,567"), a fraction, an exponent. Writes its JSON
 * form to out (no longer than v) and returns the length, or -1. */
static long norm_number(const char *v, size_t n, int want_int, char *out)
{
	size_t i = 0, k = 0;
	if (i < n && (v[i] == '+' || v[i] == '-')) {
		if (v[i] == '-')
			out[k++] = '-';
		i++;
	}
	size_t int_start = k, digits = 0, group = 0;
	int grouped = 0;
	for (; i < n; i++) {
		if (v[i] >= '0' && v[i] <= '9') {
			if (k == int_start && v[i] == '0' && i + 1 < n && v[i + 1] >= '0' && v[i + 1] <= '9')
				;   /* a leading zero */
			else
				out[k++] = v[i];
			digits++;
			group++;
		} else if (v[i] == ',' && digits && (grouped ? group == 3 : group <= 3)) {
			grouped = 1;
			group = 0;
		} else {
			break;
		}
	}
	if ((grouped && group != 3) || (i < n && v[i] == ',') )
		return -1;
	if (i < n && v[i] == '.' && !want_int) {
		i++;
		if (k == int_start)
			out[k++] = '0';
		out[k++] = '.';
		size_t d = i;
		while (i < n && v[i] >= '0' && v[i] <= '9')
			out[k++] = v[i++];
		if (i == d) {
			if (!digits)
				return -1;
			k--;   /* "5." is 5 */
		}
		digits += i - d;
	}
	if (!digits)
		return -1;
	if (i < n && (v[i] == 'e' || v[i] == 'E') && !want_int) {
		out[k++] = 'e';
		i++;
		if (i < n && (v[i] == '+' || v[i] == '-'))
			out[k++] = v[i++];
		size_t d = i;
		while (i < n && v[i] >= '0' && v[i] <= '9')
			out[k++] = v[i++];
		if (i == d)
			return -1;
	}
	return i == n ? (long)k : -1;
}

static int bool_value(const char *v, size_t n)
{
	static const char *const yes[] = { "true", "t", "yes", "y", "1" }, *const no[] = { "false", "f", "no", "n", "0" };
	for (size_t i = 0; i < 5; i++) {
		if (strlen(yes[i]) == n && !strncasecmp(v, yes[i], n))
			return 1;
		if (strlen(no[i]) == n && !strncasecmp(v, no[i], n))
			return 0;
	}
	return -1;
}

/* ---- making the JSON text of a row ---- */

/* Bytes from p that need no look (for JSON and for the parser), copied to o. 16 at a
 * time where 16 are left: the caller has room for 16 bytes past the input's length. */
static inline size_t clean_run(const uint8_t *p, const uint8_t *e, char *o, char stop)
{
	const uint8_t *s = p;
#if defined(__SSE2__)
	const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\'), vs = _mm_set1_epi8(stop),
		      vc = _mm_set1_epi8(0x20);
	while (e - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)p);
		_mm_storeu_si128((__m128i *)(o + (p - s)), x);
		/* signed compare: bytes < 0x20 and bytes >= 0x80 */
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vq), _mm_cmpeq_epi8(x, vb)),
			_mm_or_si128(_mm_cmpeq_epi8(x, vs), _mm_cmplt_epi8(x, vc)));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask)
			return (size_t)(p - s) + (size_t)__builtin_ctz(mask);
		p += 16;
	}
#endif
	for (; p < e; p++) {
		uint8_t ch = *p;
		if (ch < 0x20 || ch >= 0x80 || ch == '"' || ch == '\\' || ch == (uint8_t)stop)
			break;
		o[p - s] = (char)ch;
	}
	return (size_t)(p - s);
}

/* Write the byte at *pp that clean_run stopped at (not the stop byte itself) as JSON. */
static inline int special(csv *c, const uint8_t **pp, const uint8_t *e, const uint8_t *row, char **op)
{
	const uint8_t *p = *pp;
	char *o = *op;
	uint8_t ch = *p;
	if (ch >= 0x80) {
		if (c->enc == WN_ENC_UTF8) {
			size_t l = wn_utf8_seq(p, (size_t)(e - p));
			if (!l) {
				char w[80];
				wn_utf8_why(p, (size_t)(e - p), w, sizeof w);
				snprintf(c->why, sizeof c->why, "%s at byte %zu of the row (is the file in cp1252 or latin1? see "
					"--encoding)", w, (size_t)(p - row));
				return WN_E_UTF8;
			}
			memcpy(o, p, l);
			*op = o + l;
			*pp = p + l;
			return 0;
		}
		size_t l = wn_enc_byte(c->enc, ch, o);
		if (!l) {
			snprintf(c->why, sizeof c->why, "byte 0x%02x at byte %zu of the row has no character in cp1252 "
				"(--encoding latin1 reads it as u+00%02x)", ch, (size_t)(p - row), ch);
			return WN_E_UTF8;
		}
		*op = o + l;
		*pp = p + 1;
		return 0;
	}
	*op = o + wn_json_escape(o, (const char *)p, 1);   /* '"', '\\' or a control byte */
	*pp = p + 1;
	return 0;
}

static void quote_value(char *out, size_t cap, const char *v, size_t n)
{
	size_t show = n > 60 ? 60 : n;
	while (show < n && show && ((uint8_t)v[show] & 0xc0) == 0x80)
		show--;
	snprintf(out, cap, "\"%.*s%s\"", (int)show, v, show < n ? "..." : "");
}

/* The value of column cl was written as a JSON string at vs (its opening quote) .. o
 * (after its closing quote). Turn it into its type; returns the new end or NULL (why set). */
static char *typed(csv *c, const col *cl, char *vs, char *o, int quoted)
{
	char *v = vs + 1;
	size_t n = (size_t)(o - 1 - v);
	if (!n) {
		if (cl->type == T_STRING || cl->type == T_AUTO) {
			if (quoted || !c->empty_null)
				return o;
		}
		memcpy(vs, "null", 4);
		return vs + 4;
	}
	switch (cl->type) {
	case T_STRING:
		return o;
	case T_AUTO:
		if (!is_json_number(v, n))
			return o;
		memmove(vs, v, n);
		return vs + n;
	case T_BOOL: {
		int b = memchr(v, '\\', n) ? -1 : bool_value(v, n);
		if (b < 0)
			break;
		memcpy(vs, b ? "true" : "false", b ? 4 : 5);
		return vs + (b ? 4 : 5);
	}
	default: {
		char num[64];
		long k = n < sizeof num ? norm_number(v, n, cl->type == T_INT, num) : -1;
		if (k < 0)
			break;
		memcpy(vs, num, (size_t)k);
		return vs + k;
	}
	}
	char q[80];
	quote_value(q, sizeof q, v, n);
	snprintf(c->why, sizeof c->why, "column \"%s\": %s is not %s", cl->name, q,
		cl->type == T_INT ? "an integer" : cl->type == T_NUMBER ? "a number" : "true or false");
	return NULL;
}

/* Fields of p[0..n) left after the ones converted (rest starts at a field). */
static size_t count_fields(const char *p, size_t n, const delim *d)
{
	size_t nf = 1;
	int st = Q_START;
	for (size_t i = 0; i < n;) {
		i += qstep(p + i, p + n, &st, d);
		nf += st == Q_START;   /* only a separator leads there */
	}
	return nf;
}

/* Make the JSON object of the row p[0..n) at out (room for worst_case()). Returns 0 and
 * *outlen, INCOMPLETE when the row ends inside a quoted field (it goes on at the next
 * line; not for an unwrapped inner row, whose end is final), or a WN_E_* reason with
 * c->why. */
static int convert(csv *c, const char *text, size_t n, int inner, char *out, size_t *outlen)
{
	const uint8_t *row = (const uint8_t *)text, *p = row, *e = row + n;
	char *o = out;
	size_t nf = 0;
	int rc, unclosed = 0, id_empty = 0;
	c->stray = 0;
	if (!n && c->ncols > 1) {
		snprintf(c->why, sizeof c->why, "empty line");
		return WN_E_EMPTY;
	}
	for (;;) {
		const col *cl = &c->cols[nf];
		memcpy(o, cl->prefix, cl->plen);
		o += cl->plen;
		char *vs = o;
		*o++ = '"';
		int quoted = p < e && *p == '"';
		if (quoted) {
			p++;
			for (;;) {
				size_t k = clean_run(p, e, o, '"');
				p += k;
				o += k;
				if (p == e) {
					if (!inner)
						return INCOMPLETE;
					unclosed = 1;
					break;
				}
				if (*p == '"') {
					if (p + 1 < e && p[1] == '"') {
						*o++ = '\\';
						*o++ = '"';
						p += 2;
						continue;
					}
					p++;
					c->stray |= p < e && !sep_at((const char *)p, (const char *)e, &c->sep);   /* text after it */
					break;
				}
				if ((rc = special(c, &p, e, row, &o)))
					goto bad;
			}
		}
		for (;;) {   /* unquoted, or text after the closing quote */
			size_t k = clean_run(p, e, o, c->sep.s[0]);
			p += k;
			o += k;
			if (p == e || sep_at((const char *)p, (const char *)e, &c->sep))
				break;
			if (*p == (uint8_t)c->sep.s[0] && *p >= 0x20 && *p < 0x80 && *p != '\\') {
				*o++ = (char)*p++;   /* the first byte of a longer separator, not followed by the rest */
				continue;
			}
			if (*p == '\r') {
				/* lines end in LF or CRLF: a CR left outside quotes is a line end of a file
				 * whose lines end in CR alone, or a stray byte; neither is a value */
				snprintf(c->why, sizeof c->why, "a carriage return (CR) outside quotes at byte %zu of the row: lines "
					"that end in CR alone are not read as line ends (convert them to LF)", (size_t)(p - row));
				rc = WN_E_ROW;
				goto bad;
			}
			if ((rc = special(c, &p, e, row, &o)))
				goto bad;
		}
		if (nf == c->id_col && o == vs + 1)
			id_empty = 1;
		*o++ = '"';
		if (cl->type != T_STRING || c->empty_null) {
			if (!(o = typed(c, cl, vs, o, quoted))) {
				rc = WN_E_ROW;
				goto bad;
			}
		}
		nf++;
		if (p == e)
			break;
		p += c->sep.len;   /* the separator */
		if (nf == c->ncols) {
			if (!inner && qscan((const char *)p, (size_t)(e - p), Q_START, &c->sep) == Q_QUOTED)
				return INCOMPLETE;
			nf += count_fields((const char *)p, (size_t)(e - p), &c->sep);
			break;
		}
	}
	if (nf != c->ncols) {
		snprintf(c->why, sizeof c->why, "row has %zu field%s, the header has %zu%s", nf, nf == 1 ? "" : "s", c->ncols,
			unclosed ? " (the last field's quote is not closed)" : "");
		return WN_E_ROW;
	}
	if (unclosed) {
		/* an unwrapped line whose last quote is open was cut short, even if its count is right */
		snprintf(c->why, sizeof c->why, "the last field's quote is not closed (is the row cut short?)");
		return WN_E_ROW;
	}
	if (id_empty) {
		snprintf(c->why, sizeof c->why, "missing id (column \"%s\" is empty)", c->cols[c->id_col].name);
		return WN_E_NOID;
	}
	*o++ = '}';
	*outlen = (size_t)(o - out);
	return 0;
bad:
	/* the reason stands, but first the row must be whole: does it go on? */
	if (!inner && qscan(text, n, Q_START, &c->sep) == Q_QUOTED)
		return INCOMPLETE;
	return rc;
}

static size_t worst_case(const csv *c, size_t n)
{
	/* keys, quotes or null or false (7 a value), 6 bytes per input byte (\u00XX; cp1252
	 * needs 3), the braces, and 16 for clean_run's stores */
	return c->keys_bytes + 7 * c->ncols + 6 * n + 32;
}

/* Unquote an outer row into c->inner. 0, or a WN_E_* reason. */
static int unwrap(csv *c, const char *p, size_t n)
{
	c->inner.len = 0;
	if (!n || p[0] != '"') {
		snprintf(c->why, sizeof c->why, "with --csv-unwrap every row must be one quoted field; this one does not start with a quote");
		return WN_E_ROW;
	}
	size_t i = 1;
	for (;;) {
		const char *q = memchr(p + i, '"', n - i);
		if (!q) {
			snprintf(c->why, sizeof c->why, "with --csv-unwrap every row must be one quoted field; its quote is not closed");
			return WN_E_ROW;
		}
		size_t k = (size_t)(q - p);
		if (wn_buf_put(&c->inner, p + i, k - i))
			return WN_E_NOMEM;
		if (k + 1 < n && p[k + 1] == '"') {
			if (wn_buf_put(&c->inner, "\"", 1))
				return WN_E_NOMEM;
			i = k + 2;
			continue;
		}
		if (k + 1 != n) {
			snprintf(c->why, sizeof c->why, "with --csv-unwrap every row must be one quoted field; this one has %zu fields",
				count_fields(p, n, &c->sep));
			return WN_E_ROW;
		}
		return c->inner.p ? 0 : wn_buf_put(&c->inner, "", 0);
	}
}

/* ---- the source ---- */

static int reject(csv *c, wn_srec *r, const crow *w, int code)
{
	r->rec = w->p;
	r->len = w->n;
	if (w->copied && !(r->rec = wn_arena_copy(&c->arena, w->p, w->n)))
		return WN_E_NOMEM;
	r->code = code;
	r->why = NULL;
	if (code != WN_E_TOOLONG && !(r->why = wn_arena_copy(&c->arena, c->why, strlen(c->why) + 1)))
		return WN_E_NOMEM;
	return 1;
}

static int csv_next(wn_source *s, wn_srec *r, int may_move)
{
	csv *c = (csv *)s;
	crow w;
	if (may_move)
		wn_arena_reset(&c->arena);
	int got = read_row(c, &w, may_move);
	if (got != 1)
		return got;
	r->off = w.off;
	r->lineno = w.line;
	r->end = w.end;
	r->toolong_len = 0;
	r->code = 0;
	r->why = NULL;
	if (w.toolong) {
		r->toolong_len = w.toolong;
		return reject(c, r, &w, WN_E_TOOLONG);
	}
	if (w.unclosed) {
		snprintf(c->why, sizeof c->why, "the quoted field opened on line %llu is not closed at the end of the input",
			(unsigned long long)w.line);
		return reject(c, r, &w, WN_E_ROW);
	}
	const char *text = w.p;
	size_t n = w.n;
	if (c->unwrap) {
		int rc = unwrap(c, w.p, w.n);
		if (rc == WN_E_NOMEM)
			return rc;
		if (rc)
			return reject(c, r, &w, rc);
		text = c->inner.p;
		n = c->inner.len;
	}
	char *out = wn_arena_room(&c->arena, worst_case(c, n));
	if (!out)
		return WN_E_NOMEM;
	size_t len = 0;
	int rc = convert(c, text, n, c->unwrap, out, &len);
	if (rc == INCOMPLETE) {
		/* read_row saw the row end where convert did not: cannot happen (same rules) */
		snprintf(c->why, sizeof c->why, "the row ends inside a quoted field");
		rc = WN_E_ROW;
	}
	if (rc)
		return reject(c, r, &w, rc);
	if (c->stray && !c->stray_rows++)
		c->stray_line = w.line;
	wn_arena_take(&c->arena, len);
	r->rec = out;
	r->len = len;
	return 1;
}

static int csv_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	csv *c = (csv *)s;
	(void)recno;   /* rows may span lines: lines are counted as they are skipped */
	while (c->in.offset < pos) {
		const char *line;
		size_t len;
		int toolong;
		int got = wn_input_line(&c->in, &line, &len, &toolong);
		if (got < 0 || got > 1)
			return input_err(c, got);
		if (got == 0)
			break;
	}
	if (c->in.offset != pos) {
		snprintf(s->err, sizeof s->err, "the input does not match what an earlier run read (no row ends at byte %llu)",
			(unsigned long long)pos);
		return WN_E_MISMATCH;
	}
	return 0;
}

static uint64_t csv_consumed(wn_source *s)
{
	csv *c = (csv *)s;
	return wn_input_consumed(&c->in);
}

static void csv_close(wn_source *s)
{
	csv *c = (csv *)s;
	if (c->stray_rows)
		wn_source_note(c->o, s->name, "%llu row%s (the first on line %llu) had a quoted field with a quote in it that "
			"was not doubled (\"a \"b\" c\" for \"a \"\"b\"\" c\"): the field ended at that quote and the text after "
			"it was appended, so the value lost that quote", (unsigned long long)c->stray_rows,
			c->stray_rows == 1 ? "" : "s", (unsigned long long)c->stray_line);
	wn_input_close(&c->in);
	for (size_t i = 0; i < c->ncols; i++) {
		free(c->cols[i].name);
		free(c->cols[i].prefix);
	}
	free(c->cols);
	wn_arena_free(&c->arena);
	wn_buf_free(&c->row);
	wn_buf_free(&c->inner);
	wn_buf_free(&c->tmp);
	free(c);
}

/* ---- the header ---- */

static long find_col(const csv *c, const char *name)
{
	for (size_t i = 0; i < c->ncols; i++)
		if (!strcmp(c->cols[i].name, name))
			return (long)i;
	return -1;
}

/* The header's names and the names given to its columns, hashed: a header with many
 * columns, or one name many times, is read in linear time (a search of the columns for
 * each name, and of the suffixes x_2, x_3, ... for each repeat, made 100k columns a
 * matter of seconds and 4000 columns named x a minute). Names point into the caller's
 * arrays; the table is never more than half full (n names, at most n more). */
typedef struct nslot {
	const char *name;       /* NULL: empty */
	uint64_t h;
	int assigned;           /* a column has this name */
	int next_k;             /* for a name of the header: the suffix to try next for it */
} nslot;

typedef struct nameset {
	nslot *t;
	size_t mask;
} nameset;

static nslot *ns_find(nameset *ns, const char *name)
{
	uint64_t h = XXH3_64bits(name, strlen(name));
	for (size_t i = (size_t)h & ns->mask;; i = (i + 1) & ns->mask) {
		nslot *sl = &ns->t[i];
		if (!sl->name || (sl->h == h && !strcmp(sl->name, name))) {
			sl->h = h;
			return sl;
		}
	}
}

static int ns_init(nameset *ns, char *const *names, size_t n)
{
	size_t cap = 16;
	while (cap < 4 * n)
		cap *= 2;
	if (!(ns->t = calloc(cap, sizeof *ns->t)))
		return WN_E_NOMEM;
	ns->mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		nslot *sl = ns_find(ns, names[i]);
		sl->name = names[i];
		sl->next_k = 2;
	}
	return 0;
}

/* "columns: a, b, c, ..." for messages */
static const char *col_list(csv *c)
{
	c->tmp.len = 0;
	for (size_t i = 0; i < c->ncols && c->tmp.len < 120; i++)
		wn_buf_printf(&c->tmp, "%s\"%s\"", i ? ", " : "", c->cols[i].name);
	if (c->tmp.len >= 120 || !c->tmp.p)
		wn_buf_puts(&c->tmp, ", ...");
	return c->tmp.p ? c->tmp.p : "";
}

/* Column names as UTF-8: checked, or transcoded. */
static int name_utf8(csv *c, int enc, const char *p, size_t n, wn_buf *out)
{
	out->len = 0;
	for (size_t i = 0; i < n;) {
		uint8_t ch = (uint8_t)p[i];
		if (ch < 0x80) {
			if (wn_buf_put(out, p + i, 1))
				return WN_E_NOMEM;
			i++;
			continue;
		}
		char u[4];
		size_t l;
		if (enc == WN_ENC_UTF8) {
			if (!(l = wn_utf8_seq((const uint8_t *)p + i, n - i)))
				return wn_source_fail(&c->s, WN_E_USAGE, "the header is not UTF-8 (byte 0x%02x in column %.*s...); if the file is in "
					"Windows-1252 or Latin-1, say so with --encoding cp1252 or --encoding latin1", ch, (int)(i > 40 ? 40 : i), p);
			if (wn_buf_put(out, p + i, l))
				return WN_E_NOMEM;
			i += l;
			continue;
		}
		if (!(l = wn_enc_byte(enc, ch, u)))
			return wn_source_fail(&c->s, WN_E_USAGE, "the header has byte 0x%02x, which cp1252 does not define", ch);
		if (wn_buf_put(out, u, l))
			return WN_E_NOMEM;
		i++;
	}
	return wn_buf_put(out, "", 1);   /* NUL-terminated; len counts it */
}

static int parse_types(csv *c, const char *spec)
{
	if (!spec || !*spec)
		return 0;
	char *s = strdup(spec), *save = NULL;
	if (!s)
		return WN_E_NOMEM;
	int rc = 0;
	for (char *item = strtok_r(s, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
		char *eq = strrchr(item, '=');
		const char *tn = eq ? eq + 1 : item;
		int t = -1;
		for (int k = 0; k < 5; k++)
			if (!strcmp(tn, type_names[k]))
				t = k;
		if (!eq) {
			if (t != T_AUTO && t != T_STRING) {
				rc = wn_source_fail(&c->s, WN_E_USAGE, "--types: \"%s\" is neither auto nor COLUMN=TYPE", item);
				break;
			}
			for (size_t i = 0; i < c->ncols; i++)
				if (c->cols[i].type == T_STRING || c->cols[i].type == T_AUTO)
					c->cols[i].type = t;
			continue;
		}
		*eq = 0;
		if (t < 0 || t == T_AUTO) {
			rc = wn_source_fail(&c->s, WN_E_USAGE, "--types: unknown type \"%s\" for column \"%s\" (string, int, number or bool)", tn, item);
			break;
		}
		long i = find_col(c, item);
		if (i < 0) {
			rc = wn_source_fail(&c->s, WN_E_USAGE, "--types: no column \"%s\" in the header (columns: %s)", item, col_list(c));
			break;
		}
		c->cols[i].type = t | 0x100;   /* explicit: "auto" later does not override it */
	}
	for (size_t i = 0; i < c->ncols; i++)
		c->cols[i].type &= 0xff;
	free(s);
	return rc;
}

/* The header's fields, from the first row: 0 and *out (free it), 1 for an empty input
 * (no header, no rows), or an error. */
static int header_row(csv *c, fieldlist *out)
{
	crow h;
	int got = read_row(c, &h, 1);
	if (got == 0)
		return 1;
	if (got != 1)
		return got;
	if (h.toolong)
		return wn_source_fail(&c->s, WN_E_USAGE, "the header line is longer than --max-line (%zu bytes)", c->max_line);
	/* a UTF-8 byte-order mark before it was consumed with the input's start (source_open.c) */
	const char *p = h.p;
	size_t n = h.n;
	long cr = bare_cr(p, n, &c->sep);
	if (cr >= 0)
		return wn_source_fail(&c->s, WN_E_USAGE, "the header line has a carriage return (CR) outside quotes at byte %ld: "
			"the file's lines seem to end in CR alone (or CR CR LF), which winnow does not read as line ends; "
			"convert them to LF or CRLF first", cr);
	fieldlist fl = { 0 };
	int rc = split_fields(p, n, &c->sep, &fl);
	if (!rc && c->unwrap) {
		if (fl.n != 1 || !fl.quoted_one) {
			rc = wn_source_fail(&c->s, WN_E_USAGE, "--csv-unwrap: the header is not one quoted field (it has %zu fields): "
				"this file does not need --csv-unwrap", fl.n);
		} else {
			wn_buf_free(&c->inner);
			c->inner = fl.text;
			memset(&fl.text, 0, sizeof fl.text);
			rc = split_fields(c->inner.p ? c->inner.p : "", c->inner.len, &c->sep, &fl);
		}
	} else if (!rc && fl.n == 1 && fl.quoted_one && fl.at[1] > 0) {
		/* one quoted field: is it a whole header quoted once more? */
		fieldlist in = { 0 };
		rc = split_fields(fl.text.p, fl.at[1], &c->sep, &in);
		if (!rc && in.n > 1) {
			wn_buf names = { 0 };
			for (size_t i = 0; i < in.n && i < 4; i++)
				wn_buf_printf(&names, "%s\"%.*s\"", i ? ", " : "", (int)(in.at[i + 1] - in.at[i]), in.text.p + in.at[i]);
			rc = wn_source_fail(&c->s, WN_E_USAGE, "every line of this file is one quoted field that holds a whole CSV line (a CSV "
				"encoded twice: the header's one field holds %zu columns: %s%s); pass --csv-unwrap to read the lines "
				"inside", in.n, names.p ? names.p : "", in.n > 4 ? ", ..." : "");
			wn_buf_free(&names);
		}
		fieldlist_free(&in);
	}
	if (rc) {
		fieldlist_free(&fl);
		return rc;
	}
	*out = fl;
	return 0;
}

/* The header given by --columns (NAME,NAME,...; a name may be quoted as in a CSV
 * header): the file has none, and its first row is a row. 0 and *out, or an error. */
static int given_columns(csv *c, const char *spec, fieldlist *out)
{
	static const delim comma = { ",", 1 };
	fieldlist fl = { 0 };
	int rc = split_fields(spec, strlen(spec), &comma, &fl);
	for (size_t i = 0; i < fl.n && !rc; i++)
		if (fl.at[i + 1] == fl.at[i])
			rc = wn_source_fail(&c->s, WN_E_USAGE, "--columns: name %zu of %zu is empty (\"%s\")", i + 1, fl.n, spec);
	if (!rc && fl.unclosed)
		rc = wn_source_fail(&c->s, WN_E_USAGE, "--columns: a quote is not closed (\"%s\")", spec);
	if (rc) {
		fieldlist_free(&fl);
		return rc;
	}
	*out = fl;
	return 0;
}

static int read_header(csv *c, const wn_ingest_opts *o)
{
	fieldlist fl = { 0 };
	int rc = o->csv_columns ? given_columns(c, o->csv_columns, &fl) : header_row(c, &fl);
	if (rc == 1)
		return 0;   /* empty input: no header, no rows */
	if (rc)
		return rc;
	c->cols = calloc(fl.n, sizeof *c->cols);
	if (!c->cols) {
		fieldlist_free(&fl);
		return WN_E_NOMEM;
	}
	wn_buf u = { 0 }, key = { 0 };
	char **names = calloc(fl.n, sizeof *names);
	if (!names)
		rc = WN_E_NOMEM;
	for (size_t i = 0; i < fl.n && !rc; i++) {
		if (!(rc = name_utf8(c, o->csv_columns ? WN_ENC_UTF8 : c->enc, fl.text.p + fl.at[i], fl.at[i + 1] - fl.at[i], &u)) &&
		    !(names[i] = strdup(u.p)))
			rc = WN_E_NOMEM;
	}
	nameset ns = { 0 };
	if (!rc)
		rc = ns_init(&ns, names, fl.n);
	for (size_t i = 0; i < fl.n && !rc; i++) {
		/* a name seen before gets a suffix that no other column has: the second "x" is
		 * "x_2", or "x_3" if the header has an "x_2" (the first free one, whatever
		 * column has it, before or after) */
		nslot *self = ns_find(&ns, names[i]), *at = self;
		const char *name = names[i];
		if (self->assigned) {
			int k = self->next_k;
			do {
				key.len = 0;
				if (wn_buf_printf(&key, "%s_%d", names[i], k++)) {
					rc = WN_E_NOMEM;
					break;
				}
				at = ns_find(&ns, key.p);
			} while (at->name);   /* the name of a column, or a name taken already */
			self->next_k = k;       /* those before k stay taken: the next "x" starts here */
			name = key.p;
		}
		c->ncols = i + 1;
		if (rc || !(c->cols[i].name = strdup(name))) {
			rc = WN_E_NOMEM;
			break;
		}
		if (!at->name) {
			at->name = c->cols[i].name;
			at->next_k = 2;
		}
		at->assigned = 1;
		c->cols[i].nlen = strlen(c->cols[i].name);
		key.len = 0;
		if (wn_buf_put(&key, i ? "," : "{", 1) || wn_buf_json_str(&key, c->cols[i].name, c->cols[i].nlen) ||
		    wn_buf_put(&key, ":", 1) || !(c->cols[i].prefix = malloc(key.len))) {
			rc = WN_E_NOMEM;
			break;
		}
		memcpy(c->cols[i].prefix, key.p, key.len);
		c->cols[i].plen = key.len;
		c->keys_bytes += key.len;
	}
	free(ns.t);
	for (size_t i = 0; names && i < fl.n; i++)
		free(names[i]);
	free(names);
	wn_buf_free(&u);
	wn_buf_free(&key);
	fieldlist_free(&fl);
	if (rc)
		return rc;
	if ((rc = parse_types(c, o->csv_types)))
		return rc;
	const char *idf = o->id_field ? o->id_field : "id";
	if (!*idf) {
		/* the id is not a column (--id content) */
		c->id_col = SIZE_MAX;
		goto mapped;
	}
	long id = find_col(c, idf);
	if (id < 0)
		return wn_source_fail(&c->s, WN_E_USAGE, "no column \"%s\" in the header (columns: %s); name the id column with --map id=COLUMN",
			idf, col_list(c));
	if (strchr(idf, '.'))
		return wn_source_fail(&c->s, WN_E_USAGE, "the id column \"%s\" has a '.' in its name, which field paths read as nesting", idf);
	c->id_col = (size_t)id;
mapped:;
	const char *const mapped[][2] = { { "isrc", o->isrc_field }, { "title", o->title_field }, { "artist", o->artist_field } };
	for (int k = 0; k < 3; k++)
		if (mapped[k][1] && find_col(c, mapped[k][1]) < 0)
			return wn_source_fail(&c->s, WN_E_USAGE, "--map %s=%s: no such column in the header (columns: %s)", mapped[k][0], mapped[k][1],
				col_list(c));
	return 0;
}

const char *wn_csv_delimiter_why(const char *d)
{
	if (!d)
		return NULL;
	size_t n = strlen(d);
	if (n < 1 || n > WN_DELIM_MAX)
		return n ? "--delimiter: the field separator is longer than 16 bytes" : "--delimiter: the field separator is empty";
	if (strpbrk(d, "\"\r\n"))
		return "--delimiter: the field separator cannot hold a quote (\") or a line end (CR, LF)";
	return NULL;
}

int wn_source_csv(wn_source **out, wn_input *in, const wn_ingest_opts *o, int tsv)
{
	csv *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c) {
		wn_input_close(in);
		return WN_E_NOMEM;
	}
	wn_input_move(&c->in, in);
	wn_source_identity(&c->s, &c->in);
	c->s.next = csv_next;
	c->s.skip = csv_skip;
	c->s.consumed = csv_consumed;
	c->s.close = csv_close;
	*out = &c->s;
	c->o = o;
	const char *sep = o->csv_delimiter ? o->csv_delimiter : tsv ? "\t" : ",", *why = wn_csv_delimiter_why(sep);
	if (why)
		return wn_source_fail(&c->s, WN_E_USAGE, "%s", why);
	c->sep.len = strlen(sep);
	memcpy(c->sep.s, sep, c->sep.len);
	c->unwrap = o->csv_unwrap;
	c->empty_null = o->csv_empty_null;
	c->max_line = o->max_line;
	c->enc = wn_encoding_parse(o->encoding);
	if (c->enc < 0)
		return wn_source_fail(&c->s, WN_E_USAGE, "unknown encoding \"%s\" (utf-8, cp1252 or latin1)", o->encoding);
	return read_header(c, o);
}
