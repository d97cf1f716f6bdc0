/*
 * cluster.c - same-recording clusters: the builder (wn_cluster), the stored state
 * (CATALOG/clusters/<kind>.bin, doc/FORMAT.md section 16) and its readers (dups, get
 * --cluster, export --one-per-cluster).
 *
 * The builder is a union-find over ordinals. Records are taken in ordinal order; each is
 * joined to the earlier records it has an automatic edge with (norm.h's predicates),
 * found through chains of keys (id, linked_from id, valid ISRC, primary artist + title
 * core + qualifiers) that run through per-record links, newest first, so no two records
 * are ever compared unless they share a key. The records are extracted first (on the
 * pool), then the chains are linked bucket by bucket (see "the chains"), then the records
 * are joined in order on one thread. Because a record's edges go only
 * to earlier records and are tried in a fixed order (id, linked, isrc, text; newer
 * partner first), the clusters after record n depend on records 0..n only: an
 * incremental run, which loads the stored state and goes on from the first new ordinal,
 * gives the clusters a rebuild gives, byte for byte.
 *
 * The chain guard (wn_match_guard) is kept for whole clusters: every member of a cluster
 * has the same qualifier set (so comparing the roots' suffices), and the members that
 * have a valid ISRC and a duration are on a ring per cluster, checked pairwise when two
 * clusters would join. A join the guard refuses is a candidate, stored and reported.
 *
 * The state is rewritten whole, to a temporary file that is fsynced and renamed over the
 * old one: an interrupted run leaves the old state, and a rerun redoes the same work.
 * Readers load it, check its checksum and that it covers every record of the kind (else
 * WN_E_STALE naming the command to run), and read the records they show from the shards
 * through the frame layer, proven as export proves them.
 */
#include "internal.h"
#include "norm.h"
#include "jread.h"
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define NONE UINT32_MAX
#define STATE_MAGIC "WNCLUST1"
#define STATE_VERSION 2
#define HDR_BYTES 256
#define ENT_BYTES 126
#define POLICY_AT 112   /* the survivor policy's place in the header, to its end */
#define HDR_MERGE 1     /* header byte 33: the scored candidates were merged */
#define CAND_BYTES 10
#define MAX_RECORDS ((uint64_t)(UINT32_MAX - 1) / NK)

/* the key chains of a record: its keys, then its two blocks (scored candidates) */
enum { K_ID, K_LINK, K_ISRC0, K_ISRC1, K_TEXT, K_B1, K_B2, NK };

/* 128 bytes, kept on 64-byte boundaries: two cache lines a record (a join's walks
 * touch records at random, and every line is a miss). */
typedef struct crec {
	wn_match m;          /* id, duration, ISRCs, artist, core, qualifiers (norm.h) */
	uint64_t link;       /* id hash of the linked_from id, 0 none */
	uint64_t r1, r2;     /* survivor rank, lower first (then the ordinal) */
	uint32_t root;       /* union-find parent; the root is the cluster's first member */
	uint32_t to, via;    /* the edge that joined it: via (its side) to `to` */
	uint16_t link_check;
	uint8_t edge;        /* WN_EDGE_* it joined by; WN_EDGE_FIRST while it is a root */
} crec;
_Static_assert(sizeof(crec) == 128, "crec is two cache lines");

typedef struct cand {
	uint32_t a, b;       /* a the later record */
	uint8_t via, why;    /* WN_EDGE_*, WN_GUARD_* */
} cand;

/* Which track clusters an artist is credited in: (key of the artist's id, track root),
 * sorted, without repeats (the artist kind's builder only). */
typedef struct credit {
	uint64_t artist;
	uint32_t root;
} credit;

typedef struct cstate {
	int kind;                  /* the catalog's number of the kind */
	int artists;               /* the kind is artist: text edges need a shared track cluster */
	const char *kname;         /* and its name */
	uint64_t n, cap;
	crec *r;
	cand *cand;
	size_t ncand, candcap;
	uint64_t edges[WN_NEDGES];
	uint64_t capped;           /* block walks cut at BLOCK_TRIES */
	int merge;                 /* scored candidates are merged (--merge-candidates) */
	char policy[160];
	/* the builder only */
	uint32_t *gnext, *ghead;   /* guard rings */
	uint32_t *nxt;             /* NK links per record: ref = ord * NK + slot */
	credit *credits;           /* artists only */
	size_t ncredits;
} cstate;

static void state_free(cstate *s)
{
	free(s->r);
	free(s->cand);
	free(s->gnext);
	free(s->ghead);
	free(s->nxt);
	free(s->credits);
	memset(s, 0, sizeof *s);
}

const char *wn_edge_name(int edge)
{
	static const char *const name[WN_NEDGES] = { "first", "id", "linked", "isrc", "text", "similar" };
	return edge >= 0 && edge < WN_NEDGES ? name[edge] : "?";
}

void wn_cluster_opts_init(wn_cluster_opts *o)
{
	memset(o, 0, sizeof *o);
	o->kind = "track";
}

/* ---- survivor policies ---- */

enum { POL_FIRST, POL_CANONICAL, POL_COMPLETE, POL_PRIORITY };

/* The policy named by s: its number, and for priority:FIELD the field. -1 if unknown. */
static int policy_parse(const char *s, const char **field)
{
	*field = NULL;
	if (!strcmp(s, "first"))
		return POL_FIRST;
	if (!strcmp(s, "canonical"))
		return POL_CANONICAL;
	if (!strcmp(s, "complete"))
		return POL_COMPLETE;
	if (!strncmp(s, "priority:", 9) && s[9] && strlen(s + 9) < WN_PATH_MAX) {
		*field = s + 9;
		return POL_PRIORITY;
	}
	return -1;
}

/* Is the JSON value at j empty (null, "", [], {})? It is passed over. */
static int value_empty(wn_jread *j, int *bad)
{
	wn_jread k = *j;
	int ch = wn_jread_peek(&k), empty = 0;
	if (ch == 'n')
		empty = 1;
	else if (ch == '"')
		empty = k.p + 1 < k.e && k.p[1] == '"';
	else if (ch == '[' || ch == '{') {
		k.p++;
		int close = wn_jread_peek(&k);
		empty = close == (ch == '[' ? ']' : '}');
	}
	*bad = wn_jread_skip(j, 1) != 0;
	return empty;
}

/* "YYYY", "YYYY-MM" or "YYYY-MM-DD" as YYYYMMDD (missing parts 00, so a year sorts
 * before its days); anything else 99999999. */
static uint32_t date_num(const char *s, size_t n)
{
	uint32_t v = 0;
	size_t i;
	if (n != 4 && n != 7 && n != 10)
		return 99999999;
	for (i = 0; i < n; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return 99999999;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return 99999999;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	for (; n < 10; n += 3)
		v *= 100;
	return v;
}

/* The album object's type rank, date and first 8 id bytes (canonical policy). */
static void album_rank(wn_jread j, unsigned *type, uint32_t *date, uint64_t *album)
{
	wn_jread_eat(&j, '{');
	while (wn_jread_peek(&j) == '"') {
		char key[16], val[64];
		size_t kl, vl;
		if (wn_jread_str(&j, key, sizeof key, &kl) || !wn_jread_eat(&j, ':'))
			return;
		int known = (kl == 10 && !memcmp(key, "album_type", 10)) || (kl == 12 && !memcmp(key, "release_date", 12)) ||
			(kl == 2 && !memcmp(key, "id", 2));
		if (known && wn_jread_peek(&j) == '"') {
			if (wn_jread_str(&j, val, sizeof val, &vl))
				return;
			if (vl >= sizeof val)
				vl = sizeof val - 1;
			if (key[0] == 'a')
				*type = vl == 5 && !memcmp(val, "album", 5) ? 0 : vl == 6 && !memcmp(val, "single", 6) ? 1 :
					vl == 11 && !memcmp(val, "compilation", 11) ? 2 : 3;
			else if (key[0] == 'r')
				*date = date_num(val, vl);
			else {
				uint8_t b[8] = { 0 };
				memcpy(b, val, vl < 8 ? vl : 8);
				*album = wn_get_be64(b);
			}
		} else if (wn_jread_skip(&j, 2)) {
			return;
		}
		wn_jread_eat(&j, ',');
	}
}

/* An order-preserving 64-bit image of a double, greatest first. */
static uint64_t desc_key(double v)
{
	uint64_t b;
	memcpy(&b, &v, 8);
	b = (b >> 63) ? ~b : b | (1ull << 63);
	return ~b;
}

/* The survivor rank of a record (its raw text, parsed as jr) under policy pol. */
static void rank_of(int pol, const char *rec, size_t len, const wn_jresult *jr, uint64_t *r1, uint64_t *r2)
{
	*r1 = *r2 = 0;
	if (pol == POL_PRIORITY) {
		const wn_jslot *v = &jr->slot[WN_SLOT_FREE];
		char num[64];
		*r1 = UINT64_MAX;
		if ((v->type == WN_JT_NUMBER || v->type == WN_JT_STRING) && v->len && v->len < sizeof num) {
			memcpy(num, v->ptr, v->len);
			num[v->len] = 0;
			char *end;
			double d = strtod(num, &end);
			if (!*end && d == d)
				*r1 = desc_key(d);
		}
		return;
	}
	if (pol == POL_FIRST)
		return;
	unsigned fields = 0, type = 3;
	uint32_t date = 99999999, track = UINT32_MAX;
	uint64_t album = UINT64_MAX;
	wn_jread j = { rec, rec + len };
	wn_jread_eat(&j, '{');
	while (wn_jread_peek(&j) == '"') {
		char key[16];
		size_t kl;
		int bad = 0;
		if (wn_jread_str(&j, key, sizeof key, &kl) || !wn_jread_eat(&j, ':'))
			break;
		if (kl == 5 && !memcmp(key, "album", 5) && wn_jread_peek(&j) == '{')
			album_rank(j, &type, &date, &album);
		if (kl == 12 && !memcmp(key, "track_number", 12) && wn_jread_peek(&j) >= '0' && wn_jread_peek(&j) <= '9') {
			wn_jread k = j;
			uint64_t v;
			if (wn_jread_num(&k, &v) == 1 && v < UINT32_MAX)
				track = (uint32_t)v;
		}
		fields += !value_empty(&j, &bad);
		if (bad)
			break;
		wn_jread_eat(&j, ',');
	}
	if (pol == POL_COMPLETE) {
		*r1 = 0xFFFF - (fields < 0xFFFF ? fields : 0xFFFF);
		return;
	}
	*r1 = (uint64_t)type << 62 | (uint64_t)date << 32 | album >> 32;
	*r2 = (album & 0xFFFFFFFFu) << 32 | track;
}

/* ---- reading records from the shards ---- */

/* The workspace that turns a stored record into its crec. */
typedef struct extractor {
	wn_catalog *c;
	const wn_profile *prof;
	wn_json *json;
	wn_jresult jr;
	wn_norm wt, wa;
	wn_fields *f;
	int pol;
	int artist;          /* the kind is artist: the title is the artist's name */
	char idbuf[WN_ID_BUF];
	wn_keys k;
	wn_title t;
	wn_artists a;
} extractor;

static int extractor_init(extractor *x, wn_catalog *c, int kind, const char *policy)
{
	const char *field;
	memset(x, 0, sizeof *x);
	x->c = c;
	x->prof = wn_catalog_profile(c, kind);
	x->pol = policy ? policy_parse(policy, &field) : POL_FIRST;
	x->artist = !strcmp(wn_catalog_kind_name(c, kind), "artist");
	x->json = wn_json_new();
	x->f = malloc(sizeof *x->f);
	if (!x->json || !x->f)
		return WN_E_NOMEM;
	int rc = wn_record_parser(x->json, x->prof, WN_RECORD_FP | WN_RECORD_MATCH);
	if (!rc && x->pol == POL_PRIORITY)
		rc = wn_json_set_slot(x->json, WN_SLOT_FREE, field);
	return rc;
}

static void extractor_free(extractor *x)
{
	wn_json_free(x->json);
	wn_norm_free(&x->wt);
	wn_norm_free(&x->wa);
	free(x->f);
}

/* Parse record ord (line[0..len)) of the frame fi of shard rel: its keys, fields, title
 * analysis (x->t, in x->wt) and artists (x->a, in x->wa). */
static int extract(extractor *x, const char *rel, const wn_frameinfo *fi, uint64_t ord, const char *line, size_t len)
{
	int rc = wn_json_record(x->json, line, len, &x->jr);
	if (rc == WN_E_NOMEM)
		return rc;
	if (rc || wn_record_keys(&x->jr, x->prof, &x->k, x->idbuf, NULL, 0))
		return wn_frame_damaged(x->c, rel, fi, "record %llu is not a record of the catalog: %s",
			(unsigned long long)ord, rc ? x->jr.err : "no usable id");
	wn_record_fields(&x->jr, x->f);
	wn_str names[WN_MAX_NAMES];
	for (int i = 0; i < x->f->nnames; i++)
		names[i] = (wn_str){ x->f->name[i], x->f->name_len[i] };
	if (x->artist && x->f->title)   /* an artist's name is its one artist key, no title */
		return wn_norm_title(&x->wt, "", 0, &x->t) ||
			wn_norm_artists(&x->wa, &(wn_str){ x->f->title, x->f->title_len }, 1, NULL, 0, &x->a) ? WN_E_NOMEM : 0;
	if ((rc = wn_norm_title(&x->wt, x->f->title ? x->f->title : "", x->f->title_len, &x->t)) ||
	    (rc = wn_norm_artists(&x->wa, names, (size_t)x->f->nnames, x->f->credit, x->f->credit_len, &x->a)))
		return rc;
	return 0;
}

/* The crec of the record extract() just read. */
static void to_crec(extractor *x, const char *line, size_t len, crec *r)
{
	memset(r, 0, sizeof *r);
	wn_match_init(&r->m);
	r->m.id = x->k.hash;
	r->m.id_check = x->k.check;
	r->m.dur_ms = x->f->dur_ms == WN_NODUR ? WN_MATCH_NODUR : x->f->dur_ms;
	wn_isrcs is;
	wn_record_isrcs(&x->jr, &is);
	for (int i = 0; i < is.n; i++)
		wn_match_add_isrc(&r->m, is.p[i], is.len[i]);
	if (x->f->title)
		wn_match_set_text(&r->m, &x->a, &x->t);
	else
		r->m.artist = x->a.n ? wn_norm_hash(x->a.key[0].p, x->a.key[0].n) : 0;
	if (x->f->link)
		wn_id_hash(x->f->link, x->f->link_len, &r->link, &r->link_check);
	rank_of(x->pol, line, len, &x->jr, &r->r1, &r->r2);
}

/* Call fn for every record from ordinal `from` on whose bit is set in want (NULL: all),
 * in ordinal order, with its frame and line. Frames holding none are not read. */
typedef int (*rec_fn)(void *ud, const char *rel, const wn_frameinfo *fi, uint64_t ord, const char *line, size_t len);

static int want_any(const uint64_t *want, uint64_t a, uint64_t b)
{
	if (!want)
		return 1;
	for (uint64_t o = a; o < b; o++) {
		if (!(o & 63) && o + 64 <= b && !want[o >> 6]) {
			o += 63;
			continue;
		}
		if (want[o >> 6] >> (o & 63) & 1)
			return 1;
	}
	return 0;
}

static int scan_records(wn_catalog *c, MDB_txn *txn, int kind, uint64_t from, uint64_t to, const uint64_t *want,
	volatile const int *cancel, rec_fn fn, void *ud)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[8];
	wn_buf raw = { 0 }, scratch = { 0 };
	char rel[128];
	int fd = -1;
	uint32_t fd_seq = 0;
	uint64_t want_next = from;
	if (from >= to)
		return 0;
	int rc = mdb_cursor_open(txn, c->db_frames[kind], &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "frames");
	wn_put_be64(kb, from);
	k = (MDB_val){ 8, kb };
	int mr;
	for (mr = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !mr; mr = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		wn_frameinfo fi;
		if ((rc = wn_frame_row(c, &k, &v, &fi)))
			break;
		if (fi.first_ord > want_next) {
			rc = wn_seterr(c, WN_E_CORRUPT, "index: no frame row holds %s record %llu: rebuild the index with "
				"`winnow reindex -C %s`", wn_catalog_kind_name(c, kind), (unsigned long long)want_next, c->dir);
			break;
		}
		uint64_t end = fi.first_ord + fi.nrec;
		want_next = end;
		if (cancel && *cancel) {
			rc = WN_E_INTERRUPTED;
			break;
		}
		uint64_t a = fi.first_ord > from ? fi.first_ord : from, b = end < to ? end : to;
		if (a < b && want_any(want, a, b)) {
			rc = wn_shard_keep(c, kind, fi.shard_seq, &fd, &fd_seq, rel, sizeof rel);
			if (rc == ENOENT)
				rc = wn_shard_missing(c, txn, kind, rel);
			if (rc || (rc = wn_frame_load_fd(c, fd, rel, &fi, &raw, &scratch)))
				break;
			const char *p = raw.p, *e = raw.p + raw.len;
			for (uint64_t o = fi.first_ord; o < b && !rc; o++) {
				const char *nl = memchr(p, '\n', (size_t)(e - p));
				if (!nl) {
					rc = wn_frame_damaged(c, rel, &fi, "holds fewer records than the index says");
					break;
				}
				if (o >= a && (!want || (want[o >> 6] >> (o & 63) & 1)))
					rc = fn(ud, rel, &fi, o, p, (size_t)(nl - p));
				p = nl + 1;
			}
			if (rc)
				break;
		}
		if (end >= to)
			break;
	}
	if (!rc && mr == MDB_NOTFOUND && want_next < to)
		rc = wn_seterr(c, WN_E_CORRUPT, "index: no frame row holds %s record %llu: rebuild the index with "
			"`winnow reindex -C %s`", wn_catalog_kind_name(c, kind), (unsigned long long)want_next, c->dir);
	else if (!rc && mr && mr != MDB_NOTFOUND)
		rc = wn_lmdb_err(c, mr, "frames");
	mdb_cursor_close(cur);
	if (fd >= 0)
		close(fd);
	wn_buf_free(&raw);
	wn_buf_free(&scratch);
	return rc;
}

