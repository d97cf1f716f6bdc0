/*
 * test_lsm.c - the hashed maps: entries survive flushes and tiered merges, the newest
 * version of an id wins, multimap pairs are all found, absent keys are not, and the
 * run layout stays sorted (checked by scanning every map).
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal.h"
#include "tap.h"

/* 110 flushes of 500 ids: enough for merges at two levels (FANOUT 10) */
enum { ROUNDS = 110, PER = 500, N = ROUNDS * PER };

static uint64_t rng;
static uint64_t next(void)
{
	rng += 0x9E3779B97F4A7C15ull;
	uint64_t z = rng;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int flush(wn_catalog *c, wn_lsm *m)
{
	MDB_txn *txn;
	if (mdb_txn_begin(c->env, NULL, 0, &txn))
		return -1;
	int rc = wn_lsm_flush(m, txn);
	if (!rc)
		rc = wn_meta_put_kstate(c, txn, WN_KIND_TRACK, &c->ks[WN_KIND_TRACK]);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)))
		return rc;
	wn_lsm_committed(m);
	return 0;
}

typedef struct cnt {
	uint64_t n, last_ord;
	int sorted;
	uint8_t prev[WN_ID_ENTRY];
	int have_prev;
} cnt;

static int count_ord(uint64_t ord, void *ud)
{
	cnt *c = ud;
	c->n++;
	c->last_ord = ord;
	return 0;
}

static int check_sorted(const uint8_t *e, void *ud)
{
	cnt *c = ud;
	if (c->have_prev && memcmp(c->prev, e, 10) > 0)
		c->sorted = 0;
	memcpy(c->prev, e, 10);
	c->have_prev = 1;
	c->n++;
	return 0;
}

/* ids (of the main test's N) that the ingest-side lookup misses or maps to another
 * ordinal than the newest */
static int lsm_misses(wn_lsm *m, MDB_txn *txn, const uint64_t *hash)
{
	int bad = 0;
	for (uint64_t i = 0; i < N; i++) {
		int revised = (i % PER == 7) && i / PER < ROUNDS - 2;
		wn_idrec out;
		if (wn_lsm_find_id(m, txn, hash[i], (uint16_t)i, &out) != 1 || out.ord != (revised ? 1000000 + i : i))
			bad++;
	}
	return bad;
}

/* ---- a checkpoint in the background (lsm.c, "freezing") ---- */

enum { FZ = 3000 };   /* ids per round */

typedef struct fzjob {
	wn_catalog *c;
	wn_lsm *m;
	int rc;
} fzjob;

/* the checkpoint thread's part: write the frozen memtable in a transaction of its own */
static void *fz_writer(void *arg)
{
	fzjob *j = arg;
	MDB_txn *txn;
	if ((j->rc = mdb_txn_begin(j->c->env, NULL, 0, &txn)))
		return NULL;
	if ((j->rc = wn_lsm_flush_frozen(j->m, txn))) {
		mdb_txn_abort(txn);
		return NULL;
	}
	j->rc = mdb_txn_commit(txn);
	return NULL;
}

static void fz_fp(uint8_t fp[16], uint64_t id, uint64_t version)
{
	memcpy(fp, &id, 8);
	memcpy(fp + 8, &version, 8);
}

static void fz_put(wn_lsm *m, const uint64_t *h, uint64_t i, uint64_t ord, int known, int *bad)
{
	wn_idrec e = { .hash = h[i], .check = (uint16_t)i, .ord = ord, .flags = known ? WN_IDF_REVISED : 0 };
	fz_fp(e.fp, i, ord);
	*bad |= wn_lsm_put_id(m, &e, known) != 0;
	*bad |= wn_lsm_put_pair(m, WN_MAP_FP, wn_fp_key(e.fp), ord) != 0;
}

/* ids [0, n) that the ingest-side lookup misses or maps to another ordinal than want() */
static int fz_misses(wn_lsm *m, MDB_txn *txn, const uint64_t *h, uint64_t n, uint64_t revised)
{
	int bad = 0;
	for (uint64_t i = 0; i < n; i++) {
		wn_idrec out;
		uint64_t want = i == revised ? 1000000 + i : i;
		if (wn_lsm_find_id(m, txn, h[i], (uint16_t)i, &out) != 1 || out.ord != want)
			bad++;
	}
	return bad;
}

