/*
 * internal.h - declarations shared by libwinnow's files; never installed.
 *
 * The library is split by responsibility; each file calls only files listed above it
 * (or beside it in the same layer):
 *   util.c       errors, byte order, growable buffers and arrays (WN_GROW), the JSON
 *                string escaper, file helpers: the one opener of a catalog's files (wn_open_in)
 *   version.c    wn_version
 *   json.c       strict JSON, canonical fingerprint (json.h); jread.c: a token reader
 *                for winnow's own JSON files (jread.h)
 *   record.c     a record's keys: id rule, ISRC, hashes, the parser set-up (record.h)
 *   profile.c    a kind's record profile: built-ins, options, checks, JSON (profile.h);
 *                transform.c its transforms on a record (transform.h)
 *   norm.c       matching keys: normalised text (utf8proc), title analysis, artist
 *                lists, the match predicates and the chain guard (norm.h)
 *   digest.c     whole-file XXH128 and SHA-256
 *   pool.c       the worker pool (pool.h): ingest compresses, verify checks, get decodes on it
 *   seekable.c   zstd frames with checksums, the seekable-format seek table
 *   catalog.c    open/lock/recover, LMDB environment, metadata, file and frame rows,
 *                role and map names, the kinds table, the commit protocol
 *   manifest.c   MANIFEST, SHA256SUMS, MANIFEST.json and catalog.json (manifest.h)
 *   ledger.c     ledger and reject entries, encoded and decoded (ledger.h)
 *   frame.c      the frame layer: a record's frame, read back
 *   lsm_run.c    the hashed maps' run format: entries, run lists, blocks, read-only
 *                access; lsm.c the maps as ingest uses them: memtable, filters, fences,
 *                freezing; lsm_merge.c the merges (lsm.h between them)
 *   series.c     an append-only series of seekable zstd files (shards, ledger, rejects)
 *   input.c      input: files, stdin, .zst, line splitting; arena.c, encoding.c below
 *                the sources; source.c their base; source_jsonl.c, source_csv.c,
 *                source_json.c, source_sqlite.c the formats; transcode.c the cp1252/
 *                latin1 decorator; source_open.c the dispatcher on top
 *   contrib.c    contributions: each run's plays per contributor, their sketches, and
 *                the report of winnow contributors (contrib.h)
 *   ingest.c     the ingest pipeline (ingest.h): ingest_parse.c the parsing threads,
 *                ingest_ckpt.c checkpoints and "pending"
 *   query.c      export, get, stats
 *   cluster.c    same-recording clusters: the builder, the stored state, its readers
 *   reindex.c    the index built again from the data files (winnow reindex)
 *   dist.c       the scale-out: plan, map, reduce (an ingest over run files), merge
 *                (back into input order, the index by reindex fed with reduce's keys)
 *   compact.c    rewrites of sealed files: winnow compact and winnow forget
 *   verify.c     checking a catalog or a bare folder (verify.h): verify_report.c,
 *                verify_files.c, verify_frames.c, verify_index.c, verify_counts.c
 */
#ifndef WN_INTERNAL_H
#define WN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <lmdb.h>
#include <pthread.h>
#include <zstd.h>
#include "winnow.h"
#include "json.h"
#include "record.h"
#include "profile.h"

#define WN_FORMAT_VERSION 1
/* The index's own version (meta "index_version"): 2 = every value ends in a checksum.
 * The index is derived from the data files (winnow reindex), which did not change. */
#define WN_INDEX_VERSION 2
/* 3 = 2 with kinds other than track and artist (meta "kinds"): written when the first is
 * added, so that a winnow that knows only those two refuses the index instead of writing
 * manifests that miss the others. This winnow reads both. */
#define WN_INDEX_VERSION_KINDS 3