/* Superseded ordinals of kind below n, as a bitmap (n bits, malloc'd). */
static int superseded_bits(wn_catalog *c, MDB_txn *txn, int kind, uint64_t n, uint64_t **out)
{
	uint64_t *bits = calloc(n / 64 + 1, 8);
	MDB_cursor *cur;
	MDB_val k, v;
	*out = bits;
	if (!bits)
		return WN_E_NOMEM;
	int rc = mdb_cursor_open(txn, c->db_super[kind], &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "superseded");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t o = k.mv_size == 8 ? wn_get_be64(k.mv_data) : UINT64_MAX;
		if (o < n)
			bits[o >> 6] |= 1ull << (o & 63);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : wn_lmdb_err(c, rc, "superseded");
}

static inline int bit(const uint64_t *b, uint64_t o)
{
	return b[o >> 6] >> (o & 63) & 1;
}

/* ---- the union-find and the key chains ---- */

static uint32_t find(crec *r, uint32_t x)
{
	while (r[x].root != x) {
		r[x].root = r[r[x].root].root;
		x = r[x].root;
	}
	return x;
}

static uint64_t mix(uint64_t tag, uint64_t v)
{
	uint64_t z = v + tag * 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return z ? z : 1;
}

/* The chain keys: ids and linked ids share the id space (tag 1), the link slot is the
 * reverse index (records whose linked_from is X, tag 2). */
static uint64_t key_id(uint64_t id, uint16_t check) { return mix(1, id ^ check); }
static uint64_t key_link(uint64_t id, uint16_t check) { return mix(2, id ^ check); }
static uint64_t key_isrc(uint64_t isrc) { return mix(3, isrc); }
static uint64_t key_text(const wn_match *m) { return mix(4, mix(m->artist, m->core) ^ m->quals); }
/* the blocks of the scored candidates: artist + the core's first characters; core +
 * the 5 s duration bucket */
static uint64_t key_b1(const wn_match *m) { return mix(5, mix(m->artist, m->pfx)); }
static uint64_t key_b2(const wn_match *m) { return mix(6, mix(m->core, m->dur_ms / WN_SCORE_BUCKET_MS)); }
static int blocked(const crec *r) { return r->m.artist && r->m.core && r->m.dur_ms != WN_MATCH_NODUR; }

/* ---- the chains, linked by bucket (no hash table over every key) ----
 *
 * A walk needs, for each key of record o, the newest earlier record holding that key,
 * and from each record on a chain the next older one: nxt[ref] (ref = ord * NK + slot),
 * the previous ref of the same key. Those links do not need a table of every key live
 * at once: the (key, ref) pairs are generated in ordinal order, scattered stably into
 * buckets by the key's top bits, and each bucket, small and in cache, is linked with a
 * local table. Pairs are made again from the records (cheap hashes) rather than held,
 * so a budget bounds them: the buckets are linked a range at a time. An incremental
 * run links only the old records' keys that a new record looks up.
 *
 * A record's own lookups (id, ISRCs, text, blocks) start at its own ref's link, as the
 * table's head before its insertion was. The linked_from lookups ask for another key
 * (the linked id among the ids, its own id among the linked_from ids): those are
 * queries, generated just before the record's own pairs, answered with the newest ref
 * seen, and kept in qa/qb. */

/* 1024 buckets: few enough write streams for the scatter to stay in the caches, and
 * a bucket of a million records' pairs (some 5000) links in a table that fits in L2 */
#define BUCKET_BITS 10
#define NBUCKETS (1u << BUCKET_BITS)
#define BUCKET_OF(k) ((uint32_t)((k) >> (64 - BUCKET_BITS)))
/* the pairs linked at once: 12 bytes each, so 30 MiB at most (a million records make
 * some 5.7M: two ranges, each a sweep over the entries) */
#define LINK_BUDGET (5u << 19)

enum { Q_A = NK, Q_B, NQ };   /* the query "slots": qa (key_id(link)), qb (key_link(id)) */

typedef struct linker {
	cstate *s;
	uint64_t from, to;
	int links;               /* some record of 0..to has a linked_from id: ask the queries */
	uint64_t *set;           /* incremental: the keys the new records look up */
	size_t setcap;
	uint64_t *seen, seenmask; /* and a bitmap of them (by their low bits) that fits in L2 */
	uint32_t *count;         /* pairs per bucket */
	uint64_t *key;           /* a range's pairs */
	uint32_t *ref;           /* their refs (queries: (ord - from) * 2, + 1 for Q_B) */
	uint64_t *isq;           /* which pairs are queries (bits) */
	uint32_t *qa, *qb;       /* the answers for the records from..to */
	struct opair { uint64_t key; uint32_t ref; } *old;   /* incremental: the old records' */
	size_t nold, oldcap;                                /* wanted pairs, in order */
} linker;

/* The pairs of record o, in the order they are linked: queries first, then the refs. */
static int pairs_of(const linker *l, uint32_t o, uint64_t *key, uint8_t *slot)
{
	const crec *r = &l->s->r[o];
	int n = 0;
	if (o >= l->from && l->links) {
		if (r->link) {
			key[n] = key_id(r->link, r->link_check);
			slot[n++] = Q_A;
		}
		if (r->m.id) {
			key[n] = key_link(r->m.id, r->m.id_check);
			slot[n++] = Q_B;
		}
	}
	if (r->m.id) {
		key[n] = key_id(r->m.id, r->m.id_check);
		slot[n++] = K_ID;
	}
	if (r->link) {
		key[n] = key_link(r->link, r->link_check);
		slot[n++] = K_LINK;
	}
	for (int i = 0; i < 2; i++)
		if (r->m.isrc[i]) {
			key[n] = key_isrc(r->m.isrc[i]);
			slot[n++] = (uint8_t)(K_ISRC0 + i);
		}
	if (r->m.artist && (r->m.core || l->s->artists)) {
		key[n] = key_text(&r->m);
		slot[n++] = K_TEXT;
	}
	if (!l->s->artists && blocked(r)) {
		key[n] = key_b1(&r->m);
		slot[n++] = K_B1;
		key[n] = key_b2(&r->m);
		slot[n++] = K_B2;
	}
	return n;
}

/* The place of key in an open-addressing table t of cap (a power of two) keys, 0 empty:
 * where it is, or the empty place it would take. */
static inline size_t probe(const uint64_t *t, size_t cap, uint64_t key)
{
	size_t j = key & (cap - 1);
	while (t[j] && t[j] != key)
		j = (j + 1) & (cap - 1);
	return j;
}

/* The keys the new records look up (incremental runs): l->set. */
static int set_build(linker *l)
{
	uint64_t key[NQ];
	uint8_t slot[NQ];
	size_t cap = 64;
	while (cap < (l->to - l->from) * NQ * 2)
		cap *= 2;
	size_t bits = 1 << 16;
	while (bits < cap * 16 && bits < (1u << 24))
		bits *= 2;
	if (!(l->set = calloc(cap, 8)) || !(l->seen = calloc(bits / 64, 8)))
		return WN_E_NOMEM;
	l->setcap = cap;
	l->seenmask = bits - 1;
	for (uint64_t o = l->from; o < l->to; o++) {
		int n = pairs_of(l, (uint32_t)o, key, slot);
		for (int i = 0; i < n; i++) {
			uint64_t b = key[i] & l->seenmask;
			l->seen[b >> 6] |= 1ull << (b & 63);
			l->set[probe(l->set, l->setcap, key[i])] = key[i];
		}
	}
	return 0;
}

