/*
 * bench/norm.c - how fast the matching keys are made (lib/norm.c), on one core.
 *
 *   build-bench/bench/norm [--min-seconds S] TRACKS.jsonl
 *
 * Reads the titles ("name") of the track records of a JSONL file (bench/gen's output;
 * lines that are not JSON objects are skipped), then times, over all of them in memory,
 * the title analysis (wn_norm_title) and the plain title key (wn_norm_key), each repeated
 * until it has run at least S seconds (default 1) of this process's CPU time (the machine
 * may be shared: CPU time does not count what other processes take). Before any time is taken it checks
 * that two analyses of every title give the same keys. Prints one line per measure and
 * a last summary line "norm: ..." that make bench copies into bench/RESULTS.md.
 */
#include "internal.h"
#include "norm.h"

#include <stdlib.h>
#include <time.h>

typedef struct titles {
	char *bytes;
	size_t len, cap;
	size_t *end;            /* end offset of title i */
	size_t n, ncap;
	size_t nonascii;
} titles;

static void die(const char *what)
{
	fprintf(stderr, "bench/norm: %s\n", what);
	exit(2);
}

static void load(titles *t, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot open the input");
	wn_json *j = wn_json_new();
	if (!j || wn_json_set_slot(j, 0, "name"))
		die("out of memory");
	wn_jresult r;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t l;
	while ((l = getline(&line, &lcap, f)) > 0) {
		if (wn_json_record(j, line, (size_t)l, &r) || r.slot[0].type != WN_JT_STRING)
			continue;
		size_t n = r.slot[0].len;
		if (WN_GROW(t->end, t->n, t->ncap, 1024))
			die("out of memory");
		while (t->len + n > t->cap) {
			t->cap = t->cap ? 2 * t->cap : 1 << 20;
			if (!(t->bytes = realloc(t->bytes, t->cap)))
				die("out of memory");
		}
		memcpy(t->bytes + t->len, r.slot[0].ptr, n);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)r.slot[0].ptr[i] >= 0x80) {
				t->nonascii++;
				break;
			}
		t->len += n;
		t->end[t->n++] = t->len;
	}
	free(line);
	wn_json_free(j);
	fclose(f);
}

/* One pass: analyse (or key) every title; returns a checksum of every key made. */
static uint64_t pass(const titles *t, wn_norm *w, int analyse, size_t *nqual, size_t *nfeat)
{
	uint64_t sum = 0;
	size_t start = 0;
	for (size_t i = 0; i < t->n; i++) {
		const char *s = t->bytes + start;
		size_t n = t->end[i] - start;
		start = t->end[i];
		if (analyse) {
			wn_title ti;
			if (wn_norm_title(w, s, n, &ti))
				die("out of memory");
			sum += wn_norm_hash(ti.core.p, ti.core.n) ^ wn_norm_set_hash(ti.qual, ti.nqual) * 3 ^
				wn_norm_set_hash(ti.feat, ti.nfeat) * 5;
			*nqual += ti.nqual != 0;
			*nfeat += ti.nfeat != 0;
		} else {
			wn_str k;
			if (wn_norm_key(w, s, n, WN_NORM_TITLE, &k))
				die("out of memory");
			sum += wn_norm_hash(k.p, k.n);
		}
	}
	return sum;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Repeat passes for at least min CPU seconds: titles per CPU second. */
static double timed(const titles *t, wn_norm *w, int analyse, double min, uint64_t want)
{
	size_t q = 0, f = 0, passes = 0;
	double t0 = cpu_now(), el;
	do {
		if (pass(t, w, analyse, &q, &f) != want)
			die("a pass gave other keys than the first: not deterministic");
		passes++;
	} while ((el = cpu_now() - t0) < min);
	return (double)t->n * (double)passes / el;
}

int main(int argc, char **argv)
{
	double min = 1;
	int a = 1;
	if (a + 1 < argc && !strcmp(argv[a], "--min-seconds"))
		min = atof(argv[a + 1]), a += 2;
	if (a + 1 != argc)
		die("usage: bench/norm [--min-seconds S] TRACKS.jsonl");
	titles t = { 0 };
	load(&t, argv[a]);
	if (!t.n)
		die("no titles in the input");
	wn_norm w, w2;
	wn_norm_init(&w);
	wn_norm_init(&w2);
	/* correctness first: two workspaces, the same keys */
	size_t nq = 0, nf = 0, nq2 = 0, nf2 = 0;
	uint64_t sum_t = pass(&t, &w, 1, &nq, &nf), sum_k = pass(&t, &w, 0, &nq2, &nf2);
	if (pass(&t, &w2, 1, &nq2, &nf2) != sum_t || nq2 != nq || nf2 != nf)
		die("two workspaces gave different keys");
	double mb = (double)t.len / 1e6;
	printf("  %zu titles, %.1f MB, %.1f%% not ASCII; %zu with qualifiers, %zu with featured artists\n", t.n, mb,
		100.0 * (double)t.nonascii / (double)t.n, nq, nf);
	double rt = timed(&t, &w, 1, min, sum_t);
	double rk = timed(&t, &w, 0, min, sum_k);
	printf("  title analysis (wn_norm_title): %.0f titles/s, %.1f MB/s\n", rt, rt * mb / (double)t.n);
	printf("  title key (wn_norm_key):        %.0f titles/s, %.1f MB/s\n", rk, rk * mb / (double)t.n);
	printf("norm: title analysis %.0f titles/s, key %.0f titles/s (per CPU second, one thread), %zu titles (%.1f%% not ASCII), checksum %016llx\n",
		rt, rk, t.n, 100.0 * (double)t.nonascii / (double)t.n, (unsigned long long)sum_t);
	wn_norm_free(&w);
	wn_norm_free(&w2);
	free(t.bytes);
	free(t.end);
	return 0;
}
