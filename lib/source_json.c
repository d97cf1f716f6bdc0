/*
 * source_json.c - records inside one JSON document: the elements of a top-level array,
 * or of the arrays a --records-path names ("playlists[].tracks[]": every element of the
 * "tracks" array of every element of the top-level member "playlists").
 *
 * A path may go on after its last array: "items[].track" takes the member "track" of
 * every element of "items" (a saved-tracks or playlist-items response), and a path of
 * members alone ("tracks.items[]" aside, e.g. "data") names one record. Without
 * --records-path, a document that is one object is one record (GET /v1/tracks/{id}, a
 * MusicBrainz lookup); one that is an array holds a record per element.
 *
 * The document is streamed: a small tokenizer walks the structure along the path,
 * skips what is off it, and copies each record's bytes out without parsing them (json.c
 * validates them like any other record). Memory is one input buffer and the record
 * being copied, whatever the size of the document or of its lines (a minified document
 * is one line). While copying, whitespace outside strings is left out, so that a record
 * of a pretty-printed document is one line, and the same record gets the same bytes
 * however the document was indented.
 *
 * Positions: a record's offset is the byte offset of its first byte, its "line" the
 * line it starts on, and the position to resume from is the offset just after it. A
 * resumed run walks the document again from the start, without copying, up to there.
 *
 * Faults in the document around the records (outside any record: a missing or doubled
 * comma, "[}", an early end) stop the run with the line and byte where they are, and
 * nothing is made a record of them; a record that is not valid JSON is rejected like
 * any other. The
 * document must be UTF-8 (or, with --encoding, is transcoded record by record: the
 * structure is ASCII in every encoding winnow reads).
 */
#include "source.h"
#include "input.h"

#include <stdarg.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_STEPS 32
#define MAX_FRAMES (MAX_STEPS + 1)
#define KEY_MAX 256

typedef struct step {
	char *name;             /* member name; NULL: the document itself (a top-level array) */
	int arr;                /* the value is an array whose elements go on along the path */
} step;

typedef struct frame {
	uint8_t obj;            /* object (else array) */
	uint8_t st;             /* 0 just opened, 1 after a member or element, 2 after a comma */
	int k;                  /* the step this container answers to */
} frame;

typedef struct jdoc {
	wn_source s;
	wn_input in;
	step steps[MAX_STEPS];
	int nsteps;
	const char *path;       /* as given, for messages */
	frame fr[MAX_FRAMES];
	int nfr;
	int started, finished, found;
	int whole;              /* no --records-path: a document that is an object is one record */
	uint64_t line;          /* the line of the next byte, 1-based */
	size_t max_line;
	wn_buf rec;             /* the record being copied */
	size_t rec_total;       /* its full length (more than rec.len when too long) */
	wn_arena arena;
	char key[KEY_MAX + 8];
	size_t keylen;
	int ioerr;              /* the read error behind a -2 from peekb() */
} jdoc;

static int fail(jdoc *d, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(jdoc *d, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->s.err, sizeof d->s.err, fmt, ap);
	va_end(ap);
	/* a fault in the structure is placed where it is: its line (err_line, which the
	 * ingest puts before the message) and its byte */
	if (code == WN_E_PARSE && n >= 0 && (size_t)n < sizeof d->s.err) {
		snprintf(d->s.err + n, sizeof d->s.err - (size_t)n, " (byte %llu)", (unsigned long long)d->in.offset);
		d->s.err_line = d->line;
	}
	return code;
}

/* ---- bytes ---- */

/* Make sure the buffer holds at least one unread byte: 1, 0 at the end, -1 on a read
 * error (its code in d->ioerr, its text in err).
 * input.c hands out lines, and a document may be one huge line, so it is read in
 * buffers: wn_input_skip() of one byte refills the buffer when it is empty (and
 * consumes that byte, which is still there, one place back). */