/* Put the pair (key, slot) of record o in its bucket's place if that is in b0..b1-1. */
static void scatter(linker *l, uint32_t b0, uint32_t b1, size_t *at, uint64_t o, uint64_t key, unsigned slot)
{
	uint32_t b = BUCKET_OF(key);
	if (b < b0 || b >= b1)
		return;
	size_t j = at[b - b0]++;
	l->key[j] = key;
	if (slot >= NK) {
		l->ref[j] = (uint32_t)(o - l->from) * 2 + (slot == Q_B);
		l->isq[j >> 6] |= 1ull << (j & 63);
	} else {
		l->ref[j] = (uint32_t)o * NK + slot;
	}
}

/* Link the pairs of buckets b0..b1-1 (np of them, count[] each, in ordinal order). */
static int link_buckets(linker *l, uint32_t b0, uint32_t b1, size_t np)
{
	size_t *at = malloc((size_t)(b1 - b0 + 1) * sizeof *at), pos = 0, tcap = 0;
	uint64_t key[NQ];
	uint8_t slot[NQ];
	if (!at)
		return WN_E_NOMEM;
	for (uint32_t b = b0; b < b1; b++) {
		at[b - b0] = pos;
		pos += l->count[b];
	}
	memset(l->isq, 0, (np / 64 + 1) * 8);
	for (size_t i = 0; i < l->nold; i++)
		scatter(l, b0, b1, at, l->old[i].ref / NK, l->old[i].key, l->old[i].ref % NK);
	for (uint64_t o = l->set ? l->from : 0; o < l->to; o++) {
		int n = pairs_of(l, (uint32_t)o, key, slot);
		for (int i = 0; i < n; i++)
			scatter(l, b0, b1, at, o, key[i], slot[i]);
	}
	free(at);
	/* each bucket with a local table: key -> its newest ref so far */
	uint64_t *tk = NULL;
	uint32_t *tv = NULL;
	pos = 0;
	for (uint32_t b = b0; b < b1; b++) {
		size_t len = l->count[b], cap = 16;
		while (cap < len * 2)
			cap *= 2;
		if (cap > tcap) {
			free(tk);
			free(tv);
			tk = malloc(cap * 8);
			tv = malloc(cap * 4);
			tcap = cap;
			if (!tk || !tv) {
				free(tk);
				free(tv);
				return WN_E_NOMEM;
			}
		}
		memset(tk, 0, cap * 8);
		for (size_t i = pos; i < pos + len; i++) {
			uint64_t k = l->key[i];
			size_t j = probe(tk, cap, k);
			uint32_t prev = tk[j] ? tv[j] : NONE;
			if (l->isq[i >> 6] >> (i & 63) & 1) {
				(l->ref[i] & 1 ? l->qb : l->qa)[l->ref[i] >> 1] = prev;
				continue;
			}
			l->s->nxt[l->ref[i]] = prev;
			tk[j] = k;
			tv[j] = l->ref[i];
		}
		pos += len;
	}
	free(tk);
	free(tv);
	return 0;
}

/* Link the chains the records from..to walk (s->nxt, l->qa, l->qb). */
static int link_chains(linker *l)
{
	uint64_t key[NQ];
	uint8_t slot[NQ];
	cstate *s = l->s;
	int rc = 0;
	for (uint64_t o = 0; o < l->to && !l->links; o++)
		l->links = s->r[o].link != 0;
	uint64_t nq = l->to - l->from;
	if (l->links && (!(l->qa = malloc((nq ? nq : 1) * 4)) || !(l->qb = malloc((nq ? nq : 1) * 4))))
		return WN_E_NOMEM;
	for (uint64_t i = 0; l->links && i < nq; i++)
		l->qa[i] = l->qb[i] = NONE;
	/* every slot of a new record, keyed or not, is a chain end until linked (the joins
	 * fetch ahead through all of them) */
	for (uint64_t i = l->from * NK; i < l->to * NK; i++)
		s->nxt[i] = NONE;
	if (l->from && (rc = set_build(l)))
		return rc;
	if (!(l->count = calloc(NBUCKETS, 4)))
		return WN_E_NOMEM;
	/* the pairs per bucket; an incremental run keeps the old records' few wanted ones */
	for (uint64_t o = 0; o < l->to; o++) {
		int n = pairs_of(l, (uint32_t)o, key, slot);
		for (int i = 0; i < n; i++) {
			if (o < l->from) {
				uint64_t b = key[i] & l->seenmask;
				if (!(l->seen[b >> 6] >> (b & 63) & 1) || l->set[probe(l->set, l->setcap, key[i])] != key[i])
					continue;
				if (WN_GROW(l->old, l->nold, l->oldcap, 1024))
					return WN_E_NOMEM;
				l->old[l->nold++] = (struct opair){ key[i], (uint32_t)o * NK + slot[i] };
			}
			l->count[BUCKET_OF(key[i])]++;
		}
	}
	/* ranges of buckets of at most LINK_BUDGET pairs (one bucket may be more) */
	size_t most = 0, run = 0;
	for (uint32_t b = 0; b < NBUCKETS; b++) {
		if (run && run + l->count[b] > LINK_BUDGET) {
			most = run > most ? run : most;
			run = 0;
		}
		run += l->count[b];
	}
	most = run > most ? run : most;
	if (!(l->key = malloc((most ? most : 1) * 8)) || !(l->ref = malloc((most ? most : 1) * 4)) ||
	    !(l->isq = malloc((most / 64 + 1) * 8)))
		return WN_E_NOMEM;
	uint32_t b0 = 0;
	run = 0;
	for (uint32_t b = 0; b <= NBUCKETS && !rc; b++) {
		if (b == NBUCKETS || (run && run + l->count[b] > LINK_BUDGET)) {
			rc = link_buckets(l, b0, b, run);
			b0 = b;
			run = 0;
		}
		if (b < NBUCKETS)
			run += l->count[b];
	}
	return rc;
}

static void linker_free(linker *l)
{
	free(l->set);
	free(l->seen);
	free(l->count);
	free(l->key);
	free(l->ref);
	free(l->isq);
	free(l->qa);
	free(l->qb);
	free(l->old);
}

static int guard_member(const crec *r)
{
	return r->m.isrc[0] && r->m.dur_ms != WN_MATCH_NODUR;
}

static void ring_add(cstate *s, uint32_t root, uint32_t o)
{
	if (s->ghead[root] == NONE) {
		s->ghead[root] = o;
		s->gnext[o] = o;
	} else {
		s->gnext[o] = s->gnext[s->ghead[root]];
		s->gnext[s->ghead[root]] = o;
	}
}

/* May the clusters of roots a and b be one? WN_GUARD_OK or why not. */
static int guard(const cstate *s, uint32_t a, uint32_t b)
{
	if (s->r[a].m.quals != s->r[b].m.quals)
		return WN_GUARD_QUALS;
	uint32_t ha = s->ghead[a], hb = s->ghead[b];
	if (ha == NONE || hb == NONE)
		return WN_GUARD_OK;
	uint32_t x = ha;
	do {
		uint32_t y = hb;
		do {
			if (wn_match_guard(&s->r[x].m, &s->r[y].m))
				return WN_GUARD_ISRC;
			y = s->gnext[y];
		} while (y != hb);
		x = s->gnext[x];
	} while (x != ha);
	return WN_GUARD_OK;
}

/* Note (o, p) as a candidate of edge k that `why` kept apart, once per pair. */
static int note_candidate(cstate *s, uint32_t o, uint32_t p, int k, int why, size_t first_cand)
{
	for (size_t i = first_cand; i < s->ncand; i++)
		if (s->cand[i].b == p)
			return 0;
	if (WN_GROW(s->cand, s->ncand, s->candcap, 256))
		return WN_E_NOMEM;
	s->cand[s->ncand++] = (cand){ o, p, (uint8_t)k, (uint8_t)why };
	return 0;
}

