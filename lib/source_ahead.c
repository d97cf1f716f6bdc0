/*
 * source_ahead.c - reading ahead: another source's records made in a thread of their own.
 *
 * A source that does real work per record (SQLite: stepping three statements and writing
 * the JSON) would add that work to the ingesting thread, which is the one every record
 * waits on. Wrapped, the source runs in a producer thread that fills slots of records
 * (copied into each slot's arena) while the ingesting thread parses and decides; order
 * is kept, so the result is the same bytes whatever the timing.
 *
 * Slots: SLOTS of SLOT_RECS records each, filled in turn. The consumer reads one slot at
 * a time; records it has handed out must stay valid until its next call with may_move
 * (source.h), so a slot is given back to the producer only then. Without may_move the
 * consumer moves on to the next slot only if it is filled already, else it returns 2;
 * with may_move it waits for it. An error or the end of the input is the status of the
 * slot it ends, seen by the consumer after that slot's records.
 *
 * skip() must come before the first next() (the ingest resumes right after opening).
 */
#include "source.h"

#include <pthread.h>
#include <stdlib.h>

#define SLOTS 4
#define SLOT_RECS 256
#define END 1   /* slot status: the input ends after this slot */

typedef struct slot {
	wn_srec rec[SLOT_RECS];
	int n;
	int status;             /* 0 more follow, END, or the error that stopped the source */
	char err[256];
	wn_arena arena;
} slot;

typedef struct ahead {
	wn_source s;
	wn_source *in;
	pthread_t th;
	int started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t filled, taken, released;   /* slots: filled by the producer, handed out, given back */
	int pos;                /* next record in slot taken-1 */
	uint64_t consumed;      /* in->consumed() when the last slot was filled (atomic) */
	slot slots[SLOTS];
} ahead;

static int fill_slot(ahead *a, slot *sl)
{
	wn_arena_reset(&sl->arena);
	sl->n = 0;
	sl->status = 0;
	while (sl->n < SLOT_RECS) {
		wn_srec *r = &sl->rec[sl->n];
		int got = a->in->next(a->in, r, 1);
		if (got == 2)
			continue;   /* not with may_move; be safe */
		if (got == 0)
			return END;
		if (got != 1) {
			memcpy(sl->err, a->in->err, sizeof sl->err);
			return got;
		}
		if (!(r->rec = wn_arena_copy(&sl->arena, r->rec, r->len)) ||
		    (r->why && !(r->why = wn_arena_copy(&sl->arena, r->why, strlen(r->why) + 1)))) {
			snprintf(sl->err, sizeof sl->err, "%s", wn_strerror(WN_E_NOMEM));
			return WN_E_NOMEM;
		}
		sl->n++;
	}
	return 0;
}

static void *producer(void *arg)
{
	ahead *a = arg;
	for (;;) {
		pthread_mutex_lock(&a->mu);
		while (a->filled - a->released == SLOTS && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		int stop = a->stop;
		uint64_t k = a->filled;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			break;
		slot *sl = &a->slots[k % SLOTS];
		int st = fill_slot(a, sl);
		__atomic_store_n(&a->consumed, a->in->consumed(a->in), __ATOMIC_RELAXED);
		pthread_mutex_lock(&a->mu);
		sl->status = st;
		a->filled++;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		if (st)
			break;
	}
	return NULL;
}

static int ahead_next(wn_source *s, wn_srec *r, int may_move)
{
	ahead *a = (ahead *)s;
	if (!a->started) {
		if (pthread_create(&a->th, NULL, producer, a)) {
			snprintf(s->err, sizeof s->err, "cannot start the reading thread");
			return WN_E_NOMEM;
		}
		a->started = 1;
	}
	if (may_move && a->taken > 1 && a->released < a->taken - 1) {
		/* the slots before the current one are no longer needed */
		pthread_mutex_lock(&a->mu);
		a->released = a->taken - 1;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
	}
	for (;;) {
		if (a->taken) {
			slot *sl = &a->slots[(a->taken - 1) % SLOTS];
			if (a->pos < sl->n) {
				*r = sl->rec[a->pos++];
				return 1;
			}
			if (sl->status == END)
				return 0;
			if (sl->status) {
				memcpy(s->err, sl->err, sizeof s->err);
				return sl->status;
			}
		}
		pthread_mutex_lock(&a->mu);
		if (!may_move && a->filled == a->taken) {
			pthread_mutex_unlock(&a->mu);
			return 2;
		}
		if (may_move) {
			a->released = a->taken;
			pthread_cond_broadcast(&a->cv);
			while (a->filled == a->taken)
				pthread_cond_wait(&a->cv, &a->mu);
		}
		a->taken++;
		a->pos = 0;
		pthread_mutex_unlock(&a->mu);
	}
}

static int ahead_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	ahead *a = (ahead *)s;
	if (a->started) {
		snprintf(s->err, sizeof s->err, "cannot skip once reading has started");
		return WN_E_USAGE;
	}
	int rc = a->in->skip(a->in, pos, recno);
	if (rc)
		memcpy(s->err, a->in->err, sizeof s->err);
	return rc;
}

static uint64_t ahead_consumed(wn_source *s)
{
	ahead *a = (ahead *)s;
	if (!a->started)
		return a->in->consumed(a->in);
	return __atomic_load_n(&a->consumed, __ATOMIC_RELAXED);
}

static void ahead_close(wn_source *s)
{
	ahead *a = (ahead *)s;
	if (a->started) {
		pthread_mutex_lock(&a->mu);
		a->stop = 1;
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->th, NULL);
	}
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	wn_source_close(a->in);
	for (int i = 0; i < SLOTS; i++)
		wn_arena_free(&a->slots[i].arena);
	free(a);
}

int wn_source_ahead(wn_source **out, wn_source *inner)
{
	ahead *a = calloc(1, sizeof *a);
	*out = NULL;
	if (!a) {
		wn_source_close(inner);
		return WN_E_NOMEM;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->in = inner;
	a->s.name = inner->name;
	a->s.size = inner->size;
	a->s.head_hash = inner->head_hash;
	a->s.next = ahead_next;
	a->s.skip = ahead_skip;
	a->s.consumed = ahead_consumed;
	a->s.close = ahead_close;
	*out = &a->s;
	return 0;
}
