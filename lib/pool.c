/*
 * pool.c - a fixed set of worker threads taking tasks from one queue, in order.
 *
 * Tasks are run in the order they were submitted (a worker takes the oldest queued
 * task), which is what both users want: ingest's series write compressed frames in
 * submission order and wait for the oldest, and verify submits its largest tasks first
 * so that the last one to finish is a small one. One mutex guards the queue and every
 * task's state; tasks are coarse (a frame of about a megabyte, a file), so it is never
 * contended enough to matter.
 */
#include "internal.h"
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { TASK_IDLE, TASK_QUEUED, TASK_DONE };

typedef struct wthread {
	pthread_t th;
	int i;
	struct wn_pool *p;
} wthread;

struct wn_pool {
	wn_pool_opts o;
	wthread *w;
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	wn_task *qhead, *qtail;
	size_t unfinished;      /* submitted and not yet run */
	int stop;
	double cpu;
};

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void lower_priority(int by)
{
	if (!by)
		return;
	errno = 0;
	int now = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (!errno)
		setpriority(PRIO_PROCESS, (id_t)gettid(), now + by > 19 ? 19 : now + by);
}

static void *worker(void *arg)
{
	wthread *w = arg;
	wn_pool *p = w->p;
	if (p->o.name)
		pthread_setname_np(pthread_self(), p->o.name);
	lower_priority(p->o.nice);
	void *state = p->o.worker_new ? p->o.worker_new(p->o.ud, w->i) : NULL;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->qhead && !p->stop)
			pthread_cond_wait(&p->cv_work, &p->mu);
		if (!p->qhead)
			break;
		wn_task *t = p->qhead;
		if (!(p->qhead = t->next))
			p->qtail = NULL;
		pthread_mutex_unlock(&p->mu);
		double t0 = thread_cpu();
		t->run(t, state);
		double dt = thread_cpu() - t0;
		pthread_mutex_lock(&p->mu);
		t->state = TASK_DONE;
		p->unfinished--;
		p->cpu += dt;
		pthread_cond_broadcast(&p->cv_done);
	}
	pthread_mutex_unlock(&p->mu);
	if (p->o.worker_free)
		p->o.worker_free(state);
	return NULL;
}

int wn_pool_new(const wn_pool_opts *o, wn_pool **out)
{
	wn_pool *p = calloc(1, sizeof *p);
	int n = o->threads < 1 ? 1 : o->threads;
	*out = NULL;
	if (!p || !(p->w = calloc((size_t)n, sizeof *p->w))) {
		free(p);
		return WN_E_NOMEM;
	}
	p->o = *o;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_work, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	for (; p->n < n; p->n++) {
		p->w[p->n] = (wthread){ .i = p->n, .p = p };
		if (pthread_create(&p->w[p->n].th, NULL, worker, &p->w[p->n])) {
			wn_pool_free(p);
			return WN_E_NOMEM;
		}
	}
	*out = p;
	return 0;
}

void wn_pool_free(wn_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->w[i].th, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv_work);
	pthread_cond_destroy(&p->cv_done);
	free(p->w);
	free(p);
}

void wn_pool_submit(wn_pool *p, wn_task *t)
{
	pthread_mutex_lock(&p->mu);
	t->state = TASK_QUEUED;
	t->next = NULL;
	if (p->qtail)
		p->qtail->next = t;
	else
		p->qhead = t;
	p->qtail = t;
	p->unfinished++;
	pthread_cond_signal(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
}

int wn_pool_done(wn_pool *p, const wn_task *t)
{
	pthread_mutex_lock(&p->mu);
	int d = t->state == TASK_DONE;
	pthread_mutex_unlock(&p->mu);
	return d;
}

void wn_pool_wait(wn_pool *p, const wn_task *t)
{
	pthread_mutex_lock(&p->mu);
	while (t->state != TASK_DONE)
		pthread_cond_wait(&p->cv_done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

int wn_pool_idle(wn_pool *p, double seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long ns = ts.tv_nsec + (long)((seconds - (double)(long)seconds) * 1e9);
	ts.tv_sec += (time_t)seconds + ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	pthread_mutex_lock(&p->mu);
	while (p->unfinished && pthread_cond_timedwait(&p->cv_done, &p->mu, &ts) == 0)
		;
	int idle = !p->unfinished;
	pthread_mutex_unlock(&p->mu);
	return idle;
}

double wn_pool_cpu(wn_pool *p)
{
	pthread_mutex_lock(&p->mu);
	double c = p->cpu;
	pthread_mutex_unlock(&p->mu);
	return c;
}