static int more(jdoc *d)
{
	wn_input *in = &d->in;
	if (in->start < in->end)
		return 1;
	if (in->eof)
		return 0;
	int rc = wn_input_skip(in, 1, in->line);
	if (rc == WN_E_MISMATCH && in->eof)
		return 0;   /* "shorter than": the end */
	if (rc) {
		snprintf(d->s.err, sizeof d->s.err, "%s", *in->err ? in->err : wn_strerror(rc));
		d->ioerr = rc;
		return -1;
	}
	in->start--;
	in->offset--;
	return 1;
}

static inline int peekb(jdoc *d)
{
	int rc = more(d);
	if (rc == 1)
		return (uint8_t)d->in.buf[d->in.start];
	return rc == 0 ? -1 : -2;
}

static inline void advance(jdoc *d)
{
	if (d->in.buf[d->in.start] == '\n')
		d->line++;
	d->in.start++;
	d->in.offset++;
}

/* The next byte that is not whitespace (not consumed): a byte, -1 at the end, < -1 error */
static int next_token(jdoc *d)
{
	for (;;) {
		int c = peekb(d);
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return c;
		advance(d);
	}
}

static int io_error(jdoc *d, int c)
{
	(void)c;
	return d->ioerr;
}

static const char *shown(int c, char *buf)
{
	if (c == -1)
		return "the end of the input";
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 16, "'%c'", c);
	else
		snprintf(buf, 16, "byte 0x%02x", (unsigned)c & 0xff);
	return buf;
}

/* ---- values ---- */

static int rec_put(jdoc *d, const char *p, size_t n)
{
	size_t keep = d->rec_total + n <= d->max_line ? n : d->rec_total < d->max_line ? d->max_line - d->rec_total : 0;
	d->rec_total += n;
	if (keep && wn_buf_put(&d->rec, p, keep))
		return WN_E_NOMEM;
	return 0;
}

/* The first '"', '\\' or newline in p..e (e if none): inside a string nothing else
 * matters, and most of a record's bytes are inside strings, so they are passed over 16
 * at a time. */
static inline const char *string_stop(const char *p, const char *e)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), nl = _mm_set1_epi8('\n');
	for (; e - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q),
			_mm_cmpeq_epi8(v, bs)), _mm_cmpeq_epi8(v, nl)));
		if (m)
			return p + __builtin_ctz(m);
	}
#endif
	while (p < e && *p != '"' && *p != '\\' && *p != '\n')
		p++;
	return p;
}

/* Past the bytes of a container outside its strings that need no look, 16 at a time:
 * the first of '"', a bracket or brace, whitespace (or any byte below 0x21 or above
 * 0x7f, which the byte loop passes over), or e; in the last 15 bytes, p as it was (the
 * byte loop looks at those). */
static inline const char *struct_stop(const char *p, const char *e)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), lo = _mm_set1_epi8(0x21), up = _mm_set1_epi8(0x20),
		ob = _mm_set1_epi8('{'), cb = _mm_set1_epi8('}');
	for (; e - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p), f = _mm_or_si128(v, up);
		/* signed: below 0x21 takes in the bytes above 0x7f too; '[' | 0x20 is '{' */
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q),
			_mm_cmplt_epi8(v, lo)), _mm_or_si128(_mm_cmpeq_epi8(f, ob), _mm_cmpeq_epi8(f, cb))));
		if (m)
			return p + __builtin_ctz(m);
	}
#endif
	return p;
}

#ifdef __SSE2__
/* 64 bytes and the masks take_block() needs of them: bit i for byte i. */
typedef struct block64 {
	uint64_t quote, bslash, open, close;   /* '"'; '\\'; '{' or '['; '}' or ']' */
	uint64_t low;                          /* a byte of 0x20 or below: space, control */
	__m128i v[4];
} block64;

static inline uint64_t mask16(__m128i m, int i)
{
	return (uint64_t)(uint16_t)_mm_movemask_epi8(m) << (16 * i);
}

