/*
 * arena.c - where sources keep the records they make.
 *
 * A source hands out records that must stay valid until its next call with may_move
 * (source.h), while it goes on reading. They are written into blocks that never move;
 * a reset forgets them all and keeps one block big enough for the last batch, so that
 * once one block holds a whole batch, a batch costs no allocation.
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_MIN (1u << 20)

char *wn_arena_room(wn_arena *a, size_t n)
{
	if (a->nblk && a->size - a->used >= n)
		return a->blk[a->nblk - 1] + a->used;
	if (a->nblk == a->capblk) {
		size_t cap = a->capblk ? a->capblk * 2 : 8;
		char **b = realloc(a->blk, cap * sizeof *b);
		if (!b)
			return NULL;
		a->blk = b;
		a->capblk = cap;
	}
	size_t size = n > ARENA_MIN ? n : ARENA_MIN;
	char *p = malloc(size);
	if (!p)
		return NULL;
	a->blk[a->nblk++] = p;
	a->size = size;
	a->used = 0;
	return p;
}

char *wn_arena_copy(wn_arena *a, const void *p, size_t n)
{
	char *d = wn_arena_room(a, n ? n : 1);
	if (!d)
		return NULL;
	memcpy(d, p, n);
	wn_arena_take(a, n);
	return d;
}

void wn_arena_reset(wn_arena *a)
{
	if (a->nblk > 1) {
		/* several blocks: the batch outgrew the first; next time one block holds it all */
		size_t want = a->total + a->total / 4;
		for (size_t i = 0; i < a->nblk; i++)
			free(a->blk[i]);
		a->nblk = 0;
		a->size = a->used = 0;
		if (want > ARENA_MIN)
			wn_arena_room(a, want);   /* on failure, the next room() tries again */
	}
	a->used = 0;
	a->total = 0;
}

void wn_arena_free(wn_arena *a)
{
	for (size_t i = 0; i < a->nblk; i++)
		free(a->blk[i]);
	free(a->blk);
	memset(a, 0, sizeof *a);
}
