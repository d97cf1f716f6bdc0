/*
 * ingest_parse.c - the parsing threads of ingest: records read, parsed, fingerprinted
 * and keyed ahead of the decisions.
 *
 * Reading and parsing (a third of the work per record) run in threads of their own,
 * one input at a time, while the ingesting thread decides and stores. One thread reads
 * the input (finding where records end is cheap, and a source reads in order): it fills
 * slots of SLOT_RECS records in turn, each with an arena of its own holding the records'
 * bytes (the source's buffer moves on). The run's parsing threads (the team, each with
 * its own parser and transforms) take turns at the source: one reads the next slot, lets
 * the source go and parses that slot as a whole while another reads, adding the records'
 * ids and error texts to the slot's arena. The ingesting
 * thread takes the slots in the order they were read, each once its parse is done, so
 * the result does not depend on the timing nor on the number of threads. A slot ends
 * early at the end of the input or at an error of the source, which the ingesting thread
 * sees after that slot's records. What a slot's reading and parsing cost is kept in the
 * slot and added to the run's stage times when it is taken: no counter is shared.
 */
#include "ingest.h"
#include "transform.h"

#include <stdlib.h>
#include <xxhash.h>

/* ---- one record ---- */

/* Room for a record's edited text beyond its own length (pseudonyms are longer than what
 * they replace); a record that needs more is edited in two passes. */
#define EDIT_ROOM 4096

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
	int rc, parsed = 0;
	if (x->xf) {
		/* the record as it is stored: transformed, in the strict parse's one pass when
		 * it can; else (any fault) in two passes, which decide what the record is */
		size_t olen, cap = len + EDIT_ROOM, at;
		char *room = wn_arena_room(x->arena, cap + 1);
		const char *out, *bad;
		if (!room)
			return WN_E_NOMEM;
		if (!wn_json_record_edit(x->json, line, len, wn_xform_edit(x->xf), &x->jr, room, cap, &olen)) {
			room[olen] = 0;
			wn_arena_take(x->arena, olen + 1);
			parsed = 1;
			out = room;
		} else if ((rc = wn_xform_apply(x->xf, line, len, &out, &olen, &bad, &at))) {
			if (rc == WN_E_NOMEM)
				return rc;
			r->code = rc;
			r->err_off = at;
			r->has_err_off = 1;
			r->withheld = wn_profile_private(x->prof);
			r->err = arena_str(x, bad, strlen(bad));
			return r->err ? 0 : WN_E_NOMEM;
		} else if (!(out = arena_str(x, out, olen))) {
			return WN_E_NOMEM;
		}
		r->line = line = out;
		r->len = len = olen;
	}
	rc = parsed ? 0 : wn_json_record(x->json, line, len, &x->jr);
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

/* ---- a parsing thread's handles ---- */

/* Profile p's transforms with o's key and contributor (*xf NULL when it has none). 0, or
 * a code with why. */
int wn_ingest_new_xform(const wn_profile *p, const wn_ingest_opts *o, struct wn_xform **xf, char *why, size_t wl)
{
	int rc;
	*xf = NULL;
	if (wn_profile_transforms(p) && !(*xf = wn_xform_new(p, o->key, o->key_len))) {
		snprintf(why, wl, "cannot set up the transforms (out of memory, or the key)");
		return WN_E_NOMEM;
	}
	if (o->contributor && (rc = wn_xform_set_contributor(*xf, o->contributor))) {
		snprintf(why, wl, "cannot set the contributor");
		wn_xform_free(*xf);
		*xf = NULL;
		return rc;
	}
	return 0;
}

/* Set up a parser of the run's records: the record's keys (record.c), then the
 * exclude, tally and newest fields. 0 or an error (in g->c). */
int wn_ingest_setup_json(ing *g, wn_json *j)
{
	const wn_profile *p = &g->prof;
	int rc;
	if ((rc = wn_record_parser(j, p, WN_RECORD_FP)))
		return rc;
	if (*p->exclude && (rc = wn_json_set_slot(j, SLOT_EXCLUDE, p->exclude)))
		return wn_seterr(g->c, rc, "bad exclude path \"%s\" in the profile", p->exclude);
	for (int f = 0; f < p->n_tally && g->cpart >= 0 && f < WN_TALLY_MAX; f++)
		if ((rc = wn_json_set_slot(j, SLOT_TALLY + f, p->tally[f])))
			return wn_seterr(g->c, rc, "bad tally path \"%s\" in the profile", p->tally[f]);
	if (g->o->on_conflict == WN_CONFLICT_NEWEST && (rc = wn_json_set_slot(j, SLOT_NEWEST, g->o->newest_field)))
		return wn_seterr(g->c, rc, "bad --on-conflict field \"%s\"", g->o->newest_field);
	return 0;
}