/* The first of the credits of the artist whose id key is a (s->ncredits if none). */
static size_t credits_of(const cstate *s, uint64_t a)
{
	size_t lo = 0, hi = s->ncredits;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->credits[mid].artist < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Are artists a and b credited in one track cluster? Both lists are sorted by root. */
static int share_track(const cstate *s, const crec *a, const crec *b)
{
	uint64_t ka = key_id(a->m.id, a->m.id_check), kb = key_id(b->m.id, b->m.id_check);
	size_t i = credits_of(s, ka), j = credits_of(s, kb);
	while (i < s->ncredits && j < s->ncredits && s->credits[i].artist == ka && s->credits[j].artist == kb) {
		if (s->credits[i].root == s->credits[j].root)
			return 1;
		if (s->credits[i].root < s->credits[j].root)
			i++;
		else
			j++;
	}
	return 0;
}

/* The edge of kind k between o (the record being added) and p < o. first_cand: the
 * first candidate noted for o, so that a pair is noted once. An artist's text edge
 * (equal names) joins only artists credited in one track cluster; without one it is a
 * candidate (WN_GUARD_NAME): two artists often share a name. */
static int join(cstate *s, uint32_t o, uint32_t p, int k, size_t first_cand)
{
	uint32_t ro = find(s->r, o), rp = find(s->r, p);
	if (ro == rp)
		return 0;
	int why = guard(s, ro, rp);
	if (!why && k == WN_EDGE_TEXT && s->artists && !share_track(s, &s->r[o], &s->r[p]))
		why = WN_GUARD_NAME;
	if (why)
		return note_candidate(s, o, p, k, why, first_cand);
	uint32_t lo = ro < rp ? ro : rp, hi = ro < rp ? rp : ro;
	s->r[hi].root = lo;
	s->r[hi].edge = (uint8_t)k;
	s->r[hi].via = hi == ro ? o : p;
	s->r[hi].to = hi == ro ? p : o;
	if (s->ghead[hi] != NONE) {
		if (s->ghead[lo] == NONE) {
			s->ghead[lo] = s->ghead[hi];
		} else {
			uint32_t t = s->gnext[s->ghead[lo]];
			s->gnext[s->ghead[lo]] = s->gnext[s->ghead[hi]];
			s->gnext[s->ghead[hi]] = t;
		}
	}
	s->edges[k]++;
	return 0;
}

/* Artists of one name tried per new artist, newest first: a common name ("Laura") is
 * held by thousands of artists, and trying them all would be quadratic. */
#define NAME_TRIES 64

/* Walk the chain from ref head; for each record p on it (slot in `slots`), the edge k if
 * pred holds (NULL: always); for an artist's name, the NAME_TRIES newest only. */
static int walk(cstate *s, uint32_t o, uint32_t head, unsigned slots, int k, int (*pred)(const crec *, const crec *),
	size_t first_cand)
{
	unsigned tries = 0;
	for (uint32_t ref = head; ref != NONE; ref = s->nxt[ref]) {
		uint32_t p = ref / NK;
		if (!(slots >> (ref % NK) & 1) || (pred && !pred(&s->r[o], &s->r[p])))
			continue;
		if (k == WN_EDGE_TEXT && s->artists && ++tries > NAME_TRIES)
			break;
		int rc = join(s, o, p, k, first_cand);
		if (rc)
			return rc;
	}
	return 0;
}

static int same_id(const crec *a, const crec *b) { return wn_match_id_edge(&a->m, &b->m); }
static int a_links_b(const crec *a, const crec *b) { return a->link && a->link == b->m.id && a->link_check == b->m.id_check; }
static int b_links_a(const crec *a, const crec *b) { return a_links_b(b, a); }
static int isrc_edge(const crec *a, const crec *b) { return wn_match_isrc_edge(&a->m, &b->m); }
static int text_edge(const crec *a, const crec *b) { return wn_match_text_edge(&a->m, &b->m); }
static int same_name(const crec *a, const crec *b) { return a->m.artist == b->m.artist; }
static int same_b1(const crec *a, const crec *b) { return a->m.artist == b->m.artist && a->m.pfx == b->m.pfx; }
static int same_b2(const crec *a, const crec *b)
{
	return a->m.core == b->m.core && a->m.dur_ms / WN_SCORE_BUCKET_MS == b->m.dur_ms / WN_SCORE_BUCKET_MS;
}

/* Records of one block scored per new record, newest first: a block is as hot as a
 * prolific artist's titles that start alike, and scoring all of it would be quadratic.
 * A walk cut short is counted (s->capped). */
#define BLOCK_TRIES 8

/* The scored candidates of o in the block on chain head (slot, in-block predicate). */
static int score_walk(cstate *s, uint32_t o, uint32_t head, unsigned slot, int (*same)(const crec *, const crec *),
	size_t first_cand)
{
	unsigned tries = 0;
	for (uint32_t ref = head; ref != NONE; ref = s->nxt[ref]) {
		uint32_t p = ref / NK;
		if (ref % NK != slot || !blocked(&s->r[p]) || !same(&s->r[o], &s->r[p]))
			continue;
		if (++tries > BLOCK_TRIES) {
			s->capped++;
			break;
		}
		/* a pair the guard forbids (different ISRCs, durations > 2 s apart) is no candidate */
		if (find(s->r, o) == find(s->r, p) || s->r[o].m.quals != s->r[p].m.quals ||
		    wn_match_guard(&s->r[o].m, &s->r[p].m) || wn_match_score(&s->r[o].m, &s->r[p].m) < WN_SCORE_MIN)
			continue;
		int rc = s->merge ? join(s, o, p, WN_EDGE_SIMILAR, first_cand)
			: note_candidate(s, o, p, WN_EDGE_SIMILAR, WN_GUARD_SIMILAR, first_cand);
		if (rc)
			return rc;
	}
	return 0;
}

/* The newest record before o on the chain of o's own key in slot k (its own ref's link;
 * a ref of o itself there would be two of its keys alike, which the table never gave). */
static uint32_t own_head(const cstate *s, uint32_t o, int k)
{
	uint32_t h = s->nxt[(uint64_t)o * NK + k];
	while (h != NONE && h / NK == o)
		h = s->nxt[h];
	return h;
}

/* Add record o (its crec filled in, its chains linked): its edges to earlier records.
 * qa, qb: the heads of its linked_from lookups (NONE: none). */
static int add_record(cstate *s, uint32_t o, uint32_t qa, uint32_t qb)
{
	crec *r = &s->r[o];
	size_t fc = s->ncand;
	int rc = 0;
	r->root = o;
	r->edge = WN_EDGE_FIRST;
	r->to = r->via = o;
	s->ghead[o] = NONE;
	s->gnext[o] = NONE;
	if (guard_member(r))
		ring_add(s, o, o);
	if (r->m.id)
		rc = walk(s, o, own_head(s, o, K_ID), 1u << K_ID, WN_EDGE_ID, same_id, fc);
	if (!rc && r->link)
		rc = walk(s, o, qa, 1u << K_ID, WN_EDGE_LINK, a_links_b, fc);
	if (!rc && r->m.id)
		rc = walk(s, o, qb, 1u << K_LINK, WN_EDGE_LINK, b_links_a, fc);
	for (int i = 0; i < 2 && !rc; i++)
		if (r->m.isrc[i])
			rc = walk(s, o, own_head(s, o, K_ISRC0 + i), 1u << K_ISRC0 | 1u << K_ISRC1, WN_EDGE_ISRC, isrc_edge, fc);
	if (!rc && r->m.artist && (r->m.core || s->artists))
		rc = walk(s, o, own_head(s, o, K_TEXT), 1u << K_TEXT, WN_EDGE_TEXT, s->artists ? same_name : text_edge, fc);
	if (!rc && !s->artists && blocked(r) && !(rc = score_walk(s, o, own_head(s, o, K_B1), K_B1, same_b1, fc)))
		rc = score_walk(s, o, own_head(s, o, K_B2), K_B2, same_b2, fc);
	return rc;
}

/* The records to be joined next have their chains fetched ahead, a link a step: each
 * record AHEAD on gets a cursor per chain at its head, and every step moves every
 * cursor one link on (the link the step before fetched) and fetches the record and the
 * link there. A record joined has had its chains fetched AHEAD - 1 records deep; a
 * walk's loads are each one miss after the other, fetched ahead they are not. */
#define AHEAD 8

static void fetch_at(const cstate *s, uint32_t ref)
{
	__builtin_prefetch(&s->r[ref / NK]);
	__builtin_prefetch(&s->nxt[ref]);
}

static void ahead_start(const cstate *s, uint32_t *cur, uint32_t o)
{
	for (int k = 0; k < NK; k++)
		if ((cur[k] = s->nxt[(uint64_t)o * NK + k]) != NONE)
			fetch_at(s, cur[k]);
}

static void ahead_step(const cstate *s, uint32_t *cur)
{
	for (int k = 0; k < NK; k++)
		if (cur[k] != NONE && (cur[k] = s->nxt[cur[k]]) != NONE)
			fetch_at(s, cur[k]);
}

/* Join the records from..to-1 (extracted) in ordinal order. */
static int join_records(cstate *s, uint64_t from, uint64_t to, volatile const int *cancel)
{
	linker l = { .s = s, .from = from, .to = to };
	uint32_t cur[AHEAD][NK];
	int rc = link_chains(&l);
	for (uint64_t o = from; o < from + AHEAD && o < to && !rc; o++)
		ahead_start(s, cur[o % AHEAD], (uint32_t)o);
	for (uint64_t o = from; o < to && !rc; o++) {
		if (!((o - from) & 0xFFFF) && cancel && *cancel) {
			rc = WN_E_INTERRUPTED;
			break;
		}
		rc = add_record(s, (uint32_t)o, l.links ? l.qa[o - from] : NONE, l.links ? l.qb[o - from] : NONE);
		/* o's cursors go to o + AHEAD; the others of the records to come move on */
		for (uint64_t q = o + 1; q < o + AHEAD && q < to; q++)
			ahead_step(s, cur[q % AHEAD]);
		if (o + AHEAD < to)
			ahead_start(s, cur[o % AHEAD], (uint32_t)(o + AHEAD));
	}
	linker_free(&l);
	return rc;
}

static int state_reserve(cstate *s, uint64_t n, int builder)
{
	if (n > MAX_RECORDS)
		return WN_E_NOMEM;
	if (!s->r || n > s->cap) {
		void *r;
		if (posix_memalign(&r, 64, (n ? n : 1) * sizeof(crec)))
			return WN_E_NOMEM;
		if (s->r)
			memcpy(r, s->r, (s->n < n ? s->n : n) * sizeof(crec));
		free(s->r);
		s->r = r;
		s->cap = n;
	}
	if (builder) {
		free(s->gnext);
		free(s->ghead);
		free(s->nxt);
		s->gnext = malloc((n ? n : 1) * 4);
		s->ghead = malloc((n ? n : 1) * 4);
		s->nxt = malloc((n ? n : 1) * 4 * NK);
		if (!s->gnext || !s->ghead || !s->nxt)
			return WN_E_NOMEM;
	}
	return 0;
}

/* The guard rings of records 0..n-1 as they were stored. */
static int rebuild_rings(cstate *s)
{
	for (uint64_t o = 0; o < s->n; o++)
		s->ghead[o] = s->gnext[o] = NONE;
	for (uint64_t o = 0; o < s->n; o++)
		if (guard_member(&s->r[o]))
			ring_add(s, find(s->r, (uint32_t)o), (uint32_t)o);
	return 0;
}

/* ---- the stored state (FORMAT.md section 16) ---- */

static void state_path(char *out, size_t cap, const char *kname, const char *suffix)
{
	snprintf(out, cap, "clusters/%s.bin%s", kname, suffix);
}

static void ent_pack(uint8_t *p, const crec *r, uint32_t root)
{
	wn_put_be64(p, r->m.id);
	p[8] = (uint8_t)(r->m.id_check >> 8);
	p[9] = (uint8_t)r->m.id_check;
	wn_put_be32(p + 10, r->m.dur_ms);
	wn_put_be64(p + 14, r->m.isrc[0]);
	wn_put_be64(p + 22, r->m.isrc[1]);
	wn_put_be64(p + 30, r->m.artist);
	wn_put_be64(p + 38, r->m.core);
	wn_put_be64(p + 46, r->m.quals);
	wn_put_be64(p + 54, r->link);
	p[62] = (uint8_t)(r->link_check >> 8);
	p[63] = (uint8_t)r->link_check;
	p[64] = r->edge;
	p[65] = 0;
	wn_put_be64(p + 66, r->r1);
	wn_put_be64(p + 74, r->r2);
	wn_put_be32(p + 82, root);
	wn_put_be32(p + 86, r->to);
	wn_put_be32(p + 90, r->via);
	wn_put_be64(p + 94, r->m.tsig[0]);
	wn_put_be64(p + 102, r->m.tsig[1]);
	wn_put_be64(p + 110, r->m.asig);
	wn_put_be64(p + 118, r->m.pfx);
}

static void ent_unpack(crec *r, const uint8_t *p)
{
	wn_match_init(&r->m);
	r->m.id = wn_get_be64(p);
	r->m.id_check = (uint16_t)(p[8] << 8 | p[9]);
	r->m.dur_ms = wn_get_be32(p + 10);
	r->m.isrc[0] = wn_get_be64(p + 14);
	r->m.isrc[1] = wn_get_be64(p + 22);
	r->m.artist = wn_get_be64(p + 30);
	r->m.core = wn_get_be64(p + 38);
	r->m.quals = wn_get_be64(p + 46);
	r->link = wn_get_be64(p + 54);
	r->link_check = (uint16_t)(p[62] << 8 | p[63]);
	r->edge = p[64];
	r->r1 = wn_get_be64(p + 66);
	r->r2 = wn_get_be64(p + 74);
	r->root = wn_get_be32(p + 82);
	r->to = wn_get_be32(p + 86);
	r->via = wn_get_be32(p + 90);
	r->m.tsig[0] = wn_get_be64(p + 94);
	r->m.tsig[1] = wn_get_be64(p + 102);
	r->m.asig = wn_get_be64(p + 110);
	r->m.pfx = wn_get_be64(p + 118);
}

/* A buffered writer that hashes what it writes. */
typedef struct swriter {
	int fd, err;
	XXH3_state_t *h;
	uint8_t buf[1 << 16];
	size_t len;
} swriter;

static void sw_put(swriter *w, const void *p, size_t n)
{
	XXH3_128bits_update(w->h, p, n);
	while (n && !w->err) {
		if (w->len == sizeof w->buf) {
			w->err = wn_write_all(w->fd, w->buf, w->len);
			w->len = 0;
		}
		size_t k = sizeof w->buf - w->len < n ? sizeof w->buf - w->len : n;
		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p = (const uint8_t *)p + k;
		n -= k;
	}
}

static void header_pack(uint8_t *h, const cstate *s)
{
	memset(h, 0, HDR_BYTES);
	memcpy(h, STATE_MAGIC, 8);
	wn_put_be32(h + 8, STATE_VERSION);
	wn_put_be32(h + 12, WN_NORM_VERSION);
	snprintf((char *)h + 16, 16, "%s", wn_norm_unicode_version());
	h[32] = (uint8_t)s->kind;
	h[33] = s->merge ? HDR_MERGE : 0;
	wn_put_be32(h + 36, ENT_BYTES);
	wn_put_be64(h + 40, s->n);
	wn_put_be64(h + 48, s->ncand);
	for (int k = 0; k < WN_NEDGES; k++)
		wn_put_be64(h + 56 + 8 * k, s->edges[k]);
	wn_put_be64(h + 104, s->capped);
	snprintf((char *)h + POLICY_AT, HDR_BYTES - POLICY_AT, "%.*s", HDR_BYTES - POLICY_AT - 1, s->policy);
}

/* Write the state to clusters/<kind>.bin.tmp, fsync, rename over clusters/<kind>.bin. */
static int state_write(wn_catalog *c, cstate *s)
{
	char tmp[64], fin[64];
	state_path(tmp, sizeof tmp, s->kname, ".tmp");
	state_path(fin, sizeof fin, s->kname, "");
	int rc = mkdirat(c->dirfd, "clusters", 0777);
	if (rc && errno != EEXIST)
		return wn_seterr(c, errno, "%s/clusters: %s", c->dir, strerror(errno));
	unlinkat(c->dirfd, tmp, 0);
	int fd = wn_open_in(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return wn_seterr(c, wn_open_code(fd), "%s/%s: %s", c->dir, tmp, wn_open_why(fd));
	swriter *w = malloc(sizeof *w);
	if (!w || !(w->h = XXH3_createState())) {
		free(w);
		close(fd);
		return WN_E_NOMEM;
	}
	w->fd = fd;
	w->err = 0;
	w->len = 0;
	XXH3_128bits_reset(w->h);
	uint8_t h[HDR_BYTES], e[ENT_BYTES];
	header_pack(h, s);
	sw_put(w, h, HDR_BYTES);
	for (uint64_t o = 0; o < s->n && !w->err; o++) {
		ent_pack(e, &s->r[o], find(s->r, (uint32_t)o));
		sw_put(w, e, ENT_BYTES);
	}
	for (size_t i = 0; i < s->ncand && !w->err; i++) {
		wn_put_be32(e, s->cand[i].a);
		wn_put_be32(e + 4, s->cand[i].b);
		e[8] = s->cand[i].via;
		e[9] = s->cand[i].why;
		sw_put(w, e, CAND_BYTES);
	}
	XXH128_hash_t sum = XXH3_128bits_digest(w->h);
	uint8_t tail[16];
	wn_put_be64(tail, sum.high64);
	wn_put_be64(tail + 8, sum.low64);
	if (!w->err) {
		if (w->len + 16 > sizeof w->buf) {
			w->err = wn_write_all(fd, w->buf, w->len);
			w->len = 0;
		}
		memcpy(w->buf + w->len, tail, 16);
		w->len += 16;
	}
	if (!w->err && w->len)
		w->err = wn_write_all(fd, w->buf, w->len);
	int err = w->err;
	if (!err && fsync(fd))
		err = errno;
	XXH3_freeState(w->h);
	free(w);
	close(fd);
	if (!err && renameat(c->dirfd, tmp, c->dirfd, fin))
		err = errno;
	if (!err)
		err = wn_fsync_in(c->dirfd, "clusters");
	if (err) {
		unlinkat(c->dirfd, tmp, 0);
		return wn_seterr(c, err > 0 ? err : wn_open_code(err), "%s/%s: %s", c->dir, fin,
			err > 0 ? strerror(err) : wn_open_why(err));
	}
	return 0;
}

/* Read the stored state of kind. 0; ENOENT when there is none; WN_E_CORRUPT when it is
 * damaged (c->err names it and the command that rebuilds it); WN_E_STALE when it was
 * made by another norm or Unicode version (the same); errno. */
static int state_read_room(wn_catalog *c, int kind, cstate *s, uint64_t room);

static int state_read(wn_catalog *c, int kind, cstate *s)
{
	return state_read_room(c, kind, s, 0);
}

/* state_read, with room for `room` records in s->r (the builder's, which goes on from
 * the stored ones: so they are not copied). */
static int state_read_room(wn_catalog *c, int kind, cstate *s, uint64_t room)
{
	char rel[64];
	const char *kname = wn_catalog_kind_name(c, kind);
	state_path(rel, sizeof rel, kname, "");
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->kname = kname;
	int fd = wn_open_in(c->dirfd, rel, O_RDONLY, 0);
	if (fd == -ENOENT)
		return ENOENT;
	if (fd < 0)
		return wn_seterr(c, wn_open_code(fd), "%s/%s: %s", c->dir, rel, wn_open_why(fd));
	struct stat st;
	uint8_t h[HDR_BYTES];
	int rc = fstat(fd, &st) ? errno : wn_pread_all(fd, h, HDR_BYTES, 0);
	uint64_t n = 0, ncand = 0;
	const char *bad = NULL;
	if (rc == WN_E_CORRUPT || (!rc && memcmp(h, STATE_MAGIC, 8)))
		bad = "is not a cluster state";
	else if (!rc && wn_get_be32(h + 8) != STATE_VERSION) {
		close(fd);
		return wn_seterr(c, WN_E_STALE, "%s/%s is of state version %u, this winnow writes %u: build the clusters "
			"again with `winnow cluster -C %s --kind %s --rebuild`", c->dir, rel, wn_get_be32(h + 8),
			STATE_VERSION, c->dir, kname);
	} else if (!rc && (wn_get_be32(h + 36) != ENT_BYTES || h[32] != kind))
		bad = "is of another version or kind";
	if (!rc && !bad) {
		n = wn_get_be64(h + 40);
		ncand = wn_get_be64(h + 48);
		if (n > MAX_RECORDS || ncand > (uint64_t)st.st_size ||
		    (uint64_t)st.st_size != HDR_BYTES + n * ENT_BYTES + ncand * CAND_BYTES + 16)
			bad = "has the wrong size";
	}
	if (!rc && !bad && (rc = state_reserve(s, n > room ? n : room, 0)) == 0 && ncand) {
		s->cand = malloc(ncand * sizeof *s->cand);
		s->candcap = ncand;
		if (!s->cand)
			rc = WN_E_NOMEM;
	}
	if (!rc && !bad) {
		XXH3_state_t *xs = XXH3_createState();
		uint8_t *buf = malloc(1 << 20);
		uint64_t off = 0, total = (uint64_t)st.st_size - 16;
		uint64_t ents_end = HDR_BYTES + n * ENT_BYTES;
		if (!xs || !buf)
			rc = WN_E_NOMEM;
		else
			XXH3_128bits_reset(xs);
		/* whole entries per read: the buffer holds 10280 of them */
		size_t chunk = (1 << 20) / (ENT_BYTES * CAND_BYTES) * (ENT_BYTES * CAND_BYTES);
		while (!rc && off < total) {
			size_t len = total - off < chunk ? (size_t)(total - off) : chunk;
			if (off == 0)
				len = HDR_BYTES;
			else if (off < ents_end && off + len > ents_end)
				len = (size_t)(ents_end - off);
			if ((rc = wn_pread_all(fd, buf, len, off)))
				break;
			XXH3_128bits_update(xs, buf, len);
			if (off >= HDR_BYTES && off < ents_end)
				for (size_t i = 0; i < len; i += ENT_BYTES)
					ent_unpack(&s->r[(off - HDR_BYTES + i) / ENT_BYTES], buf + i);
			else if (off >= ents_end)
				for (size_t i = 0; i < len; i += CAND_BYTES) {
					cand *x = &s->cand[(off - ents_end + i) / CAND_BYTES];
					x->a = wn_get_be32(buf + i);
					x->b = wn_get_be32(buf + i + 4);
					x->via = buf[i + 8];
					x->why = buf[i + 9];
				}
			off += len;
		}
		uint8_t tail[16];
		if (!rc && !(rc = wn_pread_all(fd, tail, 16, total))) {
			XXH128_hash_t sum = XXH3_128bits_digest(xs);
			if (wn_get_be64(tail) != sum.high64 || wn_get_be64(tail + 8) != sum.low64)
				bad = "fails its checksum";
		}
		XXH3_freeState(xs);
		free(buf);
	}
	close(fd);
	if (rc == WN_E_CORRUPT)
		bad = "is shorter than its header says";
	if (bad) {
		state_free(s);
		return wn_seterr(c, WN_E_CORRUPT, "%s/%s %s: build the clusters again with `winnow cluster -C %s --kind %s "
			"--rebuild`", c->dir, rel, bad, c->dir, kname);
	}
	if (rc) {
		state_free(s);
		return rc > 0 ? wn_seterr(c, rc, "%s/%s: %s", c->dir, rel, strerror(rc)) : rc;
	}
	s->n = n;
	s->ncand = ncand;
	for (int k = 0; k < WN_NEDGES; k++)
		s->edges[k] = wn_get_be64(h + 56 + 8 * k);
	s->capped = wn_get_be64(h + 104);
	s->merge = h[33] & HDR_MERGE;
	snprintf(s->policy, sizeof s->policy, "%.*s", (int)(HDR_BYTES - POLICY_AT - 1), (const char *)h + POLICY_AT);
	/* every link must point at an earlier or equal record: a state that passed its
	 * checksum was written so, but a reader relies on it */
	for (uint64_t o = 0; o < n; o++)
		if (s->r[o].root > o || s->r[o].to >= n || s->r[o].via >= n || s->r[s->r[o].root].root != s->r[o].root) {
			state_free(s);
			return wn_seterr(c, WN_E_CORRUPT, "%s/%s: record %llu has a malformed entry: build the clusters again "
				"with `winnow cluster -C %s --kind %s --rebuild`", c->dir, rel, (unsigned long long)o, c->dir, kname);
		}
	for (size_t i = 0; i < s->ncand; i++)
		if (s->cand[i].a >= n || s->cand[i].b >= n) {
			state_free(s);
			return wn_seterr(c, WN_E_CORRUPT, "%s/%s: candidate %zu is malformed: build the clusters again with "
				"`winnow cluster -C %s --kind %s --rebuild`", c->dir, rel, i, c->dir, kname);
		}
	char uni[17] = { 0 };
	memcpy(uni, h + 16, 16);
	if (wn_get_be32(h + 12) != WN_NORM_VERSION || strcmp(uni, wn_norm_unicode_version())) {
		state_free(s);
		return wn_seterr(c, WN_E_STALE, "%s/%s was built by norm version %u with Unicode %s, this winnow uses %u "
			"with %s: build the clusters again with `winnow cluster -C %s --kind %s --rebuild`", c->dir, rel,
			wn_get_be32(h + 12), uni, WN_NORM_VERSION, wn_norm_unicode_version(), c->dir, kname);
	}
	return 0;
}

/* The survivor policy in the header of the stored state of s->kind, whatever else the
 * file holds (a --rebuild keeps it); "" when there is none to read. */
static void state_policy(wn_catalog *c, const cstate *s, char *out, size_t cap)
{
	char rel[64];
	uint8_t h[HDR_BYTES];
	state_path(rel, sizeof rel, s->kname, "");
	out[0] = 0;
	int fd = wn_open_in(c->dirfd, rel, O_RDONLY, 0);
	if (fd < 0)
		return;
	/* state version 1 kept the policy at 96 */
	size_t at = !wn_pread_all(fd, h, HDR_BYTES, 0) && wn_get_be32(h + 8) == 1 ? 96 : POLICY_AT;
	if (!memcmp(h, STATE_MAGIC, 8) && memchr(h + at, 0, HDR_BYTES - at)) {
		const char *field;
		if (policy_parse((const char *)h + at, &field) >= 0)
			snprintf(out, cap, "%s", (const char *)h + at);
	}
	close(fd);
}

/* ---- counting ---- */

/* Survivors of every cluster: surv[root] (NONE where the cluster has no surviving
 * member) and size[root], the surviving members. dead: superseded bits. */
static int survivors(const cstate *s, const uint64_t *dead, int by_ordinal, uint32_t **surv_out, uint32_t **size_out)
{
	uint32_t *surv = malloc((s->n ? s->n : 1) * 4), *size = calloc(s->n ? s->n : 1, 4);
	*surv_out = surv;
	*size_out = size;
	if (!surv || !size)
		return WN_E_NOMEM;
	for (uint64_t o = 0; o < s->n; o++)
		surv[o] = NONE;
	for (uint64_t o = 0; o < s->n; o++) {
		if (bit(dead, o))
			continue;
		uint32_t r = s->r[o].root, cur = surv[r];
		size[r]++;
		if (cur == NONE)
			surv[r] = (uint32_t)o;
		else if (!by_ordinal && (s->r[o].r1 < s->r[cur].r1 || (s->r[o].r1 == s->r[cur].r1 && s->r[o].r2 < s->r[cur].r2)))
			surv[r] = (uint32_t)o;
	}
	return 0;
}

static void cluster_hex(char out[33], const char *kname, uint64_t root)
{
	uint8_t b[WN_KIND_NAME_MAX + 9];
	size_t kl = strlen(kname);
	if (kl > WN_KIND_NAME_MAX)
		kl = WN_KIND_NAME_MAX;
	memcpy(b, kname, kl);
	b[kl] = 0;
	wn_put_be64(b + kl + 1, root);
	XXH128_hash_t h = XXH3_128bits(b, kl + 9);
	uint8_t c[16];
	wn_put_be64(c, h.high64);
	wn_put_be64(c + 8, h.low64);
	wn_hex(out, c, 16);
}

/* ---- wn_cluster ---- */

/* The records from..to-1 are extracted on the pool, a frame a task, while this thread
 * joins them in ordinal order: the workers parse and analyse (most of the work), the
 * union-find stays on one thread. Tasks are taken back in the order they were given. */
typedef struct xtask {
	wn_task task;
	cstate *s;
	wn_frameinfo fi;
	int fd;                  /* a dup of the shard's, closed by the task */
	char rel[128];
	uint64_t a, b;           /* the ordinals it extracts */
	int rc, busy;
	wn_catalog *ec;          /* holds the frame layer's message of a failure */
} xtask;

typedef struct xworker {
	extractor x;
	wn_buf raw, scratch;
} xworker;

static void run_extract(wn_task *tk, void *worker)
{
	xtask *t = (xtask *)tk;
	xworker *w = worker;
	w->x.c = t->ec;
	t->rc = wn_frame_load_fd(t->ec, t->fd, t->rel, &t->fi, &w->raw, &w->scratch);
	const char *p = w->raw.p, *e = w->raw.p + w->raw.len;
	for (uint64_t o = t->fi.first_ord; o < t->b && !t->rc; o++) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl) {
			t->rc = wn_frame_damaged(t->ec, t->rel, &t->fi, "holds fewer records than the index says");
			break;
		}
		if (o >= t->a && !(t->rc = extract(&w->x, t->rel, &t->fi, o, p, (size_t)(nl - p))))
			to_crec(&w->x, p, (size_t)(nl - p), &t->s->r[o]);
		p = nl + 1;
	}
	close(t->fd);
	t->fd = -1;
}