static inline void classify(block64 *b, const char *p)
{
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), ob = _mm_set1_epi8('{'),
		cb = _mm_set1_epi8('}'), lower = _mm_set1_epi8(0x20), sp = _mm_set1_epi8(' ');
	b->quote = b->bslash = b->open = b->close = b->low = 0;
	for (int i = 0; i < 4; i++) {
		__m128i v = b->v[i] = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)), f = _mm_or_si128(v, lower);
		b->quote |= mask16(_mm_cmpeq_epi8(v, q), i);
		b->bslash |= mask16(_mm_cmpeq_epi8(v, bs), i);
		b->open |= mask16(_mm_cmpeq_epi8(f, ob), i);    /* '[' | 0x20 is '{' */
		b->close |= mask16(_mm_cmpeq_epi8(f, cb), i);   /* ']' | 0x20 is '}' */
		b->low |= mask16(_mm_cmpeq_epi8(_mm_min_epu8(v, sp), v), i);
	}
}

/* The bits of the block's bytes equal to c. */
static inline uint64_t eq64(const block64 *b, char c)
{
	const __m128i k = _mm_set1_epi8(c);
	uint64_t m = 0;
	for (int i = 0; i < 4; i++)
		m |= mask16(_mm_cmpeq_epi8(b->v[i], k), i);
	return m;
}

/* Bit i set when an odd number of bits 0..i of x are. */
static inline uint64_t prefix_xor(uint64_t x)
{
	x ^= x << 1;
	x ^= x << 2;
	x ^= x << 4;
	x ^= x << 8;
	x ^= x << 16;
	x ^= x << 32;
	return x;
}

/* take_value()'s loop over one block of 64 bytes at p inside a container (*depth > 0),
 * the block and the state before it without a backslash: where the strings are follows
 * from the quotes alone (bit i of `inside`: p[i] is in a string, or opens one), and
 * only the brackets outside them, and the whitespace outside them (which the record
 * leaves out), need a look one by one. Returns the bytes passed (64, or fewer when the
 * value ends in the block: *done set), or 0 when the block has a backslash and the
 * byte loop must take it. */
static inline size_t take_block(jdoc *d, const char *p, int keep, int *in_str, int *depth, const char **copy_from,
	int *done, int *rc)
{
	block64 b;
	classify(&b, p);
	if (b.bslash)
		return 0;
	uint64_t inside = prefix_xor(b.quote) ^ (*in_str ? ~(uint64_t)0 : 0);
	uint64_t open = b.open & ~inside, close = b.close & ~inside, nl = 0, ws = 0;
	if (b.low) {
		/* line ends anywhere, and the whitespace outside strings (other bytes below 0x21
		 * stay, for the strict parser to refuse) */
		nl = eq64(&b, '\n');
		if (b.low & ~inside)
			ws = (eq64(&b, ' ') | eq64(&b, '\t') | eq64(&b, '\r') | nl) & ~inside;
	}
	uint64_t upto = ~(uint64_t)0;   /* the bits of the block that are the value's */
	size_t n = 64;
	for (uint64_t m = open | close; m; m &= m - 1) {
		uint64_t bit = m & -m;
		if (open & bit) {
			++*depth;
		} else if (--*depth == 0) {
			unsigned at = (unsigned)__builtin_ctzll(m);
			n = at + 1;
			upto = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
			*done = 1;
			break;
		}
	}
	d->line += (uint64_t)__builtin_popcountll(nl & upto);
	for (uint64_t w = keep ? ws & upto : 0; w; w &= w - 1) {
		const char *at = p + __builtin_ctzll(w);
		if (at > *copy_from && (*rc = rec_put(d, *copy_from, (size_t)(at - *copy_from))))
			return n;
		*copy_from = at + 1;
	}
	*in_str = (int)(inside >> 63);
	return n;
}
#endif

