/*
 * pool.h - the library's one pool of worker threads (pool.c).
 *
 * Ingest compresses frames on it, verify checks files and frames on it, and a large get
 * decodes its frames on it. A task is a struct the caller owns, with wn_task as its
 * first member; each worker thread has a state of its own (a zstd context, a parser,
 * buffers), made on that thread by worker_new, so tasks never share one.
 */
#ifndef WN_POOL_H
#define WN_POOL_H

typedef struct wn_pool wn_pool;

typedef struct wn_task {
	void (*run)(struct wn_task *t, void *worker);  /* on a pool thread; worker as worker_new made it */
	struct wn_task *next;   /* the pool's */
	int state;              /* the pool's, guarded by its mutex: 0 idle, queued, done */
} wn_task;

typedef struct wn_pool_opts {
	int threads;            /* at least 1 */
	int nice;               /* added to the threads' niceness: below the threads that wait on them */
	const char *name;       /* thread name, for ps and gdb (at most 15 bytes) */
	/* The state of worker i, made on its thread (may be NULL: tasks must cope), and freed
	 * there when the pool ends. Both may be NULL. */
	void *(*worker_new)(void *ud, int i);
	void (*worker_free)(void *worker);
	void *ud;
} wn_pool_opts;

/* Start the threads. 0 or WN_E_NOMEM (nothing is left running). */
int wn_pool_new(const wn_pool_opts *o, wn_pool **out);
/* Let the workers finish every queued task, then end them. NULL is accepted. */
void wn_pool_free(wn_pool *p);
/* Queue t (idle or done) to run on the next free worker. */
void wn_pool_submit(wn_pool *p, wn_task *t);
/* Has t run? Wait until it has. */
int wn_pool_done(wn_pool *p, const wn_task *t);
void wn_pool_wait(wn_pool *p, const wn_task *t);
/* Wait up to `seconds` for every submitted task to have run: 1 if they have, 0 if not yet. */
int wn_pool_idle(wn_pool *p, double seconds);
/* CPU seconds the workers spent in tasks. */
double wn_pool_cpu(wn_pool *p);

#endif