static void *xworker_of(void *ud, int i)
{
	return (xworker *)ud + i;
}

/* Wait for task t (its records extracted). */
static int take(wn_catalog *c, wn_pool *pool, xtask *t)
{
	wn_pool_wait(pool, &t->task);
	t->busy = 0;
	if (t->rc) {
		snprintf(c->err, sizeof c->err, "%s", t->ec->err);
		return t->rc;
	}
	return 0;
}

static int build(wn_catalog *c, MDB_txn *txn, cstate *s, uint64_t from, uint64_t to, volatile const int *cancel)
{
	int nw = wn_ncores(), nt, rc = 0, mr, fd = -1;
	if (nw > 16)
		nw = 16;
	nt = 2 * nw + 2;
	xworker *ws = calloc((size_t)nw, sizeof *ws);
	xtask *ts = calloc((size_t)nt, sizeof *ts);
	wn_pool *pool = NULL;
	MDB_cursor *cur = NULL;
	if (!ws || !ts)
		rc = WN_E_NOMEM;
	for (int i = 0; i < nw && !rc; i++)
		rc = extractor_init(&ws[i].x, c, s->kind, s->policy);
	for (int i = 0; i < nt && !rc; i++) {
		ts[i].task.run = run_extract;
		ts[i].s = s;
		ts[i].fd = -1;
		if (!(ts[i].ec = calloc(1, sizeof *ts[i].ec)))
			rc = WN_E_NOMEM;
		else {
			ts[i].ec->dir = c->dir;
			ts[i].ec->dirfd = -1;
		}
	}
	wn_pool_opts po = { .threads = nw, .name = "winnow-cluster", .worker_new = xworker_of, .ud = ws };
	if (!rc)
		rc = wn_pool_new(&po, &pool);
	if (!rc && (mr = mdb_cursor_open(txn, c->db_frames[s->kind], &cur)))
		rc = wn_lmdb_err(c, mr, "frames");
	uint64_t want_next = from, n = 0, next_take = 0;
	uint32_t fd_seq = 0;
	char rel[128];
	if (!rc && from < to) {
		uint8_t kb[8];
		MDB_val k = { 8, kb }, v;
		wn_put_be64(kb, from);
		for (mr = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !mr && !rc; mr = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			wn_frameinfo fi;
			if ((rc = wn_frame_row(c, &k, &v, &fi)))
				break;
			if (fi.first_ord > want_next) {
				rc = wn_seterr(c, WN_E_CORRUPT, "index: no frame row holds %s record %llu: rebuild the index with "
					"`winnow reindex -C %s`", s->kname, (unsigned long long)want_next, c->dir);
				break;
			}
			if (cancel && *cancel) {
				rc = WN_E_INTERRUPTED;
				break;
			}
			uint64_t end = fi.first_ord + fi.nrec;
			want_next = end;
			rc = wn_shard_keep(c, s->kind, fi.shard_seq, &fd, &fd_seq, rel, sizeof rel);
			if (rc == ENOENT)
				rc = wn_shard_missing(c, txn, s->kind, rel);
			if (rc)
				break;
			xtask *t = &ts[n % (uint64_t)nt];
			if (t->busy && (rc = take(c, pool, t)))
				break;
			next_take = n + 1 >= (uint64_t)nt ? n + 1 - (uint64_t)nt : 0;
			t->fi = fi;
			t->a = fi.first_ord > from ? fi.first_ord : from;
			t->b = end < to ? end : to;
			snprintf(t->rel, sizeof t->rel, "%s", rel);
			if ((t->fd = dup(fd)) < 0) {
				rc = wn_seterr(c, errno, "%s/%s: %s", c->dir, rel, strerror(errno));
				break;
			}
			t->busy = 1;
			wn_pool_submit(pool, &t->task);
			n++;
			if (end >= to)
				break;
		}
		if (!rc && mr == MDB_NOTFOUND && want_next < to)
			rc = wn_seterr(c, WN_E_CORRUPT, "index: no frame row holds %s record %llu: rebuild the index with "
				"`winnow reindex -C %s`", s->kname, (unsigned long long)want_next, c->dir);
		else if (!rc && mr && mr != MDB_NOTFOUND)
			rc = wn_lmdb_err(c, mr, "frames");
	}
	/* the rest, in order (after a failure: only waited for) */
	for (uint64_t i = next_take; i < n; i++) {
		xtask *t = &ts[i % (uint64_t)nt];
		if (!t->busy)
			continue;
		if (rc) {
			wn_pool_wait(pool, &t->task);
			t->busy = 0;
		} else {
			rc = take(c, pool, t);
		}
	}
	wn_pool_free(pool);
	if (cur)
		mdb_cursor_close(cur);
	if (fd >= 0)
		close(fd);
	for (int i = 0; ws && i < nw; i++) {
		extractor_free(&ws[i].x);
		wn_buf_free(&ws[i].raw);
		wn_buf_free(&ws[i].scratch);
	}
	for (int i = 0; ts && i < nt; i++) {
		if (ts[i].fd >= 0)
			close(ts[i].fd);
		free(ts[i].ec);
	}
	free(ws);
	free(ts);
	return rc ? rc : join_records(s, from, to, cancel);
}

