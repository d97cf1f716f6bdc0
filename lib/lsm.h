/*
 * lsm.h - what the files of the hashed maps share (lsm.c, lsm_run.c, lsm_merge.c);
 * internal, included by those three only.
 *
 * lsm_run.c owns the run format: the entries, the run lists in meta, the blocks as they
 * are written and read, and the read-only access get/verify/stats use. lsm.c owns the
 * maps as ingest uses them (struct wn_lsm): memtable, bloom filters and fences, and the
 * freezing of a checkpoint. lsm_merge.c merges runs (tiered compaction) with both. The
 * files call down only: lsm_merge.c -> lsm.c -> lsm_run.c.
 */
#ifndef WN_LSM_H
#define WN_LSM_H

#include "internal.h"

#define FANOUT 10
#define BLOCK_BYTES 4064      /* + LMDB's 16-byte page header = one 4 KiB overflow page */
#define BLOCK_DATA (BLOCK_BYTES - WN_SUM_BYTES)   /* entries; then their checksum */
#define MERGE_STEP (1u << 20)  /* output entries per merge transaction (see merge_step) */

typedef struct run {
	uint32_t no;
	uint8_t level;
	uint64_t entries, blocks;
} run;
#define RUN_BYTES 24

typedef struct runlist {
	run *r;
	size_t n, cap;
} runlist;

typedef struct pair {
	uint64_t hash, ord;
} pair;

typedef struct pairvec {
	pair *p;
	size_t n, cap;    /* cap in elements; p is a wn_big_alloc mapping */
} pairvec;

/* open-addressing table of id entries in zero-filled memory: ord1 == 0 marks a free
 * slot (ord1 = ordinal + 1) */
typedef struct mslot {     /* 32 bytes */
	uint64_t hash;
	uint8_t fp[16];
	uint32_t ord_lo;       /* ordinal + 1, 40 bits; 0 = free slot */
	uint8_t ord_hi;
	uint8_t flags;
	uint16_t check;
} mslot;

static inline uint64_t mslot_ord1(const mslot *s)
{
	return (uint64_t)s->ord_hi << 32 | s->ord_lo;
}

/* The home slot of a hash is its top bits, so the table is in hash order but for the
 * displacement of linear probing: a flush sorts it almost for free. */
typedef struct idtab {
	mslot *slot;
	size_t mask, n;
	int shift;
} idtab;

/* open-addressing set of fingerprint keys (revised ids only; see wn_lsm_has_fp) */
typedef struct keyset {
	uint64_t *k;
	size_t mask, n;
} keyset;

/* Each run of the id map also keeps its fences in memory: for every block, the hash of
 * its last entry and the LMDB page that holds it (a block of BLOCK_BYTES is an overflow
 * page of its own). A lookup then finds the block by binary search and reads that one
 * page with pread: no descent of the B-tree, and nothing mapped, so the index pages a
 * lookup needs come from the page cache without counting in the resident set, and the
 * fault-around of the map (some 16 pages a fault) is not paid. 16 bytes a block: 4 KiB
 * of memory per 1 MiB of id map. */
typedef struct fence {
	uint64_t last;     /* hash of the block's last entry */
	uint32_t pgno;     /* its overflow page; 0: not in one, read through LMDB */
	uint32_t n : 31;   /* entries */
	uint32_t ok : 1;   /* its checksum was verified (blocks never change while listed) */
} fence;

typedef struct rbloom {
	uint32_t no;
	uint64_t *bits;
	size_t blocks;
	fence *f;          /* live fences are f[f0 .. nf) */
	size_t f0, nf, capf;
	int fscan;         /* blocks may have been added since f was read: extend it */
} rbloom;

struct wn_lsm {
	wn_catalog *c;
	int kind;
	runlist runs[WN_NMAPS];
	idtab mem;
	pairvec pairs[WN_NMAPS];       /* [WN_MAP_FP], [WN_MAP_ISRC] used */
	keyset revfp;
	/* A checkpoint writes a frozen memtable while the next one fills (see "freezing"):
	 * its id table fz, its pairs and revfp. */
	int frozen;
	idtab fz, spare;        /* spare: a cleared table for the next freeze */
	pairvec fz_pairs[WN_NMAPS];
	keyset fz_rev;
	runlist new_runs[WN_NMAPS];    /* the run lists as the frozen memtable's flush leaves them */
	rbloom *new_rb;         /* the filter of its id run (installed with the lists) */
	uint64_t *bloom;        /* blocked bloom filter, 512-bit blocks */
	size_t bloom_blocks;
	uint64_t bloom_n;
	uint64_t merge_step;    /* output entries per merge transaction */
	rbloom *rb;             /* a bloom filter per run of the id map */
	size_t nrb, caprb;
	void *sortbuf;          /* scratch for sorting, kept between flushes */
	size_t sortcap;
	int fd;                 /* data.mdb, for reading blocks by their fences; -1: none */
	size_t psize;           /* LMDB's page size */
	uint64_t n_fence, n_tree;   /* run probes by fence, and through LMDB */
	int via_map;            /* read fenced blocks through LMDB's map instead of pread */
	uint8_t page[BLOCK_BYTES + 64];
};

