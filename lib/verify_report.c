/*
 * verify_report.c - how the verifier reports: located problems, collected from every
 * thread under the check's mutex, counted per kind and per file so that at most
 * max_per_kind of a kind are shown in a file, the first by place (the rest are counted
 * and summed up in a note), and sorted by place before the caller sees them, so that
 * the output does not depend on thread timing; and the one fatal error that stops a
 * check.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "verify.h"

const char *const wn_vpk_name[PK_N] = {
	"missing", "extra", "size", "checksum", "truncated", "frame-corrupt", "seek-table", "count",
	"index-dangling", "record-unindexed", "index-mismatch", "metadata", "note"
};

/* A fatal error (the check cannot go on): the first one wins. */
int wn_vfail(vctx *x, int code, const char *fmt, ...)
{
	pthread_mutex_lock(&x->mu);
	if (!x->fatal) {
		x->fatal = code;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(x->fatal_msg, sizeof x->fatal_msg, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&x->mu);
	atomic_store(&x->stop, 1);
	return code;
}

/* ---- problems ----
 * Of each kind, per file, the first max_per_kind problems by place are shown: the
 * problems kept so far are a heap with the last of them on top, which a problem found
 * later but placed before it replaces. Which are shown thus does not depend on the order
 * the threads (or the map scans, in hash order) found them in. */

typedef struct vshown {
	size_t *h;        /* indexes into vctx.pr, a max-heap by wn_vcmp_prob */
	size_t n, cap;
} vshown;

unsigned *wn_vprob_counter(vctx *x, int kind, vfile *f)
{
	return f ? &f->nprob[kind] : &x->nprob_nofile[kind];
}

void wn_vprob_free_shown(vshown *s)
{
	for (int k = 0; s && k < PK_N; k++)
		free(s[k].h);
	free(s);
}

/* The kept problems of this kind here (NULL when out of memory). Caller holds x->mu. */
static vshown *shown_of(vctx *x, int kind, vfile *f)
{
	vshown **s = f ? &f->shown : &x->shown_nofile;
	if (!*s)
		*s = calloc(PK_N, sizeof **s);
	return *s ? &(*s)[kind] : NULL;
}

static int later(vctx *x, size_t a, size_t b)
{
	return wn_vcmp_prob(&x->pr[a], &x->pr[b]) > 0;
}

static void sift_down(vctx *x, vshown *s, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;
		if (l < s->n && later(x, s->h[l], s->h[m]))
			m = l;
		if (r < s->n && later(x, s->h[r], s->h[m]))
			m = r;
		if (m == i)
			return;
		size_t t = s->h[i];
		s->h[i] = s->h[m];
		s->h[m] = t;
		i = m;
	}
}

static int heap_push(vctx *x, vshown *s, size_t at)
{
	if (WN_GROW(s->h, s->n, s->cap, 16))
		return WN_E_NOMEM;
	size_t i = s->n++;
	s->h[i] = at;
	while (i && later(x, s->h[i], s->h[(i - 1) / 2])) {
		size_t p = (i - 1) / 2, t = s->h[i];
		s->h[i] = s->h[p];
		s->h[p] = t;
		i = p;
	}
	return 0;
}

static vprob at_place(int kind, const vloc *l, uint64_t seq)
{
	vprob p;
	memset(&p, 0, sizeof p);
	p.kind = kind;
	p.f = l->f;
	p.frame = l->frame;
	p.offset = l->offset;
	p.record = l->record;
	p.length = l->length;
	p.seq = seq;
	return p;
}

/* Would a problem of this kind at l be shown? (Caller holds nothing.) */
int wn_vprob_room(vctx *x, int kind, const vloc *l)
{
	unsigned max = x->o->max_per_kind;
	pthread_mutex_lock(&x->mu);
	int room = !max || *wn_vprob_counter(x, kind, l->f) < max;
	vshown *s = room ? NULL : shown_of(x, kind, l->f);
	if (s && s->n) {
		vprob p = at_place(kind, l, x->pseq);
		room = wn_vcmp_prob(&p, &x->pr[s->h[0]]) < 0;
	}
	pthread_mutex_unlock(&x->mu);
	return room;
}