/* Take (copy to d->rec when keep) the value starting at the current byte. 0, or an error. */
static int take_value(jdoc *d, int keep)
{
	int depth = 0, in_str = 0, esc = 0, scalar = 0;
	wn_input *in = &d->in;
	int c = peekb(d);
	char b[16];
	if (c < 0)
		return c == -1 ? fail(d, WN_E_PARSE, "the document ends where a value should be") : io_error(d, c);
	/* no value starts with these: taken as one, they would be an empty record ("[1,,2]") */
	if (c == ',' || c == ']' || c == '}' || c == ':')
		return fail(d, WN_E_PARSE, "%s where a value should be", shown(c, b));
	if (c != '{' && c != '[' && c != '"')
		scalar = 1;
	for (;;) {
		int rc = more(d);
		if (rc < 0)
			return d->ioerr;
		if (rc == 0) {
			if (scalar && !depth)
				return 0;
			return fail(d, WN_E_PARSE, "the document ends inside a record (is the file truncated?)");
		}
		const char *p = in->buf + in->start, *e = in->buf + in->end, *s = p, *copy_from = p;
		int done = 0;
		for (; p < e; p++) {
			char ch = *p;
#ifdef __SSE2__
			if (depth && !esc && e - p >= 64) {
				int err = 0;
				size_t n = take_block(d, p, keep, &in_str, &depth, &copy_from, &done, &err);
				if (err)
					return err;
				if (n) {
					p += n - 1;   /* (the loop's p++) */
					if (done) {
						p++;
						break;
					}
					continue;
				}
			}
#endif
			if (in_str) {
				if (esc) {
					esc = 0;
					continue;
				}
				if ((p = string_stop(p, e)) == e)
					break;
				ch = *p;
				if (ch == '\\')
					esc = 1;
				else if (ch == '"') {
					in_str = 0;
					if (!depth && !scalar) {
						p++;
						done = 1;
						break;
					}
				} else if (ch == '\n')
					d->line++;
				continue;
			}
			if (scalar) {
				if (ch == ',' || ch == ']' || ch == '}' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
					done = 1;
					break;
				}
				continue;
			}
			if ((p = struct_stop(p, e)) == e)
				break;
			ch = *p;
			switch (ch) {
			case '"':
				in_str = 1;
				break;
			case '{': case '[':
				depth++;
				break;
			case '}': case ']':
				if (--depth == 0) {
					p++;
					done = 1;
				}
				break;
			case ' ': case '\t': case '\r': case '\n':
				if (ch == '\n')
					d->line++;
				if (keep && p > copy_from && (rc = rec_put(d, copy_from, (size_t)(p - copy_from))))
					return rc;
				copy_from = p + 1;
				break;
			}
			if (done)
				break;
		}
		if (keep && p > copy_from && (rc = rec_put(d, copy_from, (size_t)(p - copy_from))))
			return rc;
		in->start += (size_t)(p - s);
		in->offset += (uint64_t)(p - s);
		if (done)
			return 0;
	}
}

/* A string key at the current byte ('"'), decoded into d->key (keylen > KEY_MAX: too
 * long to match anything). */
