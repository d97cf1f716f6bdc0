/*
 * ingest_parse.c - the parsing thread of ingest: records read, parsed, fingerprinted
 * and keyed ahead of the decisions.
 *
 * Reading and parsing (a third of the work per record) run in a thread of their own,
 * one input at a time, while the ingesting thread decides and stores: the two halves
 * overlap on two cores. The parser fills slots of SLOT_RECS records in turn, each with
 * an arena of its own holding the records' bytes (the source's buffer moves on), their
 * ids and error texts; the ingesting thread takes the slots in order, so the result
 * does not depend on the timing. A slot ends early at the end of the input or at an
 * error of the source, which the ingesting thread sees after that slot's records.
 */
#include "ingest.h"
#include "transform.h"

#include <stdlib.h>
#include <xxhash.h>

/* ---- one record ---- */

/* A NUL-terminated copy of p[0..n) in the slot's arena, or NULL (no memory). */
static const char *arena_str(pctx *x, const char *p, size_t n)
{
	char *d = wn_arena_room(x->arena, n + 1);
	if (!d)
		return NULL;
	memcpy(d, p, n);
	d[n] = 0;
	wn_arena_take(x->arena, n + 1);
	return d;
}

/* A slot's string or number (*p NULL when it has neither): where it stands in the
 * record's bytes (which the slot's arena holds), or else a copy in the arena. 0 or -1. */
static int take_value(pctx *x, const prep *r, const wn_jslot *v, const char **p, size_t *n)
{
	*p = NULL;
	*n = 0;
	if (!v || (v->type != WN_JT_STRING && v->type != WN_JT_NUMBER))
		return 0;
	*n = v->len;
	if (v->ptr >= r->line && v->ptr + v->len <= r->line + r->len) {
		*p = v->ptr;
		return 0;
	}
	return (*p = arena_str(x, v->ptr, v->len)) ? 0 : -1;
}

/* What a contribution notes of a record with an id (contrib.h): its contributor, its
 * time, the hash of its other id parts (the play: time and item), its released values. */
static int take_play(pctx *x, const prep *r, wn_play *pl)
{
	const wn_profile *p = x->prof;
	const wn_jslot *part[WN_ID_PARTS];
	wn_record_id_values(&x->jr, p, part);
	if (take_value(x, r, part[x->cpart], &pl->who, &pl->who_len) ||
	    take_value(x, r, x->tpart >= 0 ? part[x->tpart] : NULL, &pl->time, &pl->time_len))
		return -1;
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < p->n_id; i++) {
		const wn_jslot *v = i == x->cpart ? NULL : part[i];
		if (v) {
			uint8_t len[8];
			wn_put_be64(len, v->len);
			h = XXH3_64bits_withSeed(len, sizeof len, h);
			h = XXH3_64bits_withSeed(v->ptr, v->len, h);
		}
	}
	pl->hash = h;
	for (int f = 0; f < p->n_tally && f < WN_TALLY_MAX; f++)
		if (take_value(x, r, &x->jr.slot[SLOT_TALLY + f], &pl->tally[f], &pl->tally_len[f]))
			return -1;
	return 0;
}

/* Parse one record; never fails but for memory (the verdict is in r->code). */
int wn_ingest_prepare(pctx *x, prep *r, const wn_srec *s)
{
	const char *line = s->rec;
	size_t len = s->len;
	r->line = r->in_line = line;
	r->len = r->in_len = len;
	r->has_err_off = 0;
	r->key.n_isrc = r->key.isrc_over = 0;
	/* with fields to hide, a record the transforms cannot read is not kept even in rejects */
	r->withheld = x->xf && wn_profile_private(x->prof) && (s->toolong_len || s->code || !len);
	if (s->toolong_len) {
		/* the source may say why (an XML element too large to convert), else decide()
		 * says "longer than the limit" */
		r->code = WN_E_TOOLONG;
		r->err = s->why;
		return 0;
	}
	if (s->code) {
		/* the source rejected it (a CSV row with the wrong number of fields, ...); its
		 * reason is in the slot's arena already */
		r->code = s->code;
		r->err = s->why ? s->why : wn_strerror(s->code);
		return 0;
	}
	if (!len) {
		r->code = WN_E_EMPTY;
		return 0;
	}
	double t0 = x->sample ? wn_now() : 0;
	int rc = WN_E_USAGE, parsed = 0;
	if (x->xf) {
		/* the record as it is stored: transformed, in the strict parse's one pass when
		 * it can; else (any fault) in two passes, which decide what the record is */
		const char *out;
		size_t olen;
		if (!(rc = wn_json_record_edit(x->json, line, len, wn_xform_edit(x->xf), &x->jr, &out, &olen))) {
			if (!(line = arena_str(x, out, olen)))
				return WN_E_NOMEM;
			len = olen;
			r->line = line;
			r->len = len;
			parsed = 1;
		}
	}
	if (!parsed && x->xf) {
		const char *out, *bad;
		size_t olen, at;
		rc = wn_xform_apply(x->xf, line, len, &out, &olen, &bad, &at);
		if (rc == WN_E_NOMEM)
			return rc;
		if (rc) {
			r->code = rc;
			r->err_off = at;
			r->has_err_off = 1;
			r->withheld = wn_profile_private(x->prof);
			r->err = arena_str(x, bad, strlen(bad));
			return r->err ? 0 : WN_E_NOMEM;
		}
		if (!(line = arena_str(x, out, olen)))
			return WN_E_NOMEM;
		len = olen;
		r->line = line;
		r->len = len;
	}
	if (!parsed)
		rc = wn_json_record(x->json, line, len, &x->jr);
	if (x->sample)
		x->t_parse += (wn_now() - t0) * 16;
	char why[200];
	if (rc) {
		if (rc == WN_E_NOMEM)
			return rc;
		r->code = rc;
		r->err_off = x->jr.err_offset;
		r->has_err_off = 1;
		r->err = arena_str(x, x->jr.err, strlen(x->jr.err));
		return r->err ? 0 : WN_E_NOMEM;
	}
	if (*x->prof->exclude && x->jr.slot[SLOT_EXCLUDE].type == WN_JT_TRUE) {
		/* not kept and counted as rejected, with its reason but none of its bytes */
		snprintf(why, sizeof why, "excluded: %s is true", x->prof->exclude);
		r->code = WN_E_EXCLUDED;
		r->withheld = 1;
		r->err = arena_str(x, why, strlen(why));
		return r->err ? 0 : WN_E_NOMEM;
	}
	r->nocontrib = 0;
	if (wn_record_keys(&x->jr, x->prof, &r->key, x->idbuf, why, sizeof why)) {
		r->code = WN_E_NOID;
		r->nocontrib = x->cpart >= 0 && !wn_record_id_part(&x->jr, x->prof, x->cpart);
		r->err = arena_str(x, why, strlen(why));
		return r->err ? 0 : WN_E_NOMEM;
	}
	r->code = 0;
	/* the id points into the parser's result, which the next record overwrites */
	if (!(r->key.id = arena_str(x, r->key.id, r->key.id_len)))
		return WN_E_NOMEM;
	r->has_play = x->cpart >= 0;
	if (r->has_play && take_play(x, r, &r->play))
		return WN_E_NOMEM;
	if (x->newest) {
		r->newest = x->jr.slot[SLOT_NEWEST];
		if (r->newest.ptr && !(r->newest.ptr = arena_str(x, r->newest.ptr, r->newest.len)))   /* NUL: strtod reads it */
			return WN_E_NOMEM;
	}
	return 0;
}