int wn_ingest_parser_setup(ing *g, wn_json **json, struct wn_xform **xf)
{
	char why[512];
	int rc;
	*xf = NULL;
	if (!(*json = wn_json_new()))
		return wn_seterr(g->c, WN_E_NOMEM, "cannot set up the parsing threads: %s", wn_strerror(WN_E_NOMEM));
	if (!(rc = wn_ingest_setup_json(g, *json)) && (rc = wn_ingest_new_xform(&g->prof, g->o_user, xf, why, sizeof why)))
		wn_seterr(g->c, rc, "%s", why);
	if (rc) {
		wn_json_free(*json);
		*json = NULL;
	}
	return rc;
}

/* ---- the threads ---- */

/* Read the next records of the input into sl (its bytes into the slot's arena): 0 (a
 * full slot, or cancelled), END or the source's error. */
static int read_slot(parser *ps, pslot *sl)
{
	wn_arena_reset(&sl->bytes);
	sl->n = 0;
	sl->first = ps->nrec;
	while (sl->n < SLOT_RECS && !(ps->cancel && __atomic_load_n(ps->cancel, __ATOMIC_RELAXED))) {
		wn_srec *s = &sl->s[sl->n];
		int got = ps->src->next(ps->src, s, 1);
		if (got == 2)
			continue;   /* not with may_move; be safe */
		if (got == 0)
			return END;
		if (got != 1) {
			memcpy(sl->err, ps->src->err, sizeof sl->err);
			return got;
		}
		if (!(s->rec = wn_arena_copy(&sl->bytes, s->rec, s->len)) ||
		    (s->why && !(s->why = wn_arena_copy(&sl->bytes, s->why, strlen(s->why) + 1)))) {
			snprintf(sl->err, sizeof sl->err, "%s", wn_strerror(WN_E_NOMEM));
			return WN_E_NOMEM;
		}
		prep *r = &sl->r[sl->n];
		r->off = s->off;
		r->lineno = s->lineno;
		r->end = s->end;
		r->toolong_len = s->toolong_len;
		sl->n++;
		ps->nrec++;
	}
	return 0;
}

/* Parse the records sl holds, with the context of the thread that runs it. Out of
 * memory ends the slot at that record, with the error. */
static void parse_slot(pctx *x, pslot *sl)
{
	double p0 = x->t_parse;
	x->arena = &sl->bytes;
	for (int i = 0; i < sl->n; i++) {
		x->sample = (sl->first + (uint64_t)i) % 16 == 0;
		if (wn_ingest_prepare(x, &sl->r[i], &sl->s[i])) {
			sl->n = i;
			sl->status = WN_E_NOMEM;
			snprintf(sl->err, sizeof sl->err, "%s", wn_strerror(WN_E_NOMEM));
			break;
		}
	}
	sl->t_parse = x->t_parse - p0;
}

/* One of the parser's threads: takes the source when no other reads it, reads the next
 * slot, lets the source go and parses that slot. The slots are read in order, whichever
 * thread reads them, and each is the ingesting thread's once it is parsed. */
static void *parse_main(void *arg)
{
	parser *ps = ((pworker *)arg)->ps;
	pctx *x = ((pworker *)arg)->x;
	pthread_setname_np(pthread_self(), "winnow-parse");
	pthread_mutex_lock(&ps->mu);
	for (;;) {
		while (!ps->stop && !ps->ended && (ps->reading || ps->next - ps->taken == (uint64_t)ps->nslots))
			pthread_cond_wait(&ps->cv, &ps->mu);
		if (ps->stop || ps->ended)
			break;
		pslot *sl = &ps->slots[ps->next++ % (uint64_t)ps->nslots];
		ps->reading = 1;
		pthread_mutex_unlock(&ps->mu);
		double t0 = wn_now();
		int st = read_slot(ps, sl);
		sl->consumed = ps->src->consumed(ps->src);
		sl->status = st;
		double t1 = wn_now();
		pthread_mutex_lock(&ps->mu);
		ps->reading = 0;
		if (st)
			ps->ended = 1;
		pthread_cond_broadcast(&ps->cv);
		pthread_mutex_unlock(&ps->mu);
		parse_slot(x, sl);
		sl->t_read = t1 - t0;
		sl->t_work = wn_now() - t1;
		pthread_mutex_lock(&ps->mu);
		sl->ready = 1;
		pthread_cond_broadcast(&ps->cv);
	}
	pthread_mutex_unlock(&ps->mu);
	return NULL;
}