static int take_key(jdoc *d)
{
	d->keylen = 0;
	advance(d);   /* '"' */
	for (;;) {
		int c = peekb(d);
		if (c < 0)
			return c == -1 ? fail(d, WN_E_PARSE, "the document ends inside a key") : io_error(d, c);
		advance(d);
		if (c == '"')
			return 0;
		if (c == '\\') {
			int e = peekb(d);
			if (e < 0)
				return e == -1 ? fail(d, WN_E_PARSE, "the document ends inside a key") : io_error(d, e);
			advance(d);
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *f = strchr(from, e);
			if (e && f)
				c = to[f - from];
			else if (e == 'u') {
				unsigned cp = 0;
				for (int i = 0; i < 4; i++) {
					int h = peekb(d);
					if (h < 0)
						return h == -1 ? fail(d, WN_E_PARSE, "the document ends inside a key") : io_error(d, h);
					advance(d);
					cp = cp << 4 | (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
				}
				/* keys on a path are plain names: other escapes just do not match */
				if (cp < 0x80)
					c = (int)cp;
				else {
					d->keylen = KEY_MAX + 1;
					continue;
				}
			} else
				return fail(d, WN_E_PARSE, "bad escape in a key");
		}
		if (d->keylen < KEY_MAX)
			d->key[d->keylen] = (char)c;
		d->keylen++;
	}
}

static int push(jdoc *d, int obj, int k)
{
	if (d->nfr == MAX_FRAMES)
		return fail(d, WN_E_PARSE, "the path is nested too deep");
	d->fr[d->nfr].obj = (uint8_t)obj;
	d->fr[d->nfr].st = 0;
	d->fr[d->nfr].k = k;
	d->nfr++;
	if (!obj && k == d->nsteps - 1)
		d->found = 1;
	advance(d);   /* '{' or '[' */
	return 0;
}

/* The value at the next token is a record: copy it to d->rec. 1, or an error. */
static int take_record(jdoc *d, wn_srec *r)
{
	r->off = d->in.offset;
	r->lineno = d->line;
	d->rec.len = 0;
	d->rec_total = 0;
	int rc = take_value(d, 1);
	if (rc)
		return rc;
	r->end = d->in.offset;
	return 1;
}

/* Walk to the next record and copy it to d->rec: 1 = a record (r's positions set), 0 =
 * the end of the document, else an error. */
static int walk(jdoc *d, wn_srec *r)
{
	char b[16];
	int rc;
	for (;;) {
		int c = next_token(d);
		if (c < -1)
			return io_error(d, c);
		if (!d->nfr) {
			if (d->started) {
				if (c == -1)
					return 0;
				return fail(d, WN_E_PARSE, "%s after the end of the document", shown(c, b));
			}
			d->started = 1;
			if (c == -1)
				return fail(d, WN_E_PARSE, "the input is empty: no JSON document");
			if (!d->steps[0].name) {
				if (c == '{' && d->whole) {
					d->found = 1;   /* the document is the one record */
					return take_record(d, r);
				}
				if (c != '[')
					return fail(d, WN_E_USAGE, "the document is %s, not an array of records: say where the "
						"records are with --records-path (e.g. playlists[].tracks[])", c == '{' ? "an object" : "not an array");
				if ((rc = push(d, 0, 0)))
					return rc;
			} else {
				if (c != '{')
					return fail(d, WN_E_USAGE, "the document is not an object, so --records-path %s does not apply%s",
						d->path, c == '[' ? "; it is an array: start the path with []." : "");
				if ((rc = push(d, 1, 0)))
					return rc;
			}
			continue;
		}
		frame *f = &d->fr[d->nfr - 1];
		if (c == -1)
			return fail(d, WN_E_PARSE, "the document ends before it is complete (is the file truncated?)");
		if ((c == '}' && f->obj) || (c == ']' && !f->obj)) {
			if (f->st == 2)
				return fail(d, WN_E_PARSE, "a comma before %s", shown(c, b));
			advance(d);
			d->nfr--;
			continue;
		}
		if (f->st == 1) {
			if (c != ',')
				return fail(d, WN_E_PARSE, "%s where ',' or '%c' should be", shown(c, b), f->obj ? '}' : ']');
			advance(d);
			f->st = 2;
			continue;
		}
		f->st = 1;
		if (f->obj) {
			if (c != '"')
				return fail(d, WN_E_PARSE, "%s where a member name should be", shown(c, b));
			if ((rc = take_key(d)))
				return rc;
			if ((c = next_token(d)) != ':')
				return c < -1 ? io_error(d, c) : fail(d, WN_E_PARSE, "%s where ':' should be", shown(c, b));
			advance(d);
			const step *st = &d->steps[f->k];
			int k = f->k;
			c = next_token(d);
			if (c < -1)
				return io_error(d, c);
			if (d->keylen == strlen(st->name) && !memcmp(d->key, st->name, d->keylen)) {
				if (!st->arr && k == d->nsteps - 1) {
					d->found = 1;   /* the path ends in a member: its value is the record */
					return take_record(d, r);
				}
				if (st->arr && c == '[') {
					if ((rc = push(d, 0, k)))
						return rc;
					continue;
				}
				if (!st->arr && c == '{') {
					if ((rc = push(d, 1, k + 1)))
						return rc;
					continue;
				}
			}
			if ((rc = take_value(d, 0)))
				return rc;
			continue;
		}
		/* an element of an array on the path */
		if (f->k == d->nsteps - 1)
			return take_record(d, r);
		if (c == '{') {
			if ((rc = push(d, 1, f->k + 1)))
				return rc;
			continue;
		}
		if ((rc = take_value(d, 0)))
			return rc;
	}
}

/* ---- the source ---- */

static int json_next(wn_source *s, wn_srec *r, int may_move)
{
	jdoc *d = (jdoc *)s;
	if (may_move)
		wn_arena_reset(&d->arena);
	if (d->finished)
		return 0;
	int rc = walk(d, r);
	if (rc == 0) {
		d->finished = 1;
		if (!d->found)
			return fail(d, WN_E_USAGE, "nothing in the document matches --records-path %s", d->path);
		return 0;
	}
	if (rc != 1)
		return rc;
	r->code = 0;
	r->why = NULL;
	r->toolong_len = 0;
	if (d->rec_total > d->max_line) {
		r->toolong_len = d->rec_total;
		if (d->rec.len > 4096)
			d->rec.len = 4096;
	}
	if (!(r->rec = wn_arena_copy(&d->arena, d->rec.p ? d->rec.p : "", d->rec.len)))
		return WN_E_NOMEM;
	r->len = d->rec.len;
	return 1;
}

static int json_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	jdoc *d = (jdoc *)s;
	(void)recno;
	wn_srec r;
	while (d->in.offset < pos) {
		int rc = walk(d, &r);
		if (rc == 0)
			break;
		if (rc != 1)
			return rc;
		if (r.end == pos)
			return 0;
	}
	snprintf(s->err, sizeof s->err, "the document does not match what an earlier run read (no record ends at byte %llu)",
		(unsigned long long)pos);
	return WN_E_MISMATCH;
}

