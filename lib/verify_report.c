/*
 * verify_report.c - how the verifier reports: located problems, collected from every
 * thread under the check's mutex, counted per kind and per file so that at most
 * max_per_kind of a kind are shown in a file (the rest are counted and summed up in a
 * note), and sorted by place before the caller sees them, so that the output does not
 * depend on thread timing; and the one fatal error that stops a check.
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

/* ---- problems ---- */

unsigned *wn_vprob_counter(vctx *x, int kind, vfile *f)
{
	return f ? &f->nprob[kind] : &x->nprob_nofile[kind];
}

/* Is there room to show one more problem of this kind here? (Caller holds nothing.) */
int wn_vprob_room(vctx *x, int kind, vfile *f)
{
	unsigned max = x->o->max_per_kind;
	pthread_mutex_lock(&x->mu);
	int room = !max || *wn_vprob_counter(x, kind, f) < max;
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
	if (!force && max && *cnt > max) {
		pthread_mutex_unlock(&x->mu);
		return;
	}
	if (x->npr == x->cappr) {
		size_t cap = x->cappr ? x->cappr * 2 : 64;
		vprob *p = realloc(x->pr, cap * sizeof *p);
		if (!p) {
			pthread_mutex_unlock(&x->mu);
			return;   /* counted, not shown */
		}
		x->pr = p;
		x->cappr = cap;
	}
	vprob *p = &x->pr[x->npr];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->f = l->f;
	p->frame = l->frame;
	p->offset = l->offset;
	p->record = l->record;
	p->length = l->length;
	p->detail = strdup(buf);
	if (l->id && (p->id = malloc(l->idlen + 1))) {
		memcpy(p->id, l->id, l->idlen);
		p->id[l->idlen] = 0;
		p->idlen = l->idlen;
	}
	p->seq = x->pseq++;
	if (p->detail)
		x->npr++;
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