/* ---- artists: the track clusters they are credited in ---- */

typedef struct credit_scan {
	extractor x;
	const cstate *tracks;      /* the track clusters, roots resolved */
	credit *v;
	size_t n, cap;
} credit_scan;

static int credit_one(void *ud, const char *rel, const wn_frameinfo *fi, uint64_t ord, const char *line, size_t len)
{
	credit_scan *cs = ud;
	int rc = extract(&cs->x, rel, fi, ord, line, len);
	for (int i = 0; !rc && i < cs->x.f->nnames; i++) {
		if (!cs->x.f->aid_len[i])
			continue;
		uint64_t h;
		uint16_t check;
		wn_id_hash(cs->x.f->aid[i], cs->x.f->aid_len[i], &h, &check);
		if (WN_GROW(cs->v, cs->n, cs->cap, 1024))
			return WN_E_NOMEM;
		cs->v[cs->n++] = (credit){ key_id(h, check), cs->tracks->r[ord].root };
	}
	return rc;
}

static int credit_cmp(const void *a, const void *b)
{
	const credit *x = a, *y = b;
	if (x->artist != y->artist)
		return x->artist < y->artist ? -1 : 1;
	return (x->root > y->root) - (x->root < y->root);
}

/* s->credits from every track record's artists[].id and the current track clusters
 * (tracks records, which wn_cluster has just brought up to date). */
static int load_credits(wn_catalog *c, MDB_txn *txn, cstate *s, int tkind, uint64_t tracks,
	volatile const int *cancel)
{
	cstate ts;
	int rc = state_read(c, tkind, &ts);
	if (rc == ENOENT || (!rc && ts.n != tracks)) {
		state_free(&ts);
		return wn_seterr(c, WN_E_STALE, "the track clusters of %s are not current: run `winnow cluster -C %s`",
			c->dir, c->dir);
	}
	if (rc)
		return rc;
	for (uint64_t i = 0; i < ts.n; i++)
		ts.r[i].root = find(ts.r, (uint32_t)i);
	credit_scan cs;
	memset(&cs, 0, sizeof cs);
	cs.tracks = &ts;
	if (!(rc = extractor_init(&cs.x, c, tkind, NULL)))
		rc = scan_records(c, txn, tkind, 0, tracks, NULL, cancel, credit_one, &cs);
	extractor_free(&cs.x);
	state_free(&ts);
	if (rc) {
		free(cs.v);
		return rc;
	}
	if (cs.n)
		qsort(cs.v, cs.n, sizeof *cs.v, credit_cmp);
	size_t o = 0;
	for (size_t i = 0; i < cs.n; i++)
		if (!o || credit_cmp(&cs.v[o - 1], &cs.v[i]))
			cs.v[o++] = cs.v[i];
	s->credits = cs.v;
	s->ncredits = o;
	return 0;
}

/* The number of the catalog's kind `name` (NULL: "track"): >= 0, or an error in c->err. */
static int kind_of(wn_catalog *c, MDB_txn *txn, const char *name)
{
	return wn_catalog_kind(c, txn, name ? name : "track", 0);
}

int wn_cluster(wn_catalog *c, const wn_cluster_opts *o, wn_cluster_result *res)
{
	wn_cluster_result dummy;
	wn_cluster_opts def;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	if (!o) {
		wn_cluster_opts_init(&def);
		o = &def;
	}
	c->err[0] = 0;
	double t0 = wn_now();
	const char *field;
	if (!c->writable)
		return wn_seterr(c, WN_E_USAGE, "cluster: the catalog must be open for writing");
	if (o->survivor && policy_parse(o->survivor, &field) < 0)
		return wn_seterr(c, WN_E_USAGE, "unknown survivor policy '%s' (first, canonical, complete, priority:FIELD)",
			o->survivor);
	if (o->survivor && strlen(o->survivor) > HDR_BYTES - POLICY_AT - 1)
		return wn_seterr(c, WN_E_USAGE, "survivor policy '%.40s...' is longer than %d bytes", o->survivor,
			HDR_BYTES - POLICY_AT - 1);
	int artists = o->kind && !strcmp(o->kind, "artist");
	if (artists) {
		/* artists join through the track clusters: those first, as they are */
		wn_cluster_opts to = *o;
		wn_cluster_result tr;
		to.kind = "track";
		to.rebuild = 0;
		to.survivor = NULL;
		to.merge_candidates = 0;
		int rc = wn_cluster(c, &to, &tr);
		if (rc)
			return rc;
	}
	MDB_txn *txn;
	wn_kstate ks, tks = { 0 };
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	int kind = kind_of(c, txn, o->kind), tkind = artists ? kind_of(c, txn, "track") : 0;
	if (kind < 0 || tkind < 0 || (rc = wn_meta_get_kstate(c, txn, kind, &ks)) ||
	    (artists && (rc = wn_meta_get_kstate(c, txn, tkind, &tks)))) {
		mdb_txn_abort(txn);
		return kind < 0 ? kind : tkind < 0 ? tkind : rc;
	}
	if (ks.forgotten) {
		/* (clusters are over every ordinal; a forgotten one holds no record) */
		mdb_txn_abort(txn);
		return wn_seterr(c, WN_E_USAGE, "the %s records of %s include %llu forgotten ones (winnow forget): clusters "
			"of such a kind are not built", wn_catalog_kind_name(c, kind), c->dir, (unsigned long long)ks.forgotten);
	}
	cstate s = { 0 };
	s.kind = kind;
	s.kname = wn_catalog_kind_name(c, kind);
	int rebuild = o->rebuild;
	if (!rebuild) {
		rc = state_read_room(c, kind, &s, ks.next_ord <= MAX_RECORDS ? ks.next_ord : 0);
		if (rc == ENOENT) {
			rebuild = 1;
			rc = 0;
		} else if (!rc && ((o->survivor && strcmp(o->survivor, s.policy)) || s.n > ks.next_ord ||
			(o->merge_candidates && (o->merge_candidates > 0) != s.merge) ||
			(artists && s.edges[WN_EDGE_FIRST] != tks.next_ord))) {
			/* another policy needs other values of every record; fewer records than the
			 * clusters cover is another catalog; artists clustered with other track
			 * clusters than the current ones: build them again */
			state_free(&s);
			rebuild = 1;
		}
	}
	if (rc)
		goto out;
	int merge = o->merge_candidates ? o->merge_candidates > 0 : s.merge;
	if (rebuild) {
		char keep[sizeof s.policy] = "";
		if (!o->survivor && !s.policy[0])
			state_policy(c, &s, keep, sizeof keep);   /* --rebuild keeps the stored policy */
		else if (!o->survivor)
			memcpy(keep, s.policy, sizeof keep);
		state_free(&s);
		s.kind = kind;
		s.kname = wn_catalog_kind_name(c, kind);
		memcpy(s.policy, keep, sizeof keep);
		c->err[0] = 0;
	}
	if (!s.policy[0])
		snprintf(s.policy, sizeof s.policy, "%s", o->survivor ? o->survivor : "first");
	if (ks.next_ord > MAX_RECORDS) {
		rc = wn_seterr(c, WN_E_NOMEM, "cluster: %llu records are more than a cluster state holds",
			(unsigned long long)ks.next_ord);
		goto out;
	}
	uint64_t old = s.n;
	res->added = ks.next_ord - old;
	res->rebuilt = rebuild;
	s.artists = artists;
	s.merge = merge;
	if (res->added || rebuild) {
		if ((artists && (rc = load_credits(c, txn, &s, tkind, tks.next_ord, o->cancel))) ||
		    (rc = state_reserve(&s, ks.next_ord, 1)) || (rc = rebuild_rings(&s)) ||
		    (rc = build(c, txn, &s, old, ks.next_ord, o->cancel)))
			goto out;
		s.n = ks.next_ord;
		/* the artists' "first" counter: the track records whose clusters they used */
		s.edges[WN_EDGE_FIRST] = artists ? tks.next_ord : 0;
		if ((rc = state_write(c, &s)))
			goto out;
	}
	uint64_t *dead = NULL;
	uint32_t *surv = NULL, *size = NULL;
	for (uint64_t i = 0; i < s.n; i++)
		s.r[i].root = find(s.r, (uint32_t)i);
	if (!(rc = superseded_bits(c, txn, kind, s.n, &dead)) && !(rc = survivors(&s, dead, 0, &surv, &size))) {
		uint64_t live = 0;
		for (uint64_t i = 0; i < s.n; i++) {
			live += !bit(dead, i);
			res->clusters += s.r[i].root == i && surv[i] != NONE;
		}
		res->merged = live - res->clusters;
		for (size_t i = 0; i < s.ncand; i++)
			res->candidates += s.r[s.cand[i].a].root != s.r[s.cand[i].b].root;
	}
	free(dead);
	free(surv);
	free(size);
	res->records = s.n;
	memcpy(res->edges, s.edges, sizeof res->edges);
	res->edges[WN_EDGE_FIRST] = 0;
	res->blocks_capped = s.capped;
	res->merge_candidates = s.merge;
	snprintf(res->survivor, sizeof res->survivor, "%s", s.policy);
out:
	mdb_txn_abort(txn);
	state_free(&s);
	res->seconds = wn_now() - t0;
	return rc;
}