static uint64_t json_consumed(wn_source *s)
{
	jdoc *d = (jdoc *)s;
	return wn_input_consumed(&d->in);
}

static void json_close(wn_source *s)
{
	jdoc *d = (jdoc *)s;
	wn_input_close(&d->in);
	for (int i = 0; i < d->nsteps; i++)
		free(d->steps[i].name);
	wn_buf_free(&d->rec);
	wn_arena_free(&d->arena);
	free(d);
}

/* "a[].b.c[]" -> steps; "[]" or "" -> the top-level array */
static int parse_path(jdoc *d, const char *path)
{
	if (!path || !*path || !strcmp(path, "[]")) {
		d->steps[0].arr = 1;
		d->nsteps = 1;
		return 0;
	}
	const char *p = path;
	if (!strncmp(p, "[]", 2)) {
		d->steps[d->nsteps++].arr = 1;   /* the document is an array */
		p += 2;
		if (*p == '.')
			p++;
	}
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		int arr = n >= 2 && !memcmp(p + n - 2, "[]", 2);
		size_t nl = arr ? n - 2 : n;
		if (!nl || memchr(p, '[', nl) || memchr(p, ']', nl) || d->nsteps == MAX_STEPS)
			return fail(d, WN_E_USAGE, "bad --records-path \"%s\" (names separated by '.', [] after the arrays: "
				"playlists[].tracks[])", path);
		if (!(d->steps[d->nsteps].name = strndup(p, nl)))
			return WN_E_NOMEM;
		d->steps[d->nsteps++].arr = arr;
		p += n;
		if (*p == '.' && !*++p)
			return fail(d, WN_E_USAGE, "bad --records-path \"%s\"", path);
	}
	return 0;
}

int wn_source_json(wn_source **out, wn_input *in, const wn_ingest_opts *o)
{
	jdoc *d = calloc(1, sizeof *d);
	*out = NULL;
	if (!d) {
		wn_input_close(in);
		return WN_E_NOMEM;
	}
	wn_input_move(&d->in, in);
	wn_source_identity(&d->s, &d->in);
	d->s.next = json_next;
	d->s.skip = json_skip;
	d->s.consumed = json_consumed;
	d->s.close = json_close;
	*out = &d->s;
	d->line = 1;
	d->max_line = o->max_line;
	d->path = o->records_path ? o->records_path : "[]";
	d->whole = !o->records_path;
	return parse_path(d, o->records_path);
}