/* force: shown whatever the count (the notes that sum up what was not shown) */
static void probv(vctx *x, int kind, const vloc *l, int force, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof buf, fmt, ap);
	pthread_mutex_lock(&x->mu);
	if (kind == PK_NOTE)
		x->notes++;
	else
		x->problems++;
	unsigned *cnt = wn_vprob_counter(x, kind, l->f);
	unsigned max = x->o->max_per_kind;
	if (!force)
		(*cnt)++;
	vprob p = at_place(kind, l, x->pseq++);
	vshown *s = !force && max ? shown_of(x, kind, l->f) : NULL;
	if (!force && max && (!s || s->n >= max)) {
		/* the kind is full here: this one is shown only if it comes before the last shown */
		if (!s || !s->n || wn_vcmp_prob(&p, &x->pr[s->h[0]]) >= 0) {
			pthread_mutex_unlock(&x->mu);
			return;
		}
		vprob *q = &x->pr[s->h[0]];
		char *d = strdup(buf);
		if (d) {
			free(q->detail);
			free(q->id);
			*q = p;
			q->detail = d;
			if (l->id && (q->id = malloc(l->idlen + 1))) {
				memcpy(q->id, l->id, l->idlen);
				q->id[l->idlen] = 0;
				q->idlen = l->idlen;
			}
			sift_down(x, s, 0);
		}
		pthread_mutex_unlock(&x->mu);
		return;
	}
	if (x->npr == x->cappr) {
		size_t cap = x->cappr ? x->cappr * 2 : 64;
		vprob *np = realloc(x->pr, cap * sizeof *np);
		if (!np) {
			pthread_mutex_unlock(&x->mu);
			return;   /* counted, not shown */
		}
		x->pr = np;
		x->cappr = cap;
	}
	if (!(p.detail = strdup(buf))) {
		pthread_mutex_unlock(&x->mu);
		return;   /* counted, not shown */
	}
	x->pr[x->npr] = p;
	if (s && heap_push(x, s, x->npr)) {
		free(p.detail);
		pthread_mutex_unlock(&x->mu);
		return;
	}
	vprob *q = &x->pr[x->npr++];
	if (l->id && (q->id = malloc(l->idlen + 1))) {
		memcpy(q->id, l->id, l->idlen);
		q->id[l->idlen] = 0;
		q->idlen = l->idlen;
	}
	pthread_mutex_unlock(&x->mu);
}

void wn_vprob(vctx *x, int kind, const vloc *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	probv(x, kind, l, 0, fmt, ap);
	va_end(ap);
}

void wn_vprob_force(vctx *x, int kind, const vloc *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	probv(x, kind, l, 1, fmt, ap);
	va_end(ap);
}

int wn_vcmp_prob(const void *a, const void *b)
{
	const vprob *p = a, *q = b;
	int pn = p->kind == PK_NOTE, qn = q->kind == PK_NOTE;
	if (pn != qn)
		return pn - qn;
	int pf = p->f ? p->f->order : 1 << 30, qf = q->f ? q->f->order : 1 << 30;
	if (pf != qf)
		return pf < qf ? -1 : 1;
	if (p->frame != q->frame)
		return p->frame < q->frame ? -1 : 1;
	if (p->offset != q->offset)
		return p->offset < q->offset ? -1 : 1;
	if (p->record != q->record)
		return p->record < q->record ? -1 : 1;
	if (p->kind != q->kind)
		return p->kind - q->kind;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

int wn_vlmdb_fail(vctx *x, int rc, const char *what)
{
	int code = wn_lmdb_err(x->c, rc, what);
	return wn_vfail(x, code, "%s", x->c->err);
}
