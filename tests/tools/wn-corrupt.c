/*
 * wn-corrupt.c - damages a catalog's index in one precise place, for the tests of
 * `winnow verify` (never installed). It writes LMDB directly, as a bad disk or a bad
 * program would, and keeps everything else consistent so that only the intended damage
 * shows:
 *
 *   wn-corrupt CATALOG del-id KIND ID           remove the current id entry of ID
 *   wn-corrupt CATALOG set-id-ord KIND ID ORD   point the id entry of ID at ordinal ORD
 *   wn-corrupt CATALOG frame KIND N FIELD VALUE set FIELD (offset, csize, nrec, checksum,
 *                                               first) of the N-th <kind>.frames row
 *   wn-corrupt CATALOG del-frame KIND N         delete the N-th <kind>.frames row
 *   wn-corrupt CATALOG flip DB N OFFSET         flip the bits of byte OFFSET of the value
 *                                               of the N-th row (N "all": of every row) of
 *                                               database DB ("meta", "files", "track.frames",
 *                                               "track.id", ...) without resealing it
 *   wn-corrupt CATALOG del-meta KEY -           delete meta row KEY
 *   wn-corrupt CATALOG flip-meta KEY OFFSET     flip the bits of byte OFFSET of meta row KEY
 *                                               ("kinds", "state.track", ...), not resealed
 *   wn-corrupt CATALOG put-meta KEY VALUE       set meta row KEY to VALUE (its text, "\n"
 *                                               for a line end), sealed
 *
 * Every value it rewrites on purpose is sealed again with its checksum (internal.h), so
 * that only the intended inconsistency shows; flip is the one that leaves it broken.
 *
 * Exit status 0 when done, 1 when the target was not found, 2 on misuse, 3 on errors.
 */
#include "internal.h"

#include <stdlib.h>

static MDB_env *env;
static MDB_txn *txn;

static int die(int code, const char *what, int rc)
{
	fprintf(stderr, "wn-corrupt: %s: %s\n", what, rc ? mdb_strerror(rc) : "not found");
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return code;
}

static MDB_dbi db(const char *kind, const char *what)
{
	char name[64];
	MDB_dbi d = 0;
	snprintf(name, sizeof name, "%s%s%s", kind, kind[0] ? "." : "", what);
	int rc = mdb_dbi_open(txn, name, 0, &d);
	if (rc) {
		fprintf(stderr, "wn-corrupt: database %s: %s\n", name, mdb_strerror(rc));
		exit(3);
	}
	return d;
}

/* The newest run's block holding the id; *at: the entry's index in the block. */
static int find_id(const char *kind, const char *id, MDB_cursor **cur, MDB_val *k, MDB_val *v, size_t *at,
	uint8_t *runs, size_t *nruns, size_t *runi)
{
	MDB_dbi meta = db("", "meta"), ids = db(kind, "id");
	char key[64];
	snprintf(key, sizeof key, "runs.%s.id", kind);
	MDB_val mk = { strlen(key), key }, mv;
	if (mdb_get(txn, meta, &mk, &mv) || (mv.mv_size - WN_SUM_BYTES) % 24 || mv.mv_size > 24 * 4096)
		return -1;
	memcpy(runs, mv.mv_data, mv.mv_size - WN_SUM_BYTES);
	*nruns = (mv.mv_size - WN_SUM_BYTES) / 24;
	uint64_t hash;
	uint16_t check;
	wn_id_hash(id, strlen(id), &hash, &check);
	if (mdb_cursor_open(txn, ids, cur))
		return -1;
	for (size_t r = *nruns; r-- > 0;) {
		uint8_t kb[12];
		memcpy(kb, runs + r * 24, 4);
		wn_put_be64(kb + 4, hash);
		k->mv_size = 12;
		k->mv_data = kb;
		if (mdb_cursor_get(*cur, k, v, MDB_SET_RANGE) || memcmp(k->mv_data, runs + r * 24, 4))
			continue;
		const uint8_t *b = v->mv_data;
		for (size_t i = 0; i < (v->mv_size - WN_SUM_BYTES) / WN_ID_ENTRY; i++) {
			const uint8_t *e = b + i * WN_ID_ENTRY;
			if (wn_get_be64(e) == hash && (uint16_t)(e[8] << 8 | e[9]) == check) {
				*at = i;
				*runi = r;
				return 0;
			}
		}
	}
	return 1;
}