int wn_parse_team_new(ing *g, int n)
{
	if (n <= 0)
		n = wn_ncores();
	if (n > PARSE_THREADS_MAX)
		n = PARSE_THREADS_MAX;
	pteam *t = calloc(1, sizeof *t);
	if (!t || !(t->x = calloc((size_t)n, sizeof *t->x))) {
		free(t);
		return wn_seterr(g->c, WN_E_NOMEM, "cannot set up the parsing threads: %s", wn_strerror(WN_E_NOMEM));
	}
	g->team = t;
	for (; t->n < n; t->n++) {
		pctx *x = &t->x[t->n];
		x->prof = &g->prof;
		x->newest = g->o->on_conflict == WN_CONFLICT_NEWEST;
		x->cpart = g->cpart;
		x->tpart = g->tpart;
		if (!t->n) {
			x->json = g->json;
			x->xf = g->xf;
		} else {
			int rc = wn_ingest_parser_setup(g, &x->json, &x->xf);
			if (rc)
				return rc;   /* x->json and x->xf are NULL */
		}
	}
	return 0;
}

void wn_parse_team_free(pteam *t)
{
	if (!t)
		return;
	for (int i = 1; i < t->n; i++) {
		wn_json_free(t->x[i].json);
		wn_xform_free(t->x[i].xf);
	}
	free(t->x);
	free(t);
}

parser *wn_parser_new(ing *g, wn_source *src)
{
	parser *ps = calloc(1, sizeof *ps);
	if (!ps)
		return NULL;
	/* a slot being decided, one for each thread (read or parsed), and as many ready */
	ps->nslots = g->team->n > 1 ? 2 * g->team->n + 4 : SLOTS;
	if (!(ps->slots = calloc((size_t)ps->nslots, sizeof *ps->slots))) {
		free(ps);
		return NULL;
	}
	pthread_mutex_init(&ps->mu, NULL);
	pthread_cond_init(&ps->cv, NULL);
	ps->src = src;
	ps->team = g->team;
	ps->cancel = g->o->cancel;
	return ps;
}

/* The threads (as many as start, at least one), on first use. 0 or -1. */
static int start(parser *ps)
{
	for (int i = 0; i < ps->team->n; i++) {
		ps->w[i] = (pworker){ ps, &ps->team->x[i] };
		if (pthread_create(&ps->th[i], NULL, parse_main, &ps->w[i]))
			break;
		ps->started++;
	}
	return ps->started ? 0 : -1;
}

/* The next slot read and parsed (waiting for it), or NULL when no thread can start. */
pslot *wn_parser_take(ing *g, parser *ps)
{
	if (!ps->started && start(ps))
		return NULL;
	pslot *sl = &ps->slots[ps->taken % (uint64_t)ps->nslots];
	pthread_mutex_lock(&ps->mu);
	if (!sl->ready) {
		double t0 = wn_now();
		while (!sl->ready)
			pthread_cond_wait(&ps->cv, &ps->mu);
		g->t_input_wait += wn_now() - t0;
	}
	pthread_mutex_unlock(&ps->mu);
	/* read: what reading and parsing took but the parse proper (timed one in 16) */
	double all = sl->t_read + sl->t_work;
	g->t_read += all > sl->t_parse ? all - sl->t_parse : 0;
	g->t_parse += sl->t_parse;
	return sl;
}

void wn_parser_give_back(parser *ps)
{
	pthread_mutex_lock(&ps->mu);
	ps->slots[ps->taken % (uint64_t)ps->nslots].ready = 0;
	ps->taken++;
	pthread_cond_broadcast(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
}

/* Stop the threads (if they run) and free the parser; the source stays open. */
void wn_parser_end(ing *g, parser *ps)
{
	wn_thread_stop(ps->th, ps->started, &ps->mu, &ps->cv, &ps->stop);
	pthread_mutex_destroy(&ps->mu);
	pthread_cond_destroy(&ps->cv);
	for (int i = 0; i < ps->nslots; i++)
		wn_arena_free(&ps->slots[i].bytes);
	free(ps->slots);
	free(ps);
}
