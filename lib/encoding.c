/*
 * encoding.c - text encodings of the input.
 *
 * Records must be UTF-8 (RFC 3629). Input in Windows-1252 or ISO-8859-1 is transcoded
 * to UTF-8 before it is parsed: both are single-byte supersets of ASCII, so transcoding
 * byte by byte while a parser walks the text is the same as transcoding the whole text
 * first. Latin-1 maps byte b to U+00bb; Windows-1252 differs in 80..9f, where it has the
 * typographic characters (€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ). Its five
 * unassigned bytes (81 8d 8f 90 9d) are not guessed at: the record holding one is
 * rejected, and the message says that --encoding latin1 takes them as U+0081 etc.
 *
 * The transcoding source wraps another (JSONL, nested JSON) and rewrites each record.
 */
#include "encoding.h"
#include "source.h"

#include <stdlib.h>
#include <strings.h>

/* Windows-1252 80..9f; 0 = unassigned (wn_enc_byte() in encoding.h reads it) */
const uint16_t wn_cp1252_hi[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

int wn_encoding_parse(const char *name)
{
	if (!name || !strcasecmp(name, "utf-8") || !strcasecmp(name, "utf8"))
		return WN_ENC_UTF8;
	if (!strcasecmp(name, "cp1252") || !strcasecmp(name, "windows-1252"))
		return WN_ENC_CP1252;
	if (!strcasecmp(name, "latin1") || !strcasecmp(name, "iso-8859-1") || !strcasecmp(name, "latin-1"))
		return WN_ENC_LATIN1;
	return -1;
}

size_t wn_utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
		return 0;
	if (c < 0xf0) {
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
			return 0;   /* overlong; surrogate */
		return 3;
	}
	if (n < 4 || (p[3] & 0xc0) != 0x80 || (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
		return 0;       /* overlong; above U+10FFFF */
	return 4;
}

void wn_utf8_why(const uint8_t *p, size_t n, char *out, size_t cap)
{
	uint8_t c = p[0];
	size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	if (c >= 0x80 && c < 0xc0) {
		snprintf(out, cap, "unexpected utf-8 continuation byte 0x%02x", c);
		return;
	}
	if (c == 0xc0 || c == 0xc1) {
		snprintf(out, cap, "overlong utf-8 sequence");
		return;
	}
	if (c > 0xf4) {
		snprintf(out, cap, "invalid utf-8 byte 0x%02x", c);
		return;
	}
	for (size_t i = 1; i < need; i++)
		if (i >= n || (p[i] & 0xc0) != 0x80) {
			snprintf(out, cap, "truncated utf-8 sequence");
			return;
		}
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xf0 && p[1] < 0x90))
		snprintf(out, cap, "overlong utf-8 sequence");
	else if (c == 0xed)
		snprintf(out, cap, "utf-8 encoded surrogate u+%04x", (unsigned)((c & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f)));
	else
		snprintf(out, cap, "utf-8 code point above u+10ffff");
}

/* ---- transcoding source ---- */

typedef struct tsrc {
	wn_source s;
	wn_source *in;
	int enc;
	wn_arena arena;
	char why[160];
} tsrc;

static int t_next(wn_source *s, wn_srec *r, int may_move)
{
	tsrc *t = (tsrc *)s;
	if (may_move)
		wn_arena_reset(&t->arena);
	int got = t->in->next(t->in, r, may_move);
	if (got != 1) {
		if (got != 0 && got != 2)
			memcpy(s->err, t->in->err, sizeof s->err);
		return got;
	}
	if (r->code || r->toolong_len)
		return 1;
	const uint8_t *p = (const uint8_t *)r->rec;
	size_t n = r->len, i = 0;
	while (i < n && p[i] < 0x80)
		i++;
	if (i == n)
		return 1;   /* ASCII: nothing to do */
	char *o = wn_arena_room(&t->arena, n * 3);
	if (!o)
		return WN_E_NOMEM;
	memcpy(o, p, i);
	size_t k = i;
	for (; i < n; i++) {
		if (p[i] < 0x80) {
			o[k++] = (char)p[i];
			continue;
		}
		size_t l = wn_enc_byte(t->enc, p[i], o + k);
		if (!l) {
			/* keep the record as it was: rejected, with its bytes */
			snprintf(t->why, sizeof t->why, "byte 0x%02x at offset %zu has no character in cp1252 "
				"(--encoding latin1 reads it as u+00%02x)", p[i], i, p[i]);
			r->code = WN_E_UTF8;
			r->why = t->why;
			return 1;
		}
		k += l;
	}
	wn_arena_take(&t->arena, k);
	r->rec = o;
	r->len = k;
	return 1;
}

static int t_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	tsrc *t = (tsrc *)s;
	int rc = t->in->skip(t->in, pos, recno);
	if (rc)
		memcpy(s->err, t->in->err, sizeof s->err);
	return rc;
}

static uint64_t t_consumed(wn_source *s)
{
	tsrc *t = (tsrc *)s;
	return t->in->consumed(t->in);
}

static void t_close(wn_source *s)
{
	tsrc *t = (tsrc *)s;
	wn_source_close(t->in);
	wn_arena_free(&t->arena);
	free(t);
}

int wn_source_transcode(wn_source **out, wn_source *inner, int enc)
{
	tsrc *t = calloc(1, sizeof *t);
	*out = NULL;
	if (!t) {
		wn_source_close(inner);
		return WN_E_NOMEM;
	}
	t->in = inner;
	t->enc = enc;
	t->s.name = inner->name;
	t->s.size = inner->size;
	t->s.head_hash = inner->head_hash;
	t->s.next = t_next;
	t->s.skip = t_skip;
	t->s.consumed = t_consumed;
	t->s.close = t_close;
	*out = &t->s;
	return 0;
}