/* ---- the thread ---- */

static int fill_slot(parser *ps, pslot *sl)
{
	wn_arena_reset(&sl->bytes);
	sl->n = 0;
	ps->x.arena = &sl->bytes;
	while (sl->n < SLOT_RECS && !(ps->cancel && __atomic_load_n(ps->cancel, __ATOMIC_RELAXED))) {
		wn_srec s;
		int got = ps->src->next(ps->src, &s, 1);
		if (got == 2)
			continue;   /* not with may_move; be safe */
		if (got == 0)
			return END;
		if (got != 1) {
			memcpy(sl->err, ps->src->err, sizeof sl->err);
			return got;
		}
		prep *r = &sl->r[sl->n];
		if (!(s.rec = wn_arena_copy(&sl->bytes, s.rec, s.len)) ||
		    (s.why && !(s.why = wn_arena_copy(&sl->bytes, s.why, strlen(s.why) + 1))))
			goto nomem;
		r->off = s.off;
		r->lineno = s.lineno;
		r->end = s.end;
		r->toolong_len = s.toolong_len;
		ps->x.sample = ps->nrec++ % 16 == 0;
		if (wn_ingest_prepare(&ps->x, r, &s))
			goto nomem;
		sl->n++;
	}
	return 0;
nomem:
	snprintf(sl->err, sizeof sl->err, "%s", wn_strerror(WN_E_NOMEM));
	return WN_E_NOMEM;
}

static void *parse_main(void *arg)
{
	parser *ps = arg;
	pthread_setname_np(pthread_self(), "winnow-parse");
	for (;;) {
		pthread_mutex_lock(&ps->mu);
		while (ps->filled - ps->taken == SLOTS && !ps->stop)
			pthread_cond_wait(&ps->cv, &ps->mu);
		int stop = ps->stop;
		uint64_t k = ps->filled;
		pthread_mutex_unlock(&ps->mu);
		if (stop)
			break;
		pslot *sl = &ps->slots[k % SLOTS];
		double t0 = wn_now();
		int st = fill_slot(ps, sl);
		sl->consumed = ps->src->consumed(ps->src);
		ps->t_fill += wn_now() - t0;
		pthread_mutex_lock(&ps->mu);
		sl->status = st;
		ps->filled++;
		pthread_cond_broadcast(&ps->cv);
		pthread_mutex_unlock(&ps->mu);
		if (st)
			break;
	}
	return NULL;
}

/* The next filled slot (waiting for it), or NULL when the thread cannot start. */
pslot *wn_parser_take(ing *g, parser *ps)
{
	if (!ps->started) {
		if (pthread_create(&ps->th, NULL, parse_main, ps))
			return NULL;
		ps->started = 1;
	}
	pthread_mutex_lock(&ps->mu);
	if (ps->filled == ps->taken) {
		double t0 = wn_now();
		while (ps->filled == ps->taken)
			pthread_cond_wait(&ps->cv, &ps->mu);
		g->t_input_wait += wn_now() - t0;
	}
	pthread_mutex_unlock(&ps->mu);
	return &ps->slots[ps->taken % SLOTS];
}

void wn_parser_give_back(parser *ps)
{
	pthread_mutex_lock(&ps->mu);
	ps->taken++;
	pthread_cond_broadcast(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
}

/* Stop the thread (if it runs) and free the parser; the source stays open. */
void wn_parser_end(ing *g, parser *ps)
{
	if (ps->started)
		wn_thread_stop(ps->th, &ps->mu, &ps->cv, &ps->stop);
	g->t_read += ps->t_fill > ps->x.t_parse ? ps->t_fill - ps->x.t_parse : 0;
	g->t_parse += ps->x.t_parse;
	pthread_mutex_destroy(&ps->mu);
	pthread_cond_destroy(&ps->cv);
	for (int i = 0; i < SLOTS; i++) {
		wn_arena_free(&ps->slots[i].bytes);
	}
	free(ps);
}