static void test_frozen(void)
{
	char dir[] = "/tmp/wn-test-lsm-fz.XXXXXX";
	if (!mkdtemp(dir))
		return;
	wn_catalog *c;
	wn_lsm *m;
	int rc = wn_catalog_open(&c, dir, WN_OPEN_WRITE);
	if (!rc && (rc = wn_lsm_open(c, WN_KIND_TRACK, FZ, 3 * FZ, 64 << 20, &m)))
		wn_catalog_close(c);
	OK(rc == 0, "frozen memtable: open a catalog and its maps");
	if (rc)
		return;
	uint64_t *h = malloc(3 * FZ * sizeof *h);
	int bad = 0;
	for (uint64_t i = 0; i < 3 * FZ; i++)
		h[i] = next();
	/* round 1 is flushed the plain way: it is in the runs */
	for (uint64_t i = 0; i < FZ; i++)
		fz_put(m, h, i, i, 0, &bad);
	bad |= flush(c, m) != 0;
	/* round 2, with a losing revision of id FZ + 5: its fingerprint is a revfp */
	for (uint64_t i = FZ; i < 2 * FZ; i++)
		fz_put(m, h, i, i, 0, &bad);
	uint8_t lost[16];
	fz_fp(lost, FZ + 5, 777);
	bad |= wn_lsm_put_pair(m, WN_MAP_FP, wn_fp_key(lost), FZ + 5) != 0;
	bad |= wn_lsm_note_revfp(m, lost) != 0;
	OK(!bad, "frozen memtable: two rounds of %d ids put", FZ);

	MDB_txn *rtxn;
	mdb_txn_begin(c->env, NULL, MDB_RDONLY, &rtxn);
	rc = wn_lsm_freeze(m);
	OK(rc == 0, "freeze the memtable");
	rc = wn_lsm_freeze(m);
	OK(rc < 0, "a second freeze before the install is refused");
	IS_INT(fz_misses(m, rtxn, h, 2 * FZ, ~0ull), 0, "frozen: the runs' ids and the frozen ones are all found");
	IS_INT(wn_lsm_has_fp(m, rtxn, lost, FZ + 5), 1, "frozen: the frozen revfp is found");
	/* round 3 goes to the new memtable, with a winning revision of a frozen id */
	for (uint64_t i = 2 * FZ; i < 3 * FZ; i++)
		fz_put(m, h, i, i, 0, &bad);
	fz_put(m, h, FZ + 9, 1000000 + FZ + 9, 1, &bad);
	OK(!bad, "frozen: a third round put into the new memtable");

	/* the frozen memtable is written by another thread while this one looks up */
	fzjob j = { c, m, -1 };
	pthread_t th;
	int started = pthread_create(&th, NULL, fz_writer, &j) == 0;
	int during = 0, rounds = 0;
	do {
		during += fz_misses(m, rtxn, h, 3 * FZ, FZ + 9);
		rounds++;
	} while (rounds < 3);
	if (started)
		pthread_join(th, NULL);
	OK(started && j.rc == 0, "the frozen memtable is written and committed by another thread");
	IS_INT(during, 0, "lookups while it is written: every id, the newest version first (%d passes)", rounds);
	IS_INT(fz_misses(m, rtxn, h, 3 * FZ, FZ + 9), 0, "committed but not installed: lookups unchanged");

	rc = wn_lsm_install(m);
	OK(rc == 0, "install the new runs");
	mdb_txn_reset(rtxn);
	mdb_txn_renew(rtxn);
	IS_INT(fz_misses(m, rtxn, h, 3 * FZ, FZ + 9), 0, "installed: every id found, the new memtable's revision first");
	IS_INT(wn_lsm_has_fp(m, rtxn, lost, FZ + 5), 1, "installed: the revised fingerprint is found in the runs");
	int ghosts = 0;
	for (int i = 0; i < 2000; i++) {
		wn_idrec out;
		ghosts += wn_lsm_find_id(m, rtxn, next(), 0, &out) == 1;
	}
	IS_INT(ghosts, 0, "ids never put are not found");
	mdb_txn_abort(rtxn);

	/* the cleared frozen table serves the next round; then everything is in the runs */
	bad |= flush(c, m) != 0;
	bad |= flush(c, m) != 0;
	OK(!bad, "two more flushes reuse the tables");
	mdb_txn_begin(c->env, NULL, MDB_RDONLY, &rtxn);
	int miss = 0;
	for (uint64_t i = 0; i < 3 * FZ; i++) {
		wn_idrec out;
		uint64_t want = i == FZ + 9 ? 1000000 + i : i;
		if (wn_map_find_id(c, rtxn, WN_KIND_TRACK, h[i], (uint16_t)i, &out) != 1 || out.ord != want)
			miss++;
	}
	IS_INT(miss, 0, "the read-only path finds every id with its newest ordinal");
	mdb_txn_abort(rtxn);
	wn_lsm_close(m);
	wn_catalog_close(c);
	free(h);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	char dir[] = "/tmp/wn-test-lsm.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	rng = tap_seed();
	wn_catalog *c;
	int rc = wn_catalog_open(&c, dir, WN_OPEN_WRITE);
	OK(rc == 0, "open a new catalog for writing");
	if (rc)
		return tap_done();
	wn_lsm *m;
	rc = wn_lsm_open(c, WN_KIND_TRACK, 1000, 1000, 64 << 20, &m);
	OK(rc == 0, "open the maps");

	uint64_t *hash = malloc(N * sizeof *hash);
	int bad = 0, partial_missing = 0, partial_wrong = 0;
	uint64_t ord = 0;
	for (int r = 0; r < ROUNDS && !bad; r++) {
		for (int i = 0; i < PER; i++, ord++) {
			wn_idrec e = { .hash = next(), .check = (uint16_t)ord, .ord = ord };
			memcpy(e.fp, &e.hash, 8);
			hash[ord] = e.hash;
			bad |= wn_lsm_put_id(m, &e, 0) != 0;
			bad |= wn_lsm_put_pair(m, WN_MAP_FP, e.hash ^ 1, ord) != 0;
			/* every 10th ISRC is shared by 3 records */
			bad |= wn_lsm_put_pair(m, WN_MAP_ISRC, ord % 10 == 0 ? 42 : e.hash, ord) != 0;
		}
		/* re-put an older id with a new ordinal: the newest entry must win */
		if (r >= 2) {
			uint64_t o = (uint64_t)(r - 2) * PER + 7;
			wn_idrec e = { .hash = hash[o], .check = (uint16_t)o, .ord = 1000000 + o, .flags = WN_IDF_REVISED };
			memcpy(e.fp, &e.hash, 8);
			bad |= wn_lsm_put_id(m, &e, 1) != 0;
		}
		bad |= flush(c, m) != 0;
		/* merge in steps of 300 entries; after some flushes leave a merge half done and
		 * check that every id inserted so far is found in that state */
		if (r % 5 == 3) {
			bad |= wn_lsm_compact_steps(m, 2, 300) != 0;
			MDB_txn *t;
			mdb_txn_begin(c->env, NULL, MDB_RDONLY, &t);
			for (uint64_t i = 0; i < ord; i += 3) {
				wn_idrec out;
				if (wn_map_find_id(c, t, WN_KIND_TRACK, hash[i], (uint16_t)i, &out) != 1)
					partial_missing++;
				else if (out.ord != i && out.ord != 1000000 + i)
					partial_wrong++;
			}
			mdb_txn_abort(t);
			/* and the ingest-side lookup, by fences, agrees in that state */
			mdb_txn_begin(c->env, NULL, MDB_RDONLY, &t);
			for (uint64_t i = 0; i < ord; i += 3) {
				wn_idrec out;
				int revised = (i % PER == 7) && i / PER + 2 <= (uint64_t)r;
				if (wn_lsm_find_id(m, t, hash[i], (uint16_t)i, &out) != 1)
					partial_missing++;
				else if (out.ord != (revised ? 1000000 + i : i))
					partial_wrong++;
			}
			mdb_txn_abort(t);
		}
		bad |= wn_lsm_compact_steps(m, 0, 300) != 0;
	}
	OK(!bad, "%d flushes of %d ids each, merged in steps", ROUNDS, PER);
	IS_INT(partial_missing, 0, "every id is found while a merge is half done");
	IS_INT(partial_wrong, 0, "no stale ordinal is found while a merge is half done");

	MDB_txn *txn;
	mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	uint64_t entries, runs;
	wn_map_count(c, txn, WN_KIND_TRACK, WN_MAP_ID, &entries, &runs);
	/* an id put again in a later run is shadowed there until a merge drops the old entry */
	OK(entries >= N && entries <= N + ROUNDS, "id map holds every id (%llu entries)", (unsigned long long)entries);
	OK(runs < 10, "merges keep the number of runs small (%llu runs)", (unsigned long long)runs);

	int missing = 0, wrong = 0;
	for (uint64_t i = 0; i < N; i++) {
		wn_idrec out;
		int f = wn_map_find_id(c, txn, WN_KIND_TRACK, hash[i], (uint16_t)i, &out);
		if (f != 1) {
			missing++;
			continue;
		}
		int revised = (i % PER == 7) && i / PER < ROUNDS - 2;
		uint64_t want = revised ? 1000000 + i : i;
		if (out.ord != want || (revised && !(out.flags & WN_IDF_REVISED)) || memcmp(out.fp, &hash[i], 8)) {
			if (wrong++ < 3)
				printf("# id %llu: ord %llu want %llu flags %u\n", (unsigned long long)i, (unsigned long long)out.ord,
					(unsigned long long)want, out.flags);
		}
	}
	IS_INT(missing, 0, "every id is found (read-only path)");
	IS_INT(wrong, 0, "every id maps to its newest ordinal and fingerprint");

	int ghosts = 0;
	for (int i = 0; i < 2000; i++) {
		wn_idrec out;
		ghosts += wn_map_find_id(c, txn, WN_KIND_TRACK, next(), 0, &out) == 1;
	}
	IS_INT(ghosts, 0, "ids never inserted are not found");
	wn_idrec out;
	IS_INT(wn_map_find_id(c, txn, WN_KIND_TRACK, hash[5], 6, &out), 0, "same hash, other check: not found");

	cnt k = { 0 };
	wn_map_pairs(c, txn, WN_KIND_TRACK, WN_MAP_ISRC, 42, count_ord, &k);
	IS_INT(k.n, N / 10, "a shared ISRC finds all its %d records across runs", N / 10);
	memset(&k, 0, sizeof k);
	wn_map_pairs(c, txn, WN_KIND_TRACK, WN_MAP_FP, hash[N - 1] ^ 1, count_ord, &k);
	OK(k.n == 1 && k.last_ord == N - 1, "fingerprint pair found with its ordinal");

	cnt s = { .sorted = 1 };
	wn_map_merged_scan(c, txn, WN_KIND_TRACK, WN_MAP_ID, check_sorted, &s);
	OK(s.sorted && s.n >= N, "merged scan of the id map is in key order (%llu entries)", (unsigned long long)s.n);
	mdb_txn_abort(txn);

	/* the ingest-side lookup (bloom + memtable + runs) agrees */
	mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	int lm = lsm_misses(m, txn, hash);
	/* the same through the map instead of pread */
	wn_lsm_via_map(m, 1);
	int lmap = lsm_misses(m, txn, hash);
	wn_lsm_via_map(m, 0);
	IS_INT(lmap, 0, "... and by fences read through the map");
	int lghosts = 0;
	for (int i = 0; i < 2000; i++)
		lghosts += wn_lsm_find_id(m, txn, next(), 0, &out) == 1;
	lghosts += wn_lsm_find_id(m, txn, hash[5], 6, &out) == 1;
	mdb_txn_abort(txn);
	IS_INT(lm, 0, "ingest-side lookups find every flushed id with its newest ordinal");
	IS_INT(lghosts, 0, "ingest-side lookups do not find ids never inserted");
	uint64_t by_fence, by_tree;
	wn_lsm_probes(m, &by_fence, &by_tree);
	OK(by_fence > 4 * by_tree, "runs are probed by fence and pread (%llu), LMDB only for short blocks (%llu)",
		(unsigned long long)by_fence, (unsigned long long)by_tree);

	wn_lsm_close(m);
	wn_catalog_close(c);
	free(hash);
	test_frozen();
	if (getenv("KEEP")) return tap_done();
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return tap_done();
}