/* ---- the readers ---- */

/* What every reader starts from: the current state, survivors, a read snapshot. */
typedef struct view {
	wn_catalog *c;
	MDB_txn *txn;
	cstate s;
	uint64_t *dead;
	uint32_t *surv, *size;
} view;

static void view_close(view *v)
{
	if (v->txn)
		mdb_txn_abort(v->txn);
	state_free(&v->s);
	free(v->dead);
	free(v->surv);
	free(v->size);
}

/* Open the clusters of kind for reading. policy: the survivor policy wanted (NULL: the
 * stored one); "first" is always at hand, another than the stored one is WN_E_STALE. */
static int view_open(wn_catalog *c, const char *kname, const char *policy, view *v)
{
	memset(v, 0, sizeof *v);
	v->c = c;
	c->err[0] = 0;
	const char *field;
	if (policy && policy_parse(policy, &field) < 0)
		return wn_seterr(c, WN_E_USAGE, "unknown survivor policy '%s' (first, canonical, complete, priority:FIELD)",
			policy);
	wn_kstate ks;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &v->txn);
	if (rc) {
		v->txn = NULL;
		return wn_lmdb_err(c, rc, "begin");
	}
	int kind = kind_of(c, v->txn, kname);
	if (kind < 0)
		return kind;
	kname = wn_catalog_kind_name(c, kind);
	if ((rc = wn_meta_get_kstate(c, v->txn, kind, &ks)))
		return rc;
	rc = state_read(c, kind, &v->s);
	if (rc == ENOENT)
		return wn_seterr(c, WN_E_STALE, "the %ss of %s have no clusters yet: run `winnow cluster -C %s --kind %s`",
			kname, c->dir, c->dir, kname);
	if (rc)
		return rc;
	if (v->s.n != ks.next_ord)
		return wn_seterr(c, WN_E_STALE, "the clusters of %s cover %llu of its %llu %ss: run `winnow cluster -C %s "
			"--kind %s`%s", c->dir, (unsigned long long)v->s.n, (unsigned long long)ks.next_ord, kname,
			c->dir, kname, v->s.n > ks.next_ord ? " --rebuild" : "");
	v->s.artists = !strcmp(kname, "artist");
	if (v->s.artists) {
		wn_kstate tks;
		int tkind = kind_of(c, v->txn, "track");
		if (tkind < 0)
			return tkind;
		if ((rc = wn_meta_get_kstate(c, v->txn, tkind, &tks)))
			return rc;
		if (v->s.edges[WN_EDGE_FIRST] != tks.next_ord)
			return wn_seterr(c, WN_E_STALE, "the artist clusters of %s were made with %llu of its %llu tracks: run "
				"`winnow cluster -C %s --kind artist`", c->dir, (unsigned long long)v->s.edges[WN_EDGE_FIRST],
				(unsigned long long)tks.next_ord, c->dir);
	}
	int by_ordinal = 0;
	if (policy && strcmp(policy, v->s.policy)) {
		if (strcmp(policy, "first"))
			return wn_seterr(c, WN_E_STALE, "the clusters of %s choose survivors by '%s': run `winnow cluster -C %s "
				"--kind %s --survivor %s` to choose them by '%s'", c->dir, v->s.policy, c->dir, kname,
				policy, policy);
		by_ordinal = 1;
	}
	if (!strcmp(v->s.policy, "first"))
		by_ordinal = 1;
	if ((rc = superseded_bits(c, v->txn, kind, v->s.n, &v->dead)))
		return rc;
	return survivors(&v->s, v->dead, by_ordinal, &v->surv, &v->size);
}

/* What a reader keeps of a record it read: its id and the keys evidence shows. */
typedef struct minfo {
	size_t id, id_len, art, art_len, core, core_len, quals, quals_len, link, link_len;
	const char *rec;      /* get --cluster: the record (offset into text, as a pointer) */
	size_t rec_off, rec_len;
} minfo;

typedef struct reader {
	view *v;
	extractor x;
	uint32_t *slot;       /* ordinal -> index into info, NONE */
	minfo *info;
	size_t ninfo, infocap;
	wn_buf text;
	int keep_rec;
} reader;

static int put_str(wn_buf *b, const char *p, size_t n, size_t *off, size_t *len)
{
	*off = b->len;
	*len = n;
	return wn_buf_put(b, p, n);
}

static int read_one(void *ud, const char *rel, const wn_frameinfo *fi, uint64_t ord, const char *line, size_t len)
{
	reader *r = ud;
	int rc = extract(&r->x, rel, fi, ord, line, len);
	if (rc)
		return rc;
	if (WN_GROW(r->info, r->ninfo, r->infocap, 256))
		return WN_E_NOMEM;
	minfo *m = &r->info[r->ninfo];
	memset(m, 0, sizeof *m);
	/* the record must be the one the state was built from */
	if (r->x.k.hash != r->v->s.r[ord].m.id || r->x.k.check != r->v->s.r[ord].m.id_check)
		return wn_seterr(r->v->c, WN_E_CORRUPT, "%s/clusters/%s.bin does not match record %llu (%s): build the "
			"clusters again with `winnow cluster -C %s --kind %s --rebuild`", r->v->c->dir,
			r->v->s.kname, (unsigned long long)ord, rel, r->v->c->dir, r->v->s.kname);
	wn_buf *b = &r->text;
	if ((rc = put_str(b, r->x.k.id, r->x.k.id_len, &m->id, &m->id_len)))
		return rc;
	if (r->x.a.n && (rc = put_str(b, r->x.a.key[0].p, r->x.a.key[0].n, &m->art, &m->art_len)))
		return rc;
	if ((rc = put_str(b, r->x.t.core.p, r->x.t.core.n, &m->core, &m->core_len)))
		return rc;
	m->quals = b->len;
	rc = wn_buf_puts(b, "[");
	for (size_t i = 0; i < r->x.t.nqual && !rc; i++) {
		if (i)
			rc = wn_buf_puts(b, ",");
		if (!rc)
			rc = wn_buf_json_bytes(b, r->x.t.qual[i].p, r->x.t.qual[i].n);
	}
	if (!rc)
		rc = wn_buf_puts(b, "]");
	m->quals_len = b->len - m->quals;
	if (!rc && r->x.f->link)
		rc = put_str(b, r->x.f->link, r->x.f->link_len, &m->link, &m->link_len);
	if (!rc && r->keep_rec)
		rc = put_str(b, line, len, &m->rec_off, &m->rec_len);
	if (rc)
		return rc;
	r->slot[ord] = (uint32_t)r->ninfo++;
	return 0;
}

/* Read the records whose bits are set in want. */
static int reader_run(reader *r, view *v, const uint64_t *want, int keep_rec)
{
	memset(r, 0, sizeof *r);
	r->v = v;
	r->keep_rec = keep_rec;
	r->slot = malloc((v->s.n ? v->s.n : 1) * 4);
	if (!r->slot)
		return WN_E_NOMEM;
	for (uint64_t o = 0; o < v->s.n; o++)
		r->slot[o] = NONE;
	int rc = extractor_init(&r->x, v->c, v->s.kind, NULL);
	if (!rc)
		rc = scan_records(v->c, v->txn, v->s.kind, 0, v->s.n, want, NULL, read_one, r);
	return rc;
}

static void reader_free(reader *r)
{
	extractor_free(&r->x);
	free(r->slot);
	free(r->info);
	wn_buf_free(&r->text);
}

static const char *rtext(const reader *r, size_t off)
{
	return r->text.p + off;
}

/* The ISRC of a packed value, 12 characters. */
static void isrc_text(char out[13], uint64_t v)
{
	for (int i = 11; i >= 0; i--) {
		unsigned d = (unsigned)(v % 36);
		out[i] = (char)(d < 10 ? '0' + d : 'A' + d - 10);
		v /= 36;
	}
	out[12] = 0;
}

/* The evidence of the edge that joined member o (via -> to), as a JSON object. */
static int evidence(const reader *rd, const view *v, uint32_t o, wn_buf *b)
{
	const crec *r = &v->s.r[o], *a = &v->s.r[r->via], *t = &v->s.r[r->to];
	const minfo *ma = &rd->info[rd->slot[r->via]], *mt = &rd->info[rd->slot[r->to]];
	int rc = 0;
	switch (r->edge) {
	case WN_EDGE_ID:
		rc = wn_buf_puts(b, "{\"id\":");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, ma->id), ma->id_len);
		return rc ? rc : wn_buf_puts(b, "}");
	case WN_EDGE_LINK: {
		const minfo *m = a->link && a->link == t->m.id ? ma : mt;
		rc = wn_buf_puts(b, "{\"record\":");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, m->id), m->id_len);
		if (!rc)
			rc = wn_buf_puts(b, ",\"linked_from\":");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, m->link), m->link_len);
		return rc ? rc : wn_buf_puts(b, "}");
	}
	case WN_EDGE_ISRC: {
		char isrc[13] = "";
		for (int i = 0; i < 2 && !isrc[0]; i++)
			for (int j = 0; j < 2; j++)
				if (a->m.isrc[i] && a->m.isrc[i] == t->m.isrc[j])
					isrc_text(isrc, a->m.isrc[i]);
		return wn_buf_printf(b, "{\"isrc\":\"%s\",\"duration_ms\":[%u,%u]}", isrc, a->m.dur_ms, t->m.dur_ms);
	}
	case WN_EDGE_TEXT:
		if (v->s.artists) {   /* the name; the builder checked a shared track cluster */
			rc = wn_buf_puts(b, "{\"name\":");
			if (!rc)
				rc = wn_buf_json_bytes(b, rtext(rd, ma->art), ma->art_len);
			return rc ? rc : wn_buf_puts(b, ",\"shared_track_cluster\":true}");
		}
		rc = wn_buf_puts(b, "{\"artist\":");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, ma->art), ma->art_len);
		if (!rc)
			rc = wn_buf_puts(b, ",\"title\":");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, ma->core), ma->core_len);
		if (!rc)
			rc = wn_buf_puts(b, ",\"qualifiers\":");
		if (!rc)
			rc = wn_buf_put(b, rtext(rd, ma->quals), ma->quals_len);
		return rc ? rc : wn_buf_printf(b, ",\"duration_ms\":[%u,%u]}", a->m.dur_ms, t->m.dur_ms);
	case WN_EDGE_SIMILAR:
		rc = wn_buf_puts(b, "{\"artists\":[");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, ma->art), ma->art_len);
		if (!rc)
			rc = wn_buf_puts(b, ",");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, mt->art), mt->art_len);
		if (!rc)
			rc = wn_buf_puts(b, "],\"titles\":[");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, ma->core), ma->core_len);
		if (!rc)
			rc = wn_buf_puts(b, ",");
		if (!rc)
			rc = wn_buf_json_bytes(b, rtext(rd, mt->core), mt->core_len);
		return rc ? rc : wn_buf_printf(b, "],\"duration_ms\":[%u,%u],\"score\":%.3f}", a->m.dur_ms, t->m.dur_ms,
			wn_match_score(&a->m, &t->m));
	}
	return wn_buf_puts(b, "null");
}

/* Hand out the cluster of root (its surviving members, survivor first) to fn. */
static int emit_cluster(const reader *rd, const view *v, uint32_t root, const uint32_t *members, size_t n,
	wn_cluster_fn fn, void *ud)
{
	wn_cluster_member *m = calloc(n ? n : 1, sizeof *m);
	size_t *ev = malloc((n ? n : 1) * sizeof *ev);
	wn_buf b = { 0 };
	int rc = m && ev ? 0 : WN_E_NOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		ev[i] = b.len;
		rc = evidence(rd, v, members[i], &b);
	}
	if (!rc) {
		wn_cluster_view cv = { .kind = v->s.kname, .n = n, .m = m };
		cluster_hex(cv.id, v->s.kname, root);
		for (size_t i = 0; i < n; i++) {
			uint32_t o = members[i];
			const crec *r = &v->s.r[o];
			const minfo *mi = &rd->info[rd->slot[o]];
			m[i].id = rtext(rd, mi->id);
			m[i].id_len = mi->id_len;
			m[i].ordinal = o;
			m[i].edge = r->edge;
			if (r->edge != WN_EDGE_FIRST) {
				const minfo *mt = &rd->info[rd->slot[r->to]], *mv = &rd->info[rd->slot[r->via]];
				m[i].to = rtext(rd, mt->id);
				m[i].to_len = mt->id_len;
				m[i].via = rtext(rd, mv->id);
				m[i].via_len = mv->id_len;
			}
			m[i].evidence = b.p + ev[i];
			m[i].evidence_len = (i + 1 < n ? ev[i + 1] : b.len) - ev[i];
			if (rd->keep_rec) {
				m[i].rec = rtext(rd, mi->rec_off);
				m[i].rec_len = mi->rec_len;
			}
		}
		rc = fn(&cv, ud);
	}
	free(m);
	free(ev);
	wn_buf_free(&b);
	return rc;
}