#define WN_UNUSED __attribute__((unused))
#define WN_LIKELY(x) __builtin_expect(!!(x), 1)
#define WN_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- byte order: everything on disk is big-endian so that LMDB's memcmp key order is numeric order ---- */
static inline void wn_put_be64(uint8_t *p, uint64_t v) { for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; } }
static inline uint64_t wn_get_be64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v = v << 8 | p[i]; return v; }
static inline void wn_put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = (uint8_t)v; }
static inline uint32_t wn_get_be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline void wn_put_be40(uint8_t *p, uint64_t v) { for (int i = 4; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; } }
static inline uint64_t wn_get_be40(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 5; i++) v = v << 8 | p[i]; return v; }
static inline void wn_put_le32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
static inline uint32_t wn_get_le32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* ---- growable byte buffer (util.c) ---- */
typedef struct wn_buf {
	char *p;
	size_t len, cap;
} wn_buf;
int wn_buf_reserve(wn_buf *b, size_t extra);   /* 0 or WN_E_NOMEM */
int wn_buf_put(wn_buf *b, const void *p, size_t n);
int wn_buf_puts(wn_buf *b, const char *s);
int wn_buf_put_u64(wn_buf *b, uint64_t v);     /* decimal */
int wn_buf_printf(wn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wn_buf_json_str(wn_buf *b, const char *s, size_t n);  /* quoted JSON string of valid UTF-8 */
int wn_buf_json_bytes(wn_buf *b, const char *s, size_t n); /* as above, but invalid UTF-8 bytes as \u00XX */
void wn_buf_free(wn_buf *b);

/* ---- growable arrays (util.c) ----
 * WN_GROW(p, n, cap, first): make room for element n (0-based) of array p whose
 * capacity, a size_t lvalue, is cap; the capacity doubles, starting at `first`. 0, or
 * WN_E_NOMEM with p and cap unchanged. New elements are zeroed. Every array that grows
 * by appending uses it. */
int wn_grow(void *pp, size_t *cap, size_t need, size_t size, size_t first);
#define WN_GROW(p, n, cap, first) ((n) < (cap) ? 0 : wn_grow(&(p), &(cap), (size_t)(n) + 1, sizeof *(p), (first)))

/* ---- misc (util.c) ---- */
void wn_hex(char *out, const uint8_t *p, size_t n);        /* writes 2n chars + NUL */
int wn_hexval(int ch);                                     /* a hex digit of either case: 0-15, else -1 */
int wn_unhex(uint8_t *out, const char *s, size_t n);       /* n bytes from 2n hex digits: 0, or -1 */
size_t wn_utf8_put(char *o, uint32_t cp);                  /* a code point as 1-4 UTF-8 bytes at o: how many */
int wn_write_all(int fd, const void *p, size_t n);         /* 0 or errno */
int wn_pread_all(int fd, void *p, size_t n, uint64_t off); /* 0, errno, or WN_E_CORRUPT on short read */
/* ---- the files of a catalog (util.c): the one way they are opened ----
 * wn_open_in: open rel (a relative path of plain names) inside the folder dirfd with open(2)
 * flags and mode, never following a symbolic link in any component and never opening
 * anything but a regular file (a folder when flags has O_DIRECTORY): a FIFO or a device
 * is refused before it is opened, so nothing blocks. Returns the fd (O_CLOEXEC, blocking
 * unless flags has O_NONBLOCK), or a negative code: -errno, or one of these refusals
 * (never returned by the public API: callers make them WN_E_CORRUPT or a problem), all
 * <= WN_OPEN_SYMLINK. */
#define WN_OPEN_SYMLINK (-1001)   /* a symbolic link */
#define WN_OPEN_NOTREG  (-1002)   /* not a regular file (or not a folder) */
#define WN_OPEN_OUTSIDE (-1003)   /* absolute, empty, or ".." */
int wn_open_in(int dirfd, const char *rel, int flags, mode_t mode);
/* What a failure of wn_open_in (or an errno, positive or negated) means, for a message. */
const char *wn_open_why(int code);
/* The library's code for it: the errno (positive), or WN_E_CORRUPT for a refusal (what
 * is in the catalog is not what winnow wrote there). */
int wn_open_code(int code);
/* wn_open_in of the last component of path, inside its folder (which may be reached through
 * links: it is the folder a user named). Same returns. */
int wn_open_path(const char *path, int flags, mode_t mode);
/* fsync the folder rel inside dirfd (rel NULL: dirfd itself). 0 or a code as wn_open_in's. */
int wn_fsync_in(int dirfd, const char *rel);
/* Replace the file name in the folder dirfd: write name.tmp (a stale one is removed first,
 * never opened), fsync, rename over name, fsync the folder. 0 or a code as wn_open_in's. */
int wn_write_file_atomic(int dirfd, const char *name, const void *p, size_t n);
int wn_mkdir_p(const char *path);                          /* 0 or errno */
/* The whole regular file at path into b, NUL-terminated (b->len excludes the NUL), opened
 * by wn_open_path (no link, nothing but a regular file): 0, an errno (EFBIG: more than max
 * bytes, ENOMEM) or a WN_OPEN_* refusal; wn_open_why() says which. */
int wn_read_text(const char *path, wn_buf *b, uint64_t max);
double wn_now(void);                                       /* monotonic seconds */
int wn_utf8_valid(const char *s, size_t n);                /* 1 if valid UTF-8 */
void *wn_big_alloc(size_t n);                 /* zero-filled, huge pages where possible; NULL on failure */
void *wn_big_realloc(void *p, size_t old, size_t n);
void wn_big_free(void *p, size_t n);
int wn_ncores(void);
/* Set *flag under mu, wake the threads waiting on cv, and join the n of th. */
void wn_thread_stop(const pthread_t *th, int n, pthread_mutex_t *mu, pthread_cond_t *cv, int *flag);

/* ---- whole-file digests (digest.c) ---- */
typedef struct wn_hasher wn_hasher;   /* buffers and hash states for hashing files, one per thread */
wn_hasher *wn_hasher_new(void);       /* NULL when out of memory */
void wn_hasher_free(wn_hasher *h);    /* NULL is accepted */
/* XXH128 (canonical bytes) of fd from byte 0 to its end, and SHA-256 too when sha256 is
 * not NULL. *size: bytes hashed (on a read error: where it happened). step, if not NULL,
 * is called after every chunk with the bytes hashed so far and the chunk's size; a
 * non-zero return stops the hash with WN_E_INTERRUPTED. Returns 0, errno, or that. */
int wn_hasher_fd(wn_hasher *h, int fd, uint8_t xxh[16], uint8_t *sha256, uint64_t *size,
	int (*step)(uint64_t done, size_t n, void *ud), void *ud);
/* Both digests of the file rel inside dirfd (opened by wn_open_in) in one pass. 0,
 * WN_E_NOMEM, errno, or a refusal of wn_open_in. */
int wn_file_digests(int dirfd, const char *rel, uint8_t xxh[16], uint8_t sha256[32], uint64_t *size);

/* ---- seekable zstd (seekable.c) ---- */
#define WN_SEEK_MAGIC     0x8F92EAB1u
#define WN_SKIPPABLE_SEEK 0x184D2A5Eu
#define WN_SEEK_FOOTER    9     /* number of frames (4) + descriptor (1) + magic (4) */
#define WN_SEEK_ENTRY     12    /* compressed size, decompressed size, checksum: u32le each */

typedef struct wn_seekent {
	uint32_t csize, dsize, checksum;  /* checksum: low 32 bits of XXH64(decompressed, 0) */
} wn_seekent;

/* Bytes of a seek table for n frames (skippable frame header included). */
size_t wn_seektable_size(uint32_t nframes);
/* Serialise a seek table with checksums into dst (wn_seektable_size(n) bytes). */
void wn_seektable_write(uint8_t *dst, const wn_seekent *e, uint32_t n);
/* Parse the seek table that ends a file of `fsize` bytes, reading with pread on fd.
 * On success *out is malloc'd (caller frees) with *n entries and *table_bytes set.
 * Returns 0, WN_E_CORRUPT (detail in err), or errno. */
int wn_seektable_read(int fd, uint64_t fsize, wn_seekent **out, uint32_t *n, uint64_t *table_bytes, char *err, size_t errlen);

/* ---- record kinds (catalog.c) ----
 * A kind is a name of WN_KIND_NAME_MAX bytes at most, [a-z][a-z0-9_]*: it appears in file
 * names ("shards/<kind>-000001.jsonl.zst"), database names ("<kind>.frames") and meta keys
 * ("state.<kind>"), which is why it holds no '-', '.', '/' or upper case. A catalog numbers
 * its kinds in the order of their first run (meta "kinds"); the number is what a files row
 * stores. track and artist are 0 and 1 in every catalog, whether or not meta "kinds" is
 * there (a catalog that never had another kind has none). A table of kinds is also built
 * from a bare folder's manifests and file names (verify, reindex). */
#define WN_KIND_TRACK  0
#define WN_KIND_ARTIST 1
#define WN_NBUILTIN_KINDS 2
typedef struct wn_kinds {
	int n;
	char name[WN_KINDS_MAX][WN_KIND_NAME_MAX + 1];
} wn_kinds;
/* The built-in table: track, artist. */
void wn_kinds_init(wn_kinds *t);
/* Is s[0..n) a kind name? 1 or 0. */
int wn_kind_name_ok(const char *s, size_t n);
/* The number of kind s[0..n) in t, or -1. */
int wn_kinds_find(const wn_kinds *t, const char *s, size_t n);
/* The number of s[0..n), appended to t if it is not there: >= 0, or WN_KINDS_BAD (not a
 * kind name) or WN_KINDS_FULL (t has WN_KINDS_MAX kinds). */
#define WN_KINDS_BAD  (-1)
#define WN_KINDS_FULL (-2)
int wn_kinds_add(wn_kinds *t, const char *s, size_t n);
/* The name of kind k of t; "?" when t has no kind k. */
const char *wn_kinds_name(const wn_kinds *t, int k);
/* Split "<kind>-<digits>.jsonl.zst" (a data file's name in its role folder): the kind
 * name's length and the number; 0, or -1 when name is not such a name (the number must be
 * 1 to 2^32-1 with at least 6 digits; winnow writes 6, or more once they do not fit). */
int wn_kind_file_name(const char *name, size_t *kind_len, uint32_t *seq);

/* ---- catalog handle (catalog.c) ---- */
#define WN_ROLE_SHARD  0
#define WN_ROLE_LEDGER 1
#define WN_ROLE_REJECT 2
#define WN_ROLE_CONTRIB 3
/* The roles a record's outcome writes to (an ingest run's streams, the merge's walk):
 * shards, ledger, rejects. A run's contributions (contrib.c) are written once, at its
 * end, to a series of their own. */
#define WN_NSTREAMS 3
#define WN_NROLES 4
/* A role's folder ("shards", "ledger", "rejects", "contributions") and its name in
 * MANIFEST.json ("shard", "ledger", "rejects", "contributions"): the one table of both,
 * inline so that every layer can use it. */
static inline const char *wn_role_dir(int role)
{
	static const char *const dir[WN_NROLES] = { "shards", "ledger", "rejects", "contributions" };
	return role >= 0 && role < WN_NROLES ? dir[role] : "?";
}
static inline const char *wn_role_name(int role)
{
	static const char *const name[WN_NROLES] = { "shard", "ledger", "rejects", "contributions" };
	return role >= 0 && role < WN_NROLES ? name[role] : "?";
}
/* the maps of the index, per kind (lsm.c; their names: catalog.c) */
#define WN_MAP_ID   0
#define WN_MAP_FP   1
#define WN_MAP_ISRC 2
#define WN_NMAPS    3
const char *wn_map_name(int map);   /* "id", "fp", "isrc": meta keys and DB names */

/* ---- checksums of index values (catalog.c; doc/FORMAT.md, "checksums") ----
 * LMDB keeps no checksums, so every value winnow stores in it (meta, files and frames
 * rows, map blocks) ends in WN_SUM_BYTES: XXH3-64 of the value before them, seeded
 * with XXH3-64 of the value's key, big-endian. A value whose sum does not match is
 * damage, reported with wn_index_damaged and never used. */
#define WN_SUM_BYTES 8
uint64_t wn_sum(const void *key, size_t klen, const void *val, size_t n);
/* Write the sum of val[0..n) under key at val + n. */
void wn_sum_seal(const void *key, size_t klen, uint8_t *val, size_t n);
/* Does val[0..n) (n counting the sum) end in the sum of what is before it? */
int wn_sum_ok(const void *key, size_t klen, const void *val, size_t n);

/* A data file as recorded in the index (DB "files", key = path relative to the catalog). */
typedef struct wn_fileinfo {
	uint8_t role, kind, sealed;
	uint32_t seq;           /* 1, 2, ... within (role, kind) */
	uint64_t data_len;      /* committed bytes of zstd frames (seek table excluded) */
	uint64_t size;          /* sealed: whole file size including the seek table */
	uint32_t nframes;
	uint64_t nrecords;
	uint64_t raw_bytes;     /* decompressed bytes */
	uint64_t first_ord;     /* shards: ordinal of the first record */
	uint8_t xxh128[16];     /* sealed: XXH128 of the whole file, canonical bytes */
	/* not in the row: kept in meta "sha256:<path>" when the catalog keeps SHA256SUMS */
	uint8_t has_sha256;
	uint8_t sha256[32];
} wn_fileinfo;
#define WN_FILEINFO_BYTES (72 + WN_SUM_BYTES)

/* One frame of a shard (DB "<kind>.frames", key = u64be ordinal of its last record). */
typedef struct wn_frameinfo {
	uint32_t shard_seq;     /* shard file number */
	uint32_t frame_no;      /* frame index within the shard */
	uint64_t offset;        /* byte offset of the frame in the shard file */
	uint32_t csize, dsize, checksum;
	uint64_t first_ord;
	uint32_t nrec;
} wn_frameinfo;
#define WN_FRAMEINFO_BYTES (40 + WN_SUM_BYTES)

/* pack writes the row with its checksum (sealed under the row's key: the file's relpath
 * rel, the frame's last ordinal); unpack reads the fields only. */
void wn_fileinfo_pack(uint8_t *p, const wn_fileinfo *f, const char *rel);
void wn_fileinfo_unpack(wn_fileinfo *f, const uint8_t *p);
void wn_frameinfo_pack(uint8_t *p, const wn_frameinfo *f);
void wn_frameinfo_unpack(wn_frameinfo *f, const uint8_t *p);
/* A files or frames row as read from LMDB (k, v): its size and checksum checked, then
 * unpacked. 0, or WN_E_CORRUPT with the detail (naming winnow reindex) in c->err. */
int wn_file_row(wn_catalog *c, const MDB_val *k, const MDB_val *v, wn_fileinfo *f);
int wn_frame_row(wn_catalog *c, const MDB_val *k, const MDB_val *v, wn_frameinfo *fi);
/* "<role dir>/<kind>-<seq>.jsonl.zst": a data file's name relative to the catalog, the
 * key of its files row. */
void wn_file_relpath(char *out, size_t cap, int role, const char *kind, uint32_t seq);

/* Catalog-wide counters per kind (meta key "state.<kind>"). */
typedef struct wn_kstate {
	uint64_t next_ord;       /* ordinals 0..next_ord-1 exist */
#define WN_X(n) uint64_t n;
	WN_OUTCOMES(WN_X)        /* read, kept, duplicates, revisions, rejected, superseded */
#undef WN_X
	uint64_t ledger_entries, reject_entries;
	uint32_t runs_next;      /* next LSM run number */
	uint64_t forgotten;      /* not in "state.<kind>": meta "forgotten.<kind>", read with it */
} wn_kstate;

/* The options a catalog stored before record profiles (meta "options.bin", catalog.json
 * "options"): read to make the profiles of such a catalog, never written. */
typedef struct wn_catopts {
	char id_field[WN_NBUILTIN_KINDS][128];   /* track, artist: wn_record_id_field() */
	char isrc_field[128];      /* tracks; empty = automatic (external_ids.isrc, external_id_isrc) */
	char ignore[16][128];
	int n_ignore;
} wn_catopts;

struct wn_catalog {
	char *dir;
	int dirfd;                      /* the folder dir: every file inside is opened from it */
	char index[32];                 /* the LMDB environment's folder in dir: "index" (reindex builds another) */
	unsigned env_flags;             /* extra mdb_env_open flags (reindex: MDB_NOSYNC, synced at the end) */
	int writable;
	int lockfd;
	MDB_env *env;
	MDB_dbi db_meta, db_files;
	wn_kinds kinds;                 /* the catalog's kinds (meta "kinds"); the arrays below have kinds.n */
	MDB_dbi db_frames[WN_KINDS_MAX], db_super[WN_KINDS_MAX];
	MDB_dbi db_map[WN_KINDS_MAX][WN_NMAPS];   /* id, fp, isrc runs */
	wn_kstate ks[WN_KINDS_MAX];
	wn_profile *prof[WN_KINDS_MAX]; /* the kinds' stored profiles (NULL: none yet) */
	uint64_t generation;            /* bumped on every completed ingest */
	void *map_addr;                 /* where data.mdb is mapped (wn_index_release_pages) */
	size_t map_len;
	int map_searched;
	int digest;                     /* keep SHA256SUMS (meta "digest" = "sha256") */
	char **abandoned;               /* the last ingest's wn_ingest_result.abandoned_inputs */
	size_t nabandoned;
	char err[512];
};
/* Free the names the last ingest left for its result (catalog.c). */
void wn_catalog_forget_abandoned(wn_catalog *c);
/* The LMDB databases an environment may hold: meta and files, and per kind its frames,
 * superseded and map databases, with room for one more map. */
#define WN_MAX_DBS (2 + WN_KINDS_MAX * (2 + WN_NMAPS + 1))
/* The name of the catalog's kind k ("?" if it has none). */
const char *wn_catalog_kind_name(const wn_catalog *c, int k);
/* The number of the catalog's kind `name`. When the catalog has no such kind: with
 * create, it is added inside the write transaction txn (its databases created, meta
 * "kinds" rewritten); if txn is then aborted, the caller sets c->kinds.n back to what it
 * was. Returns the number (>= 0), or WN_E_USAGE (not a kind name; create on a read-only
 * handle; the catalog has WN_KINDS_MAX kinds), WN_E_NOTFOUND (no such kind, without
 * create), an LMDB error; c->err says which. */
int wn_catalog_kind(wn_catalog *c, MDB_txn *txn, const char *name, int create);

struct wn_catalog;
int wn_seterr(wn_catalog *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Open the file rel of the catalog with wn_open_in (never through a link, only a regular
 * file). 0 and *fd; else *fd -1 and errno (ENOENT: not there), or WN_E_CORRUPT when what
 * is there is a link or not a regular file; c->err names the file and the reason. */
int wn_catalog_open_file(wn_catalog *c, const char *rel, int flags, int *fd);
int wn_lmdb_err(wn_catalog *c, int rc, const char *what);
/* WN_E_CORRUPT: "<what> fails its checksum", with how to rebuild the index. */
int wn_index_damaged(wn_catalog *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wn_meta_get_kstate(wn_catalog *c, MDB_txn *txn, int kind, wn_kstate *ks);
int wn_meta_put_kstate(wn_catalog *c, MDB_txn *txn, int kind, const wn_kstate *ks);
/* Meta values carry their checksum (above): get checks it and leaves it out of *v (0,
 * WN_E_NOTFOUND, WN_E_CORRUPT when it fails: wn_index_damaged); put adds it. */
int wn_meta_get(wn_catalog *c, MDB_txn *txn, const char *key, MDB_val *v);
int wn_meta_put(wn_catalog *c, MDB_txn *txn, const char *key, const void *p, size_t n);
int wn_meta_del(wn_catalog *c, MDB_txn *txn, const char *key);
/* The profile records of `kind` are read with: the stored one, else the kind's default. */
const wn_profile *wn_catalog_profile(wn_catalog *c, int kind);
/* Store p as the profile of kind (meta "profile.<kind>") in txn and in c. 0 or an error. */
int wn_catalog_put_profile(wn_catalog *c, MDB_txn *txn, int kind, const wn_profile *p);
/* The profiles of a catalog as one JSON object {"track":{...},...} (catalog.json), or
 * "null" when it has none. 0 or WN_E_NOMEM. */
int wn_profiles_encode(const wn_catalog *c, wn_buf *b);
/* The profiles of a catalog written before them: its legacy options, per kind. */
void wn_profile_from_catopts(wn_profile *p, const wn_catopts *o, int kind);
int wn_catalog_write_manifests(wn_catalog *c);
/* A new, empty index in dir/<index> (a folder that must not hold one yet) for the data
 * files of dir, open for writing without the writer lock, which the caller holds: what
 * reindex builds into. env_flags are added to mdb_env_open's (MDB_NOSYNC: the caller syncs
 * with mdb_env_sync). 0, or an error with *out set for its message (close it). */
int wn_index_create(wn_catalog **out, const char *dir, const char *index, unsigned env_flags);
/* ---- rewrites of sealed files (doc/FORMAT.md section 18) ----
 * compact.c writes the new files of a rewrite (compact, forget) under their staged names
 * (the final name and WN_STAGED_SUFFIX), then commits the new index with the journal, meta
 * WN_REWRITE_KEY: text, "phase N\n" (1, 2 or 3), then one line per file operation, "move
 * FROM TO\n" (a sealed file renamed: to TO's staged name in phase 1, to TO in phase 2),
 * "put TO\n" (TO's staged name renamed to TO in phase 2), "drop NAME\n" (removed in
 * phase 3). wn_rewrite_finish (catalog.c) does what is left of it, committing each phase
 * before the next starts, so that it can be done again after a crash at any point, and
 * deletes it; every writer open calls it. */
#define WN_STAGED_SUFFIX ".new"
/* meta "tombstone:<id>": the tombstone of a contributor forget took out (the id:
 * wn_tombstone_id of its pseudonym), and
 * "holds.<kind>.<pseudonym>": the files of kind that hold a contributor's records and
 * entries (doc/FORMAT.md 18.4, 18.5) */
#define WN_TOMBSTONE_PREFIX "tombstone:"
#define WN_HOLDS_PREFIX "holds."
#define WN_HOLD_ENTRY 5   /* role (u8), seq (u32 be); sorted, unique */
/* Meta "forgotten.<kind>": the ordinals of kind whose records forget took out (their
 * lines are WN_FORGOTTEN_LINE); 0 when absent. 0 or an error (catalog.c). */
int wn_meta_forgotten(wn_catalog *c, MDB_txn *txn, int kind, uint64_t *n);
/* Add file (role, seq) to meta holds.<kind>.<hex> in txn (catalog.c). 0 or an error. */
int wn_holds_add(wn_catalog *c, MDB_txn *txn, int kind, const char *hex, int role, uint32_t seq);
/* The line a forgotten record leaves in its shard, so that ordinals do not move
 * (doc/FORMAT.md 18.3): no record is this (it has no id under any profile). */
#define WN_FORGOTTEN_LINE "{\"winnow\":\"forgotten\"}"
static inline int wn_is_forgotten_line(const char *l, size_t n)
{
	return n == sizeof WN_FORGOTTEN_LINE - 1 && !memcmp(l, WN_FORGOTTEN_LINE, n);
}
#define WN_REWRITE_KEY "rewrite"
int wn_rewrite_finish(wn_catalog *c, int *did);   /* *did: there was one */
/* One phase of it: *done the phase done (1-3), 0 if there is no journal. */
int wn_rewrite_step(wn_catalog *c, int *done);
/* Append one journal line ("move", a, b; "put", a, NULL; "drop", a, NULL). 0 or WN_E_NOMEM. */
int wn_rewrite_line(wn_buf *b, const char *op, const char *a, const char *b2);
/* Cut data files back to their committed lengths, remove uncommitted ones (writer only). */
int wn_catalog_rollback(wn_catalog *c);
/* Where LMDB maps data.mdb in this process (NULL if it cannot be told). */
const uint8_t *wn_index_map(wn_catalog *c);
void wn_index_release_pages(wn_catalog *c);   /* drop our mappings of index pages (they stay cached) */
uint64_t wn_mapped_file_bytes(uint64_t *anon); /* resident bytes of file mappings (and *anon of the rest) */

/* ---- the hashed maps (lsm.c; the run format lsm_run.c, merges lsm_merge.c) ----
 * Three maps per kind, each a set of fixed-size entries sorted by key:
 *   id:   XXH3 of the id -> ordinal of the surviving record and its fingerprint
 *   fp:   first 8 bytes of a fingerprint -> ordinal of a record with that id
 *   isrc: XXH3 of the normalised ISRC -> ordinal (a multimap)
 * See doc/FORMAT.md for the byte layout. */
#define WN_ID_ENTRY   32   /* hash(8) check(2) flags(1) ordinal(5) fp(16) */
#define WN_PAIR_ENTRY 13   /* hash(8) ordinal(5) */
#define WN_IDF_REVISED 0x01 /* other fingerprints of this id are in the fp map */

typedef struct wn_idrec {
	uint64_t hash;
	uint16_t check;
	uint8_t flags;
	uint64_t ord;
	uint8_t fp[16];
} wn_idrec;

typedef struct wn_lsm wn_lsm;
/* Open the maps of one kind for ingest: load the run list and build the bloom filter.
 * expect = records this run may add (sizing hint). */
int wn_lsm_open(wn_catalog *c, int kind, uint64_t expect, uint64_t expect_total, size_t mem_budget, wn_lsm **out);
void wn_lsm_close(wn_lsm *m);
/* Look an id up (memtable first, then runs newest to oldest). 1 found, 0 not, <0 error. */
/* Start loading what wn_lsm_find_id/put_id will touch for this hash. */
void wn_lsm_prefetch(const wn_lsm *m, uint64_t hash);
int wn_lsm_find_id(wn_lsm *m, MDB_txn *txn, uint64_t hash, uint16_t check, wn_idrec *out);
/* Read the blocks that fences point to through LMDB's map (on: no system call, but the
 * pages count in the resident set) or with pread (off, the default). */
void wn_lsm_via_map(wn_lsm *m, int on);
/* How many run probes were served by a fence, and how many through LMDB. */
void wn_lsm_probes(const wn_lsm *m, uint64_t *by_fence, uint64_t *by_tree);
/* Does a record of this id (`ord`) have fingerprint `fp` recorded in the fp map? 1/0/<0 */
int wn_lsm_has_fp(wn_lsm *m, MDB_txn *txn, const uint8_t fp[16], uint64_t ord);
/* Record a new or updated id entry / fp / isrc pair in the memtable. */
/* known: the id is already in the catalog (found by wn_lsm_find_id) */
int wn_lsm_put_id(wn_lsm *m, const wn_idrec *r, int known);
int wn_lsm_put_pair(wn_lsm *m, int map, uint64_t hash, uint64_t ord);
/* Write the memtable as new runs inside txn (MDB_APPEND): freeze + flush_frozen. */
int wn_lsm_flush(wn_lsm *m, MDB_txn *txn);
/* After the txn of the flush committed: wn_lsm_install. */
void wn_lsm_committed(wn_lsm *m);
/* A checkpoint in the background (lsm.c, "freezing"): set the memtable aside for
 * writing and start an empty one (ingesting thread); write the frozen one inside txn
 * (any one thread, while the ingesting thread goes on); once txn committed, read the
 * new runs and clear the frozen table (ingesting thread). */
int wn_lsm_freeze(wn_lsm *m);
int wn_lsm_flush_frozen(wn_lsm *m, MDB_txn *txn);
int wn_lsm_install(wn_lsm *m);
/* Merge runs where due (and finish a merge a crash interrupted), in transactions of its
 * own: call after a checkpoint committed. */
int wn_lsm_compact(wn_lsm *m);
int wn_lsm_compact_steps(wn_lsm *m, int max_steps, uint64_t step_entries);
/* The flush's transaction was aborted: reload the committed run lists. */
int wn_lsm_aborted(wn_lsm *m);
/* A fingerprint of this id that is not (or no longer) its current one. */
int wn_lsm_note_revfp(wn_lsm *m, const uint8_t fp[16]);

/* Read-only lookups for get/verify (no memtable, no bloom). */
int wn_map_find_id(wn_catalog *c, MDB_txn *txn, int kind, uint64_t hash, uint16_t check, wn_idrec *out);
/* Call fn for every ordinal paired with `hash` in map (FP or ISRC). Returns 0 or error. */
int wn_map_pairs(wn_catalog *c, MDB_txn *txn, int kind, int map, uint64_t hash,
	int (*fn)(uint64_t ord, void *ud), void *ud);
int wn_map_count(wn_catalog *c, MDB_txn *txn, int kind, int map, uint64_t *entries, uint64_t *runs);
/* Iterate every entry of a map in key order across runs (for verify and stats). */
int wn_map_scan(wn_catalog *c, MDB_txn *txn, int kind, int map,
	int (*fn)(const uint8_t *entry, uint32_t run, void *ud), void *ud);

/* The same, but merged across runs into one key order. */
int wn_map_merged_scan(wn_catalog *c, MDB_txn *txn, int kind, int map,
	int (*fn)(const uint8_t *entry, void *ud), void *ud);

/* Take entries out of every run of a map (forget), in txn: ents holds n entries of the
 * map's size (an id entry matches on hash and check, a pair on all its bytes); *taken
 * counts the entries taken (an id may be in several runs). The runs' bloom filters keep
 * the bits of what was taken (a filter may say "maybe"). 0 or an error. */
int wn_map_take(wn_catalog *c, MDB_txn *txn, int kind, int map, const uint8_t *ents, size_t n, uint64_t *taken);

void wn_idrec_pack(uint8_t *p, const wn_idrec *r);
void wn_idrec_unpack(wn_idrec *r, const uint8_t *p);

/* ---- the frame layer (frame.c) ---- */
/* The frame row of the frame that holds record `ord`. 0, WN_E_CORRUPT (no row covers
 * it, or the row is malformed) or an LMDB error, with the detail in c->err. */
int wn_record_locate(wn_catalog *c, MDB_txn *txn, int kind, uint64_t ord, wn_frameinfo *fi);
/* Open shard `seq` of kind read-only (wn_catalog_open_file); rel receives its
 * catalog-relative name. 0 and *fd, or a code as wn_catalog_open_file's (*fd -1). */
int wn_shard_open(wn_catalog *c, int kind, uint32_t seq, char *rel, size_t rl, int *fd);
/* Keep *fd open on shard `seq` for a reader that walks frames in order: a no-op while
 * *fd_seq is seq, else the old one is closed and seq opened (*fd -1 if that fails).
 * 0, or a code as wn_shard_open's with the detail in c->err. */
int wn_shard_keep(wn_catalog *c, int kind, uint32_t seq, int *fd, uint32_t *fd_seq, char *rel, size_t rl);
/* Report shard `rel` of kind missing (open said ENOENT): WN_E_MISSING, with c->err
 * naming it and, from its files row, the ordinals of the records it holds. */
int wn_shard_missing(wn_catalog *c, MDB_txn *txn, int kind, const char *rel);
 /* The files row (and name) of the shard of kind that holds record ord: 1, 0 if no row
 * does, or an error. */
int wn_shard_of(wn_catalog *c, MDB_txn *txn, int kind, uint64_t ord, wn_fileinfo *f, char *rel, size_t rl);
/* Is the data file rel (relative to the catalog) there? 1, or 0 when it is not. */
int wn_shard_present(wn_catalog *c, const char *rel);
/* How many shards of kind have a files row but no file (a partial mirror); desc names
 * the first with its ordinals. <0 on error. */
int wn_shards_absent(wn_catalog *c, MDB_txn *txn, int kind, char *desc, size_t cap);
/* Set c->err to "<rel>: frame N (bytes A-B): <what>" and return WN_E_CORRUPT: the one
 * wording of damage found in a frame or in a record read from it. */
int wn_frame_damaged(wn_catalog *c, const char *rel, const wn_frameinfo *fi, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Read and decompress frame fi whole into raw (scratch holds the compressed bytes).
 * Its content is proven: zstd checks the content checksum, which must be the frames
 * row's. 0, WN_E_NOMEM, WN_E_CORRUPT (truncated, not a zstd frame, no checksum or another
 * than the row's, undecodable, checksum mismatch, wrong size) or errno. */
int wn_frame_load(wn_catalog *c, int kind, const wn_frameinfo *fi, wn_buf *raw, wn_buf *scratch);
/* The same from the open shard fd (named rel). */
int wn_frame_load_fd(wn_catalog *c, int fd, const char *rel, const wn_frameinfo *fi, wn_buf *raw, wn_buf *scratch);
/* Decompress frame fi of the open shard fd (named rel) only as far as its line `upto`
 * (0-based), in steps, so that a get reads on average half a frame. Errors as above, but
 * the content checksum is checked only if the decoding reaches the frame's end: the
 * caller must prove each record it takes (query.c compares its fingerprint). */
int wn_frame_load_upto(wn_catalog *c, int fd, const char *rel, const wn_frameinfo *fi, uint32_t upto, wn_buf *raw,
	wn_buf *scratch, ZSTD_DCtx *dctx);
/* Find the n-th line (0-based) of a decompressed frame. 0, or -1 if it holds fewer. */
int wn_frame_line(const char *raw, size_t len, uint32_t n, const char **line, size_t *linelen);
/* ---- clusters (cluster.c) ---- */
/* Read and check the stored clusters of kind (checksum, sizes, versions): 0 and *records
 * they cover; ENOENT when there are none; WN_E_CORRUPT or WN_E_STALE with c->err. */
int wn_cluster_check(wn_catalog *c, int kind, uint64_t *records);

/* Was record `ord` superseded by a later version? 1, 0, or an LMDB error. */
int wn_is_superseded(wn_catalog *c, MDB_txn *txn, int kind, uint64_t ord);

/* ---- reindex fed with the shards' keys (reindex.c; the scale-out's merge) ---- */

/* Who built the shards knows each record's keys and each frame's records; then the index
 * is built from those instead of from the records parsed again. The ledger and rejects
 * are read as wn_reindex reads them, and every file is still proven against
 * MANIFEST.json (size, XXH128, seek table, frames); shard frames are not decoded. */
typedef struct wn_reindex_feed {
	/* *nrec: the records of frame `frame` (0-based) of shard file number seq; 0 or a code */
	int (*frame_records)(void *ud, uint32_t seq, uint32_t frame, uint32_t *nrec);
	/* the keys of the next shard record (ordinal order; id, id_len and isrc_over unused):
	 * 0, or a code (with why, when it has one, in err, err_len bytes) */
	int (*next_keys)(void *ud, wn_keys *k, char *err, size_t err_len);
	void *ud;
} wn_reindex_feed;
/* wn_reindex of the catalog in dir (o->from NULL) with the shards' keys from feed, for a
 * kind whose profile has no contributor part (else its shards are read as wn_reindex
 * reads them, and feed is not called for it). */
int wn_reindex_fed(const char *dir, const wn_reindex_opts *o, const wn_reindex_feed *feed, wn_reindex_result *res);

#endif
