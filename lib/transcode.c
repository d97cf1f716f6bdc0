/*
 * transcode.c - a source that wraps another and hands on its records in UTF-8.
 *
 * JSONL lines and the records of a JSON document are told apart by ASCII bytes only
 * (line ends, brackets, quotes), which mean the same in Windows-1252 and Latin-1, so
 * the inner source cuts the records as if the text were UTF-8 and each record is
 * transcoded after it (encoding.c has the tables). A record that is all ASCII goes on
 * as it is; another is rewritten into the arena, where it stays valid as long as the
 * inner source's records do. A byte that cp1252 does not define leaves the record as
 * it was and rejects it with the reason. CSV does not come through here: it transcodes
 * in the pass that makes each row's JSON text.
 */
#include "source.h"

#include <stdlib.h>

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
		if (got != 0 && got != 2) {
			memcpy(s->err, t->in->err, sizeof s->err);
			s->err_line = t->in->err_line;
		}
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
	t->s.regular = inner->regular;
	t->s.size = inner->size;
	t->s.dev = inner->dev;
	t->s.ino = inner->ino;
	t->s.head_hash = inner->head_hash;
	t->s.next = t_next;
	t->s.skip = t_skip;
	t->s.consumed = t_consumed;
	t->s.close = t_close;
	*out = &t->s;
	return 0;
}