static int nth_row(const char *kind, size_t n, MDB_cursor **cur, MDB_val *k, MDB_val *v)
{
	if (mdb_cursor_open(txn, db(kind, "frames"), cur))
		return -1;
	int rc = mdb_cursor_get(*cur, k, v, MDB_FIRST);
	for (size_t i = 0; !rc && i < n; i++)
		rc = mdb_cursor_get(*cur, k, v, MDB_NEXT);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return fputs("usage: wn-corrupt CATALOG del-id|set-id-ord|frame|del-frame KIND ... | flip DB N OFFSET\n", stderr), 2;
	char path[4096];
	snprintf(path, sizeof path, "%s/index", argv[1]);
	const char *op = argv[2], *kind = argv[3];
	int rc;
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, WN_MAX_DBS)) ||
	    (rc = mdb_env_set_mapsize(env, (size_t)1 << 40)) || (rc = mdb_env_open(env, path, MDB_NOTLS, 0644)))
		return die(3, path, rc);
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
		return die(3, "begin", rc);
	MDB_cursor *cur;
	MDB_val k, v;
	if (!strcmp(op, "del-id") || (!strcmp(op, "set-id-ord") && argc == 6)) {
		static uint8_t runs[24 * 4096 + WN_SUM_BYTES];
		size_t nruns, runi, at;
		if ((rc = find_id(kind, argv[4], &cur, &k, &v, &at, runs, &nruns, &runi)))
			return die(rc < 0 ? 3 : 1, argv[4], 0);
		size_t n = (v.mv_size - WN_SUM_BYTES) / WN_ID_ENTRY;
		uint8_t blk[8192], key[12];
		memcpy(blk, v.mv_data, v.mv_size);
		memcpy(key, k.mv_data, 12);
		if (!strcmp(op, "set-id-ord")) {
			wn_put_be40(blk + at * WN_ID_ENTRY + 11, strtoull(argv[5], NULL, 10));
			wn_sum_seal(key, 12, blk, n * WN_ID_ENTRY);
			MDB_val nv = { v.mv_size, blk };
			if ((rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT)))
				return die(3, "put", rc);
		} else {
			/* the block without the entry, under the key of its (new) last entry */
			memmove(blk + at * WN_ID_ENTRY, blk + (at + 1) * WN_ID_ENTRY, (n - at - 1) * WN_ID_ENTRY);
			if ((rc = mdb_cursor_del(cur, 0)))
				return die(3, "del", rc);
			if (n > 1) {
				memcpy(key + 4, blk + (n - 2) * WN_ID_ENTRY, 8);
				wn_sum_seal(key, 12, blk, (n - 1) * WN_ID_ENTRY);
				MDB_val nk = { 12, key }, nv = { (n - 1) * WN_ID_ENTRY + WN_SUM_BYTES, blk };
				if ((rc = mdb_put(txn, db(kind, "id"), &nk, &nv, 0)))
					return die(3, "put", rc);
			}
			/* one entry less in the run (and one block less if it emptied) */
			uint8_t *d = runs + runi * 24;
			wn_put_be64(d + 8, wn_get_be64(d + 8) - 1);
			if (n == 1)
				wn_put_be64(d + 16, wn_get_be64(d + 16) - 1);
			char mk[64];
			snprintf(mk, sizeof mk, "runs.%s.id", kind);
			wn_sum_seal(mk, strlen(mk), runs, nruns * 24);
			MDB_val kk = { strlen(mk), mk }, vv = { nruns * 24 + WN_SUM_BYTES, runs };
			if ((rc = mdb_put(txn, db("", "meta"), &kk, &vv, 0)))
				return die(3, "put", rc);
		}
	} else if (!strcmp(op, "frame") && argc == 7) {
		if ((rc = nth_row(kind, strtoull(argv[4], NULL, 10), &cur, &k, &v)))
			return die(rc < 0 ? 3 : 1, "frames row", 0);
		wn_frameinfo fi;
		uint8_t val[WN_FRAMEINFO_BYTES];
		wn_frameinfo_unpack(&fi, v.mv_data);
		uint64_t x = strtoull(argv[6], NULL, 0);
		const char *f = argv[5];
		if (!strcmp(f, "offset"))
			fi.offset = x;
		else if (!strcmp(f, "csize"))
			fi.csize = (uint32_t)x;
		else if (!strcmp(f, "nrec"))
			fi.nrec = (uint32_t)x;
		else if (!strcmp(f, "checksum"))
			fi.checksum = (uint32_t)x;
		else if (!strcmp(f, "first"))
			fi.first_ord = x;
		else
			return die(2, f, 0);
		wn_frameinfo_pack(val, &fi);
		wn_sum_seal(k.mv_data, k.mv_size, val, WN_FRAMEINFO_BYTES - WN_SUM_BYTES);   /* under its own key */
		MDB_val nv = { sizeof val, val };
		if ((rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT)))
			return die(3, "put", rc);
	} else if (!strcmp(op, "flip") && argc == 6) {
		/* argv[3] is the database here */
		int all = !strcmp(argv[4], "all");
		size_t n = all ? 0 : strtoull(argv[4], NULL, 10), off = strtoull(argv[5], NULL, 10), done = 0;
		if (mdb_cursor_open(txn, db("", argv[3]), &cur))
			return die(3, "cursor", 0);
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		for (size_t i = 0; !rc && i < n; i++)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		for (; !rc; rc = all ? mdb_cursor_get(cur, &k, &v, MDB_NEXT) : MDB_NOTFOUND) {
			if (off >= v.mv_size)
				continue;
			uint8_t *copy = malloc(v.mv_size);
			if (!copy)
				return die(3, "out of memory", 0);
			memcpy(copy, v.mv_data, v.mv_size);
			copy[off] ^= 0xff;
			MDB_val nv = { v.mv_size, copy };
			if ((rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT)))
				return die(3, "put", rc);
			free(copy);
			done++;
		}
		if (!done)
			return die(1, "row", 0);
	} else if (!strcmp(op, "flip-meta") && argc == 5) {
		MDB_val mk = { strlen(argv[3]), argv[3] }, mv;
		size_t off = strtoull(argv[4], NULL, 10);
		if ((rc = mdb_get(txn, db("", "meta"), &mk, &mv)))
			return die(rc == MDB_NOTFOUND ? 1 : 3, argv[3], rc);
		if (off >= mv.mv_size)
			return die(1, "offset", 0);
		uint8_t *copy = malloc(mv.mv_size);
		if (!copy)
			return die(3, "out of memory", 0);
		memcpy(copy, mv.mv_data, mv.mv_size);
		copy[off] ^= 0xff;
		MDB_val nv = { mv.mv_size, copy };
		rc = mdb_put(txn, db("", "meta"), &mk, &nv, 0);
		free(copy);
		if (rc)
			return die(3, "put", rc);
	} else if (!strcmp(op, "put-meta") && argc == 5) {
		/* the value's text, "\n" read as a line end, sealed under the key */
		size_t n = 0, len = strlen(argv[4]);
		uint8_t *val = malloc(len + WN_SUM_BYTES);
		if (!val)
			return die(3, "out of memory", 0);
		for (const char *p = argv[4]; *p; p++)
			val[n++] = p[0] == '\\' && p[1] == 'n' ? (p++, '\n') : (uint8_t)*p;
		MDB_val mk = { strlen(argv[3]), argv[3] };
		wn_sum_seal(mk.mv_data, mk.mv_size, val, n);
		MDB_val nv = { n + WN_SUM_BYTES, val };
		rc = mdb_put(txn, db("", "meta"), &mk, &nv, 0);
		free(val);
		if (rc)
			return die(3, "put", rc);
	} else if (!strcmp(op, "del-meta")) {
		MDB_val mk = { strlen(argv[3]), argv[3] };
		if ((rc = mdb_del(txn, db("", "meta"), &mk, NULL)))
			return die(rc == MDB_NOTFOUND ? 1 : 3, argv[3], rc);
	} else if (!strcmp(op, "del-frame")) {
		if ((rc = nth_row(kind, strtoull(argv[4], NULL, 10), &cur, &k, &v)))
			return die(rc < 0 ? 3 : 1, "frames row", 0);
		if ((rc = mdb_cursor_del(cur, 0)))
			return die(3, "del", rc);
	} else {
		return die(2, op, 0);
	}
	if ((rc = mdb_txn_commit(txn)))
		return txn = NULL, die(3, "commit", rc);
	mdb_env_close(env);
	return 0;
}