static const size_t WN_UNUSED entry_size[WN_NMAPS] = { WN_ID_ENTRY, WN_PAIR_ENTRY, WN_PAIR_ENTRY };
static const size_t WN_UNUSED sortkey_size[WN_NMAPS] = { 8, 13, 13 };

static inline uint64_t *bb_block(uint64_t *bits, size_t blocks, uint64_t h)
{
	return bits + (((unsigned __int128)h * blocks) >> 64) * 8;
}

static inline void bb_add(uint64_t *bits, size_t blocks, uint64_t h)
{
	uint64_t *b = bb_block(bits, blocks, h);
	uint64_t g = h * 0x9E3779B97F4A7C15ull ^ (h >> 29);
	for (int i = 0; i < 6; i++, g >>= 9)
		b[(g >> 6) & 7] |= 1ull << (g & 63);
}

static inline int bb_maybe(uint64_t *bits, size_t blocks, uint64_t h)
{
	const uint64_t *b = bb_block(bits, blocks, h);
	uint64_t g = h * 0x9E3779B97F4A7C15ull ^ (h >> 29);
	for (int i = 0; i < 6; i++, g >>= 9)
		if (!(b[(g >> 6) & 7] & (1ull << (g & 63))))
			return 0;
	return 1;
}

/* ---- writing and reading runs ---- */

typedef struct blockw {
	wn_catalog *c;
	MDB_cursor *cur;
	uint32_t no;
	int map;
	uint8_t buf[BLOCK_BYTES];
	size_t len;
	uint64_t entries, blocks;
} blockw;

/* merge source: a cursor walking one run's entries */
typedef struct msrc {
	MDB_cursor *cur;
	uint32_t no;
	const uint8_t *b;
	size_t n, i;
	int done;
} msrc;

/* ---- the run format (lsm_run.c) ---- */
void wn_pair_pack(uint8_t *p, const pair *x);
/* The run list of a map (meta "runs.<kind>.<map>"): load replaces rl's entries. */
int wn_runs_load(wn_catalog *c, MDB_txn *txn, int kind, int map, runlist *rl);
int wn_runs_store(wn_catalog *c, MDB_txn *txn, int kind, int map, const runlist *rl);
int wn_runs_push(runlist *rl, run r);
run *wn_run_find(runlist *rl, uint32_t no, size_t *at);   /* NULL if not in the list */
void wn_run_drop(runlist *rl, uint32_t no);
/* The entry of (hash, check) in a block of n id entries: 1 and *out, or 0. */
int wn_block_find_id(const uint8_t *b, size_t n, uint64_t hash, uint16_t check, wn_idrec *out);
/* Look up in one run through cur: 1 found, 0 not, <0 error. */
int wn_run_find_id(wn_catalog *c, MDB_cursor *cur, uint32_t no, uint64_t hash, uint16_t check, wn_idrec *out);
/* Call fn for each ordinal under hash in one run of a pair map; stops at fn's non-zero. */
int wn_run_pairs(wn_catalog *c, MDB_cursor *cur, uint32_t no, uint64_t hash,
	int (*fn)(uint64_t ord, void *ud), void *ud);
/* Writing a run: open takes the next run number of the kind and a cursor on txn; add
 * appends an entry in key order; close writes the last block and pushes the run on rl
 * (if it has entries). */
int wn_blockw_open(wn_catalog *c, int kind, MDB_txn *txn, int map, blockw *w);
int wn_blockw_add(blockw *w, const uint8_t *e);
int wn_blockw_flush(blockw *w);
int wn_blockw_close(blockw *w, uint8_t level, runlist *rl);
/* The entries of a block read from LMDB as (k, v): its size and checksum checked. 0 and
 * *b, *n, or WN_E_CORRUPT (detail in c->err). */
int wn_block_entries(wn_catalog *c, size_t es, const MDB_val *k, const MDB_val *v, const uint8_t **b, size_t *n);
/* Step a merge source to its run's next block (the first one if first). */
int wn_msrc_next(wn_catalog *c, msrc *s, int first, size_t es);
/* Delete the blocks of run no whose last key is below key[0..kl) (all if key is NULL). */
int wn_blocks_delete(wn_catalog *c, MDB_txn *txn, MDB_dbi dbi, uint32_t no, const uint8_t *key, size_t kl);

/* ---- the id map's per-run filters and fences (lsm.c) ---- */
rbloom *wn_rb_find(wn_lsm *m, uint32_t no);
rbloom *wn_rb_new(wn_lsm *m, uint32_t no, uint64_t entries);
int wn_rb_store(wn_lsm *m, MDB_txn *txn, const rbloom *b);
int wn_rb_forget(wn_lsm *m, MDB_txn *txn, uint32_t no);
int wn_rb_load(wn_lsm *m, MDB_txn *txn, const run *r);
void wn_fence_trim(rbloom *b, uint64_t k);

#endif