/* Members of the selected clusters, grouped: order[] holds the surviving members of
 * each selected root, survivor first, then by ordinal; start[] where each group
 * begins (roots ascending). */
static int group(const view *v, const uint8_t *sel, uint32_t **order, size_t *norder)
{
	size_t n = 0;
	for (uint64_t o = 0; o < v->s.n; o++)
		n += sel[v->s.r[o].root] && !bit(v->dead, o);
	uint32_t *out = malloc((n ? n : 1) * 4);
	uint64_t *pos = calloc(v->s.n ? v->s.n : 1, 8);
	if (!out || !pos) {
		free(out);
		free(pos);
		return WN_E_NOMEM;
	}
	/* counting sort by root: the group of root r starts at pos[r] */
	size_t at = 0;
	for (uint64_t r = 0; r < v->s.n; r++)
		if (sel[r] && v->s.r[r].root == r) {
			pos[r] = at;
			at += v->size[r];
		}
	for (uint64_t r = 0; r < v->s.n; r++)
		if (sel[r] && v->s.r[r].root == r)
			out[pos[r]++] = v->surv[r];
	for (uint64_t o = 0; o < v->s.n; o++) {
		uint32_t r = v->s.r[o].root;
		if (sel[r] && !bit(v->dead, o) && o != v->surv[r])
			out[pos[r]++] = (uint32_t)o;
	}
	free(pos);
	*order = out;
	*norder = n;
	return 0;
}

/* Read the members of the selected clusters (and every record their edges name) and
 * hand the clusters out in the order of their first members. */
static int emit_selected(view *v, const uint8_t *sel, int keep_rec, wn_cluster_fn fn, void *ud)
{
	uint64_t *want = calloc(v->s.n / 64 + 1, 8);
	if (!want)
		return WN_E_NOMEM;
	for (uint64_t o = 0; o < v->s.n; o++)
		if (sel[v->s.r[o].root]) {
			uint32_t x[3] = { (uint32_t)o, v->s.r[o].to, v->s.r[o].via };
			for (int i = bit(v->dead, o) ? 1 : 0; i < 3; i++)
				want[x[i] >> 6] |= 1ull << (x[i] & 63);
		}
	reader rd;
	uint32_t *order = NULL;
	size_t n = 0;
	int rc = reader_run(&rd, v, want, keep_rec);
	if (!rc)
		rc = group(v, sel, &order, &n);
	for (size_t i = 0; i < n && !rc;) {
		uint32_t root = v->s.r[order[i]].root;
		size_t k = v->size[root];
		rc = emit_cluster(&rd, v, root, order + i, k, fn, ud);
		i += k;
	}
	free(order);
	free(want);
	reader_free(&rd);
	return rc;
}

int wn_dups(wn_catalog *c, const char *kind, uint64_t min_size, int edge, wn_cluster_fn fn, void *ud)
{
	view v;
	if (edge >= WN_NEDGES || edge == WN_EDGE_FIRST)
		return wn_seterr(c, WN_E_USAGE, "unknown edge kind %d", edge);
	int rc = view_open(c, kind, NULL, &v);
	uint8_t *sel = rc ? NULL : calloc(v.s.n ? v.s.n : 1, 1);
	if (!rc && !sel)
		rc = WN_E_NOMEM;
	if (!rc) {
		if (!min_size)
			min_size = 2;
		for (uint64_t r = 0; r < v.s.n; r++)
			sel[r] = v.s.r[r].root == r && v.surv[r] != NONE && v.size[r] >= min_size;
		if (edge > 0) {
			uint8_t *has = calloc(v.s.n ? v.s.n : 1, 1);
			if (!has)
				rc = WN_E_NOMEM;
			for (uint64_t o = 0; o < v.s.n && !rc; o++)
				if (!bit(v.dead, o) && v.s.r[o].edge == edge)
					has[v.s.r[o].root] = 1;
			for (uint64_t r = 0; r < v.s.n && !rc; r++)
				sel[r] &= has[r];
			free(has);
		}
	}
	if (!rc)
		rc = emit_selected(&v, sel, 0, fn, ud);
	free(sel);
	view_close(&v);
	return rc;
}

int wn_cluster_get(wn_catalog *c, const char *kind, const char *cluster_id, wn_cluster_fn fn, void *ud)
{
	view v;
	char want[33];
	size_t l = strlen(cluster_id);
	if (l != 32)
		return wn_seterr(c, WN_E_NOTFOUND, "no %s cluster \"%s\" (a cluster id is 32 hex digits)", kind ? kind : "track",
			cluster_id);
	for (size_t i = 0; i < 32; i++)
		want[i] = (char)(cluster_id[i] >= 'A' && cluster_id[i] <= 'F' ? cluster_id[i] + 32 : cluster_id[i]);
	want[32] = 0;
	int rc = view_open(c, kind, NULL, &v);
	uint8_t *sel = rc ? NULL : calloc(v.s.n ? v.s.n : 1, 1);
	if (!rc && !sel)
		rc = WN_E_NOMEM;
	int found = 0;
	for (uint64_t r = 0; r < v.s.n && !rc && !found; r++) {
		char hex[33];
		if (v.s.r[r].root != r || v.surv[r] == NONE)
			continue;
		cluster_hex(hex, v.s.kname, r);
		if (!strcmp(hex, want))
			sel[r] = found = 1;
	}
	if (!rc && !found)
		rc = wn_seterr(c, WN_E_NOTFOUND, "no %s cluster \"%s\"", v.s.kname, cluster_id);
	if (!rc)
		rc = emit_selected(&v, sel, 1, fn, ud);
	free(sel);
	view_close(&v);
	return rc;
}

typedef struct of_ud {
	char *cluster, *survivor;
	size_t cap;
} of_ud;

static int of_fn(const wn_cluster_view *v, void *ud)
{
	of_ud *u = ud;
	memcpy(u->cluster, v->id, 33);
	snprintf(u->survivor, u->cap, "%.*s", (int)v->m[0].id_len, v->m[0].id);
	return 0;
}

int wn_cluster_of(wn_catalog *c, const char *kind, const char *id, size_t idlen, char cluster[33], char *survivor,
	size_t survivor_cap)
{
	view v;
	int rc = view_open(c, kind, NULL, &v);
	if (rc) {
		view_close(&v);
		return rc;
	}
	uint64_t hash;
	uint16_t check;
	wn_idrec ir;
	wn_id_hash(id, idlen, &hash, &check);
	rc = wn_map_find_id(c, v.txn, v.s.kind, hash, check, &ir);
	if (rc == 0 || (rc == 1 && ir.ord >= v.s.n))
		rc = wn_seterr(c, WN_E_NOTFOUND, "no %s with id \"%.*s\"", v.s.kname, (int)(idlen > 200 ? 200 : idlen), id);
	else if (rc == 1) {
		uint8_t *sel = calloc(v.s.n, 1);
		of_ud u = { cluster, survivor, survivor_cap };
		rc = sel ? 0 : WN_E_NOMEM;
		if (sel) {
			sel[v.s.r[ir.ord].root] = 1;
			rc = emit_selected(&v, sel, 0, of_fn, &u);
		}
		free(sel);
	}
	view_close(&v);
	return rc;
}

typedef struct exp_ud {
	wn_emit_fn emit;
	void *ud;
} exp_ud;

static int export_one(void *ud, const char *rel, const wn_frameinfo *fi, uint64_t ord, const char *line, size_t len)
{
	(void)rel, (void)fi, (void)ord;
	exp_ud *e = ud;
	return e->emit(line, len, e->ud);
}

int wn_export_clusters(wn_catalog *c, const char *kind, const char *survivor, wn_emit_fn emit, void *ud)
{
	view v;
	int rc = view_open(c, kind, survivor, &v);
	uint64_t *want = rc ? NULL : calloc(v.s.n / 64 + 1, 8);
	if (!rc && !want)
		rc = WN_E_NOMEM;
	for (uint64_t r = 0; r < v.s.n && !rc; r++)
		if (v.s.r[r].root == r && v.surv[r] != NONE)
			want[v.surv[r] >> 6] |= 1ull << (v.surv[r] & 63);
	exp_ud e = { emit, ud };
	if (!rc)
		rc = scan_records(c, v.txn, v.s.kind, 0, v.s.n, want, NULL, export_one, &e);
	free(want);
	view_close(&v);
	return rc;
}

typedef struct cand_ud {
	const view *v;
	int (*fn)(const wn_candidate *x, void *ud);
	void *ud;
} cand_ud;

/* A candidate's evidence: the keys of both records (the later first). */
static int cand_evidence(const reader *rd, const view *v, const minfo *ma, const minfo *mb, const crec *a,
	const crec *b, wn_buf *ev)
{
	int rc = wn_buf_puts(ev, v->s.artists ? "{\"names\":[" : "{\"artists\":[");
	if (!rc)
		rc = wn_buf_json_bytes(ev, rtext(rd, ma->art), ma->art_len);
	if (!rc)
		rc = wn_buf_puts(ev, ",");
	if (!rc)
		rc = wn_buf_json_bytes(ev, rtext(rd, mb->art), mb->art_len);
	if (v->s.artists)
		return rc ? rc : wn_buf_puts(ev, "]}");
	if (!rc)
		rc = wn_buf_puts(ev, "],\"titles\":[");
	if (!rc)
		rc = wn_buf_json_bytes(ev, rtext(rd, ma->core), ma->core_len);
	if (!rc)
		rc = wn_buf_puts(ev, ",");
	if (!rc)
		rc = wn_buf_json_bytes(ev, rtext(rd, mb->core), mb->core_len);
	if (!rc)
		rc = wn_buf_puts(ev, "],\"qualifiers\":[");
	if (!rc)
		rc = wn_buf_put(ev, rtext(rd, ma->quals), ma->quals_len);
	if (!rc)
		rc = wn_buf_puts(ev, ",");
	if (!rc)
		rc = wn_buf_put(ev, rtext(rd, mb->quals), mb->quals_len);
	if (!rc)
		rc = wn_buf_puts(ev, "],\"duration_ms\":[");
	for (int i = 0; i < 2 && !rc; i++) {
		uint32_t d = (i ? b : a)->m.dur_ms;
		rc = d == WN_MATCH_NODUR ? wn_buf_puts(ev, i ? "null" : "null,") : wn_buf_printf(ev, i ? "%u" : "%u,", d);
	}
	return rc ? rc : wn_buf_puts(ev, "]}");
}

int wn_candidates(wn_catalog *c, const char *kind, int (*fn)(const wn_candidate *x, void *ud), void *ud)
{
	view v;
	wn_buf ev = { 0 };
	int rc = view_open(c, kind, NULL, &v);
	uint64_t *want = rc ? NULL : calloc(v.s.n / 64 + 1, 8);
	if (!rc && !want)
		rc = WN_E_NOMEM;
	for (size_t i = 0; i < v.s.ncand && !rc; i++) {
		const cand *x = &v.s.cand[i];
		want[x->a >> 6] |= 1ull << (x->a & 63);
		want[x->b >> 6] |= 1ull << (x->b & 63);
	}
	reader rd;
	memset(&rd, 0, sizeof rd);
	if (!rc)
		rc = reader_run(&rd, &v, want, 0);
	for (size_t i = 0; i < v.s.ncand && !rc; i++) {
		const cand *x = &v.s.cand[i];
		uint32_t ra = v.s.r[x->a].root, rb = v.s.r[x->b].root;
		if (ra == rb)
			continue;
		const minfo *ma = &rd.info[rd.slot[x->a]], *mb = &rd.info[rd.slot[x->b]];
		const crec *a = &v.s.r[x->a], *b = &v.s.r[x->b];
		ev.len = 0;
		if ((rc = cand_evidence(&rd, &v, ma, mb, a, b, &ev)))
			break;
		wn_candidate w = { .kind = v.s.kname, .a = rtext(&rd, ma->id), .a_len = ma->id_len, .b = rtext(&rd, mb->id),
			.b_len = mb->id_len, .via_edge = x->via, .reason = wn_guard_name(x->why),
			.score = x->why == WN_GUARD_SIMILAR ? wn_match_score(&a->m, &b->m) : -1, .evidence = ev.p,
			.evidence_len = ev.len };
		cluster_hex(w.cluster_a, v.s.kname, ra);
		cluster_hex(w.cluster_b, v.s.kname, rb);
		rc = fn(&w, ud);
	}
	reader_free(&rd);
	wn_buf_free(&ev);
	free(want);
	view_close(&v);
	return rc;
}

/* ---- verify ---- */

int wn_cluster_check(wn_catalog *c, int kind, uint64_t *records)
{
	cstate s;
	int rc = state_read(c, kind, &s);
	*records = s.n;
	state_free(&s);
	return rc;
}
