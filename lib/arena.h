/*
 * arena.h - where sources put the records they make (internal; see arena.c).
 */
#ifndef WN_ARENA_H
#define WN_ARENA_H

#include <stddef.h>

/* Blocks that never move, so a record stays where it is until the next reset (a source
 * resets when next() is called with may_move). */
typedef struct wn_arena {
	char **blk;
	size_t nblk, capblk;
	size_t used, size;      /* of the last block */
	size_t total;           /* bytes taken since the last reset */
} wn_arena;
char *wn_arena_room(wn_arena *a, size_t n);    /* room for n bytes at the end; NULL = no memory */
char *wn_arena_copy(wn_arena *a, const void *p, size_t n);   /* room + copy + take */
void wn_arena_reset(wn_arena *a);
void wn_arena_free(wn_arena *a);

/* Keep n bytes of the last room. Inline: the sources call it for every record. */
static inline void wn_arena_take(wn_arena *a, size_t n)
{
	a->used += n;
	a->total += n;
}

#endif
