/*
 * source_sqlite.c - records from SQLite: the rows of the 2025 metadata dump's tracks (or
 * artists) table, or of any one table (--sqlite-table), or the dump's tracks and artists
 * denormalised (--sqlite-join).
 *
 * A track record of the dump is a row of its tracks table: every column, in table order,
 * rowid and join columns included. That is what the dump's JSONL tables hold too (one
 * tracks row a line, the same columns, values of the same types), so the same track read
 * from either form is the same record, a duplicate: the row is the one record both forms
 * have, and a join would give the SQLite form members the JSONL rows cannot have. An
 * artist record is likewise a row of the artists table.
 *
 * With --sqlite-join, the dump keeps a track's artists and album in other tables, joined
 * on integer rowids: tracks.album_rowid -> albums.rowid, track_artists(track_rowid,
 * artist_rowid) in credit order (it has no order column: its row order is the order),
 * artist_genres(artist_rowid, genre). A joined track record is the track's columns (but
 * the join columns rowid, album_rowid and available_markets_rowid) followed by
 *   "artists":[{"id":...,"name":...},...]   in track_artists row order, and
 *   "album":{"id","name","album_type","release_date","release_date_precision","label",
 *            "external_id_upc"}
 * and a joined artist record is the artist's columns (but rowid) and "genres":[...] in
 * artist_genres row order. INTEGER and REAL values are JSON numbers, TEXT strings, NULL
 * null, BLOB a string of lower-case hex. doc/INPUTS.md has the details.
 *
 * Streaming in constant memory: the main table is read with one statement in rowid order
 * (never loaded), and, joined, so is the child table (track_artists, artist_genres), merged with
 * it like two sorted files. The dump has no index on track_artists.track_rowid, so a
 * lookup per track would scan the table; instead, at open, one pass over the child
 * table's parent column checks that its rows come in parent order (they do in the
 * dump). If they do, the child is read in rowid order, which is then both parent order
 * and, within a parent, credit order. If not, and there is an index whose first column
 * is the parent column, the index is used; if neither, SQLite sorts the child table by
 * (parent, rowid) in a temporary file (slow on big tables, but right). Albums and artist
 * names are looked up by rowid (INTEGER PRIMARY KEY), behind small caches of their JSON.
 *
 * Positions: a record's "line" and offset are its rowid, and so is the position to resume
 * from: a resumed run starts the main statement after that rowid and finds the first
 * child row after it by binary search on the child's rowid (or, sorted, by a WHERE).
 * The database is opened read-only; its identity for resuming is its size and the
 * XXH3-64 of its first 64 KiB (the header, whose change counter moves on every write).
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include <xxhash.h>

enum { CH_MERGE, CH_INDEX, CH_SORTED };

typedef struct child {
	const char *table, *parent, *value;
	sqlite3_stmt *st;
	sqlite3_stmt *probe;    /* CH_MERGE: the parent of the first row at or after a rowid */
	int mode;
	int have;               /* st is on a row */
	int64_t cur;            /* the parent rowid of that row */
} child;

#define ALBUM_SLOTS 4096
#define ARTIST_SLOTS 65536

/* A statement "SELECT rowid, ... WHERE rowid >= ?1 ORDER BY rowid" used for lookups by
 * rowid: a lookup a few rows ahead steps forward instead of seeking again, which is what
 * albums need (a track's album is usually the last one's or the next). */
typedef struct fwd {
	sqlite3_stmt *st;
	int have;               /* st is on a row */
	int64_t cur;            /* its rowid */
} fwd;

typedef struct cached {
	int64_t rowid;          /* 0 = empty (rowids of the dump start at 1) */
	uint32_t len, cap;
	char *json;
} cached;

typedef struct sq {
	wn_source s;
	sqlite3 *db;
	int mode;               /* 0 tracks joined, 1 artists joined, 2 one table's rows */
	sqlite3_stmt *main;
	int ncols;              /* columns of main after rowid (and album_rowid) */
	int first_col;          /* index in main of the first JSON column */
	char **prefix;          /* {"name": or ,"name": */
	size_t *plen;
	int *skip;              /* column not in the record */
	const char **sprefix;   /* the prefixes of the selected columns only */
	size_t *splen;
	int nsel;
	child ch;
	fwd album, artist;
	cached *albums, *artists;
	int64_t min_rowid, max_rowid, last;
	int done;
	wn_buf out;
	wn_arena arena;
	char path_err[64];
} sq;

static int dberr(sq *q, const char *what)
{
	return wn_source_fail(&q->s, EIO, "sqlite: %s: %s", what, sqlite3_errmsg(q->db));
}

/* ---- JSON output (strings: wn_json_quote, the one escaper) ---- */

static inline char *put_int(char *o, int64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char tmp[24];
	int n = sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		n -= 2;
		memcpy(tmp + n, pairs + 2 * r, 2);
	}
	if (u >= 10) {
		n -= 2;
		memcpy(tmp + n, pairs + 2 * u, 2);
	} else {
		tmp[--n] = (char)('0' + u);
	}
	if (v < 0)
		*o++ = '-';
	memcpy(o, tmp + n, sizeof tmp - (size_t)n);
	return o + (sizeof tmp - (size_t)n);
}

#define PREFIX_PAD 32

/* Append columns first .. first+n-1 of st, column i preceded by the text prefix[i] (plen[i]
 * bytes, readable to at least PREFIX_PAD bytes): the values are fetched first, so that one
 * reservation covers the whole. */
static int put_columns(wn_buf *b, sqlite3_stmt *st, int first, int n, const char *const *prefix, const size_t *plen)
{
	static const char hex[] = "0123456789abcdef";
	for (int at = 0; at < n; at += 32) {
		sqlite3_value *v[32];
		int t[32], m = n - at < 32 ? n - at : 32;
		size_t need = 16;
		for (int i = 0; i < m; i++) {
			v[i] = sqlite3_column_value(st, first + at + i);
			t[i] = sqlite3_value_type(v[i]);
			need += plen[at + i] + 40;
			if (t[i] == SQLITE_TEXT || t[i] == SQLITE_BLOB)
				need += 6 * (size_t)sqlite3_value_bytes(v[i]);
		}
		if (wn_buf_reserve(b, need))
			return WN_E_NOMEM;
		char *o = b->p + b->len;
		for (int i = 0; i < m; i++) {
			if (plen[at + i] <= PREFIX_PAD)
				memcpy(o, prefix[at + i], PREFIX_PAD);   /* a fixed size: two moves */
			else
				memcpy(o, prefix[at + i], plen[at + i]);
			o += plen[at + i];
			switch (t[i]) {
			case SQLITE_INTEGER:
				o = put_int(o, sqlite3_value_int64(v[i]));
				break;
			case SQLITE_TEXT:
				o += wn_json_quote(o, (const char *)sqlite3_value_text(v[i]), (size_t)sqlite3_value_bytes(v[i]));
				break;
			case SQLITE_FLOAT: {
				double d = sqlite3_value_double(v[i]);
				if (d != d || d - d != 0) {
					memcpy(o, "null", 4);   /* NaN, infinities: not JSON */
					o += 4;
					break;
				}
				int k = snprintf(o, 32, "%.15g", d);
				if (strtod(o, NULL) != d)
					k = snprintf(o, 32, "%.17g", d);
				o += k;
				break;
			}
			case SQLITE_BLOB: {
				const uint8_t *s = sqlite3_value_blob(v[i]);
				size_t len = (size_t)sqlite3_value_bytes(v[i]);
				*o++ = '"';
				for (size_t k = 0; k < len; k++) {
					*o++ = hex[s[k] >> 4];
					*o++ = hex[s[k] & 15];
				}
				*o++ = '"';
				break;
			}
			default:
				memcpy(o, "null", 4);
				o += 4;
			}
		}
		b->len = (size_t)(o - b->p);
	}
	return 0;
}

/* ---- lookups by rowid, cached ---- */

static inline size_t slot_of(int64_t rowid, unsigned bits)
{
	return (size_t)(((uint64_t)rowid * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

static int fwd_step(sq *q, fwd *f)
{
	int rc = sqlite3_step(f->st);
	f->have = rc == SQLITE_ROW;
	if (f->have)
		f->cur = sqlite3_column_int64(f->st, 0);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dberr(q, "lookup");
}

/* The JSON of row `rowid` of a lookup statement (columns after the rowid named by keys),
 * or "null" when there is no such row. */
static int lookup(sq *q, fwd *f, const char *const *keys, const size_t *klen, int nkeys, cached *cache, unsigned bits,
	int64_t rowid, wn_buf *b)
{
	cached *c = &cache[slot_of(rowid, bits)];
	if (c->rowid == rowid && c->json) {
		if (wn_buf_reserve(b, c->len))
			return WN_E_NOMEM;
		memcpy(b->p + b->len, c->json, c->len);
		b->len += c->len;
		return 0;
	}
	size_t at = b->len;
	int rc = 0;
	for (int k = 0; k < 8 && f->have && f->cur < rowid && !rc; k++)
		rc = fwd_step(q, f);
	if (!rc && (!f->have || f->cur != rowid)) {
		sqlite3_reset(f->st);
		sqlite3_bind_int64(f->st, 1, rowid);
		rc = fwd_step(q, f);
	}
	if (rc)
		return rc;
	if (f->have && f->cur == rowid) {
		if (put_columns(b, f->st, 1, nkeys, keys, klen) || wn_buf_put(b, "}", 1))
			return WN_E_NOMEM;
	} else if (wn_buf_puts(b, "null")) {
		return WN_E_NOMEM;
	}
	size_t n = b->len - at;
	if (n > c->cap) {
		char *p = realloc(c->json, n);
		if (!p)
			return 0;   /* not cached: fine */
		c->json = p;
		c->cap = (uint32_t)n;
	}
	memcpy(c->json, b->p + at, n);
	c->len = (uint32_t)n;
	c->rowid = rowid;
	return 0;
}

/* the keys of the album and artist objects, and their lengths */
#define ALBUM_KEYS(X) X("{\"id\":") X(",\"name\":") X(",\"album_type\":") X(",\"release_date\":") \
	X(",\"release_date_precision\":") X(",\"label\":") X(",\"external_id_upc\":")
#define ARTIST_KEYS(X) X("{\"id\":") X(",\"name\":")
#define KEY_TEXT(s) { s },
#define KEY_LEN(s) sizeof(s) - 1,
static const char album_kpad[][PREFIX_PAD] = { ALBUM_KEYS(KEY_TEXT) };
static const char *const album_keys[] = { album_kpad[0], album_kpad[1], album_kpad[2], album_kpad[3], album_kpad[4],
	album_kpad[5], album_kpad[6] };
static const size_t album_klen[] = { ALBUM_KEYS(KEY_LEN) };
static const char artist_kpad[][PREFIX_PAD] = { ARTIST_KEYS(KEY_TEXT) };
static const char *const artist_keys[] = { artist_kpad[0], artist_kpad[1] };
static const size_t artist_klen[] = { ARTIST_KEYS(KEY_LEN) };

/* ---- the child table ---- */

static int child_step(sq *q, child *ch)
{
	int rc = sqlite3_step(ch->st);
	if (rc == SQLITE_ROW) {
		int64_t p = sqlite3_column_int64(ch->st, 0);
		if (ch->mode == CH_MERGE && ch->have && p < ch->cur)
			return wn_source_fail(&q->s, WN_E_CORRUPT, "%s: its rows are no longer in %s order (was the database changed "
				"while it was read?)", ch->table, ch->parent);
		ch->cur = p;
		ch->have = 1;
		return 0;
	}
	ch->have = 0;
	if (rc == SQLITE_DONE)
		return 0;
	return dberr(q, ch->table);
}

/* Position the child statement on its first row whose parent is greater than `after`. */
static int child_start(sq *q, child *ch, int64_t after)
{
	sqlite3_reset(ch->st);
	ch->have = 0;
	if (ch->mode != CH_MERGE) {
		sqlite3_bind_int64(ch->st, 1, after);
		return child_step(q, ch);
	}
	/* rows are in parent order: binary search on rowid for the first parent > after */
	int64_t lo = INT64_MIN, hi = INT64_MAX;
	if (after != INT64_MIN) {
		sqlite3_stmt *mm;
		char sql[200];
		snprintf(sql, sizeof sql, "SELECT (SELECT min(rowid) FROM \"%s\"), (SELECT max(rowid) FROM \"%s\")", ch->table,
			ch->table);
		if (sqlite3_prepare_v2(q->db, sql, -1, &mm, NULL) != SQLITE_OK)
			return dberr(q, ch->table);
		if (sqlite3_step(mm) == SQLITE_ROW && sqlite3_column_type(mm, 0) != SQLITE_NULL) {
			lo = sqlite3_column_int64(mm, 0);
			hi = sqlite3_column_int64(mm, 1) + 1;
		} else {
			lo = hi = 0;
		}
		sqlite3_finalize(mm);
		while (lo < hi) {
			int64_t mid = lo + (hi - lo) / 2;
			sqlite3_bind_int64(ch->probe, 1, mid);
			int rc = sqlite3_step(ch->probe);
			int later = rc != SQLITE_ROW || sqlite3_column_int64(ch->probe, 0) > after;
			if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
				sqlite3_reset(ch->probe);
				return dberr(q, ch->table);
			}
			sqlite3_reset(ch->probe);
			if (later)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	sqlite3_bind_int64(ch->st, 1, lo);
	return child_step(q, ch);
}

/* Does some index of the child table start with its parent column? */
static int has_parent_index(sq *q, const child *ch)
{
	char sql[300];
	sqlite3_stmt *st;
	int found = 0;
	snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_index_list('%s') AS l, pragma_index_info(l.name) AS i "
		"WHERE i.seqno = 0 AND i.name = '%s'", ch->table, ch->parent);
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* One pass over the parent column in rowid order: 1 if it never goes down, 0 if it does. */
static int in_parent_order(sq *q, const child *ch, int *ordered)
{
	char sql[300];
	sqlite3_stmt *st;
	snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"%s\" ORDER BY rowid", ch->parent, ch->table);
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return dberr(q, ch->table);
	int64_t prev = INT64_MIN;
	int rc;
	*ordered = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t p = sqlite3_column_int64(st, 0);
		if (p < prev) {
			*ordered = 0;
			break;
		}
		prev = p;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dberr(q, ch->table);
}

static int child_open(sq *q, child *ch, const char *table, const char *parent, const char *value)
{
	char sql[400];
	int ordered, rc;
	ch->table = table;
	ch->parent = parent;
	ch->value = value;
	if ((rc = in_parent_order(q, ch, &ordered)))
		return rc;
	ch->mode = ordered ? CH_MERGE : has_parent_index(q, ch) ? CH_INDEX : CH_SORTED;
	if (ch->mode == CH_MERGE) {
		snprintf(sql, sizeof sql, "SELECT \"%s\", \"%s\" FROM \"%s\" WHERE rowid >= ?1 ORDER BY rowid", parent, value, table);
		if (sqlite3_prepare_v2(q->db, sql, -1, &ch->st, NULL) != SQLITE_OK)
			return dberr(q, table);
		snprintf(sql, sizeof sql, "SELECT \"%s\" FROM \"%s\" WHERE rowid >= ?1 ORDER BY rowid LIMIT 1", parent, table);
		if (sqlite3_prepare_v2(q->db, sql, -1, &ch->probe, NULL) != SQLITE_OK)
			return dberr(q, table);
	} else {
		snprintf(sql, sizeof sql, "SELECT \"%s\", \"%s\" FROM \"%s\" WHERE \"%s\" > ?1 ORDER BY \"%s\", rowid", parent,
			value, table, parent, parent);
		if (sqlite3_prepare_v2(q->db, sql, -1, &ch->st, NULL) != SQLITE_OK)
			return dberr(q, table);
	}
	return 0;
}

/* ---- records ---- */

/* Append a constant (a few bytes) */
static inline int put_lit(wn_buf *b, const char *s, size_t n)
{
	if (wn_buf_reserve(b, n))
		return WN_E_NOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static int make_record(sq *q, int64_t rowid)
{
	wn_buf *b = &q->out;
	sqlite3_stmt *st = q->main;
	int rc;
	b->len = 0;
	if (put_columns(b, st, q->first_col, q->nsel, q->sprefix, q->splen))
		return WN_E_NOMEM;
	if (q->mode == 2)
		return put_lit(b, "}", 1);
	/* children: skip rows of parents that are not in the main table, take ours */
	child *ch = &q->ch;
	while (ch->have && ch->cur < rowid)
		if ((rc = child_step(q, ch)))
			return rc;
	if (q->mode == 0 ? put_lit(b, ",\"artists\":[", 12) : put_lit(b, ",\"genres\":[", 11))
		return WN_E_NOMEM;
	static const char comma_pad[][PREFIX_PAD] = { "", "," };
	static const char *const comma[] = { comma_pad[0], comma_pad[1] };
	static const size_t comma_len[] = { 0, 1 };
	int n = 0;
	while (ch->have && ch->cur == rowid) {
		if (q->mode == 0) {
			if (n && put_lit(b, ",", 1))
				return WN_E_NOMEM;
			rc = lookup(q, &q->artist, artist_keys, artist_klen, 2, q->artists, 16, sqlite3_column_int64(ch->st, 1), b);
		} else {
			rc = put_columns(b, ch->st, 1, 1, comma + (n > 0), comma_len + (n > 0));
		}
		n++;
		if (rc || (rc = child_step(q, ch)))
			return rc;
	}
	if (put_lit(b, "]", 1))
		return WN_E_NOMEM;
	if (q->mode == 0) {
		if (put_lit(b, ",\"album\":", 9))
			return WN_E_NOMEM;
		if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			rc = put_lit(b, "null", 4);
		else
			rc = lookup(q, &q->album, album_keys, album_klen, 7, q->albums, 12, sqlite3_column_int64(st, 1), b);
		if (rc)
			return rc;
	}
	return put_lit(b, "}", 1);
}

static int sq_next(wn_source *s, wn_srec *r, int may_move)
{
	sq *q = (sq *)s;
	if (may_move)
		wn_arena_reset(&q->arena);
	if (q->done)
		return 0;
	int rc = sqlite3_step(q->main);
	if (rc == SQLITE_DONE) {
		q->done = 1;
		q->last = q->max_rowid;
		return 0;
	}
	if (rc != SQLITE_ROW)
		return dberr(q, "read");
	int64_t rowid = sqlite3_column_int64(q->main, 0);
	if ((rc = make_record(q, rowid)))
		return rc;
	if (!(r->rec = wn_arena_copy(&q->arena, q->out.p, q->out.len)))
		return WN_E_NOMEM;
	r->len = q->out.len;
	r->off = r->lineno = r->end = (uint64_t)rowid;
	r->toolong_len = 0;
	r->code = 0;
	r->why = NULL;
	q->last = rowid;
	return 1;
}

static int start_at(sq *q, int64_t after)
{
	sqlite3_reset(q->main);
	sqlite3_bind_int64(q->main, 1, after);
	q->done = 0;
	if (q->mode != 2)
		return child_start(q, &q->ch, after);
	return 0;
}

static int sq_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	sq *q = (sq *)s;
	(void)recno;
	return start_at(q, (int64_t)pos);
}

/* Progress in bytes: the file's size times the part of the rowid range done. */
static uint64_t sq_consumed(wn_source *s)
{
	sq *q = (sq *)s;
	if (q->max_rowid <= q->min_rowid || q->last <= q->min_rowid)
		return q->done ? s->size : 0;
	double part = (double)(q->last - q->min_rowid) / (double)(q->max_rowid - q->min_rowid);
	return (uint64_t)(part * (double)s->size);
}

static void sq_close(wn_source *s)
{
	sq *q = (sq *)s;
	sqlite3_finalize(q->main);
	sqlite3_finalize(q->ch.st);
	sqlite3_finalize(q->ch.probe);
	sqlite3_finalize(q->album.st);
	sqlite3_finalize(q->artist.st);
	sqlite3_close(q->db);
	for (int i = 0; q->prefix && i < q->ncols; i++)
		free(q->prefix[i]);
	free(q->prefix);
	free(q->plen);
	free(q->skip);
	free(q->sprefix);
	free(q->splen);
	for (size_t i = 0; q->albums && i < ALBUM_SLOTS; i++)
		free(q->albums[i].json);
	for (size_t i = 0; q->artists && i < ARTIST_SLOTS; i++)
		free(q->artists[i].json);
	free(q->albums);
	free(q->artists);
	wn_buf_free(&q->out);
	wn_arena_free(&q->arena);
	free(q);
}

/* ---- opening ---- */

/* Whether table `name` exists (*found): 0, or the error when the schema cannot be read
 * (a damaged or cut file: "database disk image is malformed"), which is not "no table". */
static int table_exists(sq *q, const char *name, int *found)
{
	sqlite3_stmt *st;
	*found = 0;
	if (sqlite3_prepare_v2(q->db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", -1, &st, NULL) != SQLITE_OK)
		return dberr(q, "reading the schema");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		dberr(q, "reading the schema");
		sqlite3_finalize(st);
		return EIO;
	}
	sqlite3_finalize(st);
	return 0;
}

static void table_list(sq *q, wn_buf *b)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1, &st, NULL) !=
	    SQLITE_OK)
		return;
	for (int n = 0; sqlite3_step(st) == SQLITE_ROW && b->len < 160; n++)
		wn_buf_printf(b, "%s%s", n ? ", " : "", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* Prepare the main statement over `table`: rowid, [album_rowid,] then every column. */
static int open_main(sq *q, const char *table)
{
	wn_buf sql = { 0 }, key = { 0 };
	sqlite3_stmt *info;
	int rc = 0, n = 0;
	char *isql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q) ORDER BY cid", table);
	if (!isql || sqlite3_prepare_v2(q->db, isql, -1, &info, NULL) != SQLITE_OK) {
		sqlite3_free(isql);
		return dberr(q, table);
	}
	sqlite3_free(isql);
	wn_buf_puts(&sql, q->mode == 0 ? "SELECT rowid, album_rowid" : "SELECT rowid");
	q->first_col = q->mode == 0 ? 2 : 1;
	while ((rc = sqlite3_step(info)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(info, 0);
		char **pp = realloc(q->prefix, (size_t)(n + 1) * sizeof *pp);
		size_t *pl = pp ? realloc(q->plen, (size_t)(n + 1) * sizeof *pl) : NULL;
		int *sk = pl ? realloc(q->skip, (size_t)(n + 1) * sizeof *sk) : NULL;
		if (pp)
			q->prefix = pp;
		if (pl)
			q->plen = pl;
		if (!sk) {
			rc = WN_E_NOMEM;
			break;
		}
		q->skip = sk;
		q->prefix[n] = NULL;
		q->ncols = n + 1;
		/* the dump's join columns are not part of the record (its own rowid neither) */
		q->skip[n] = q->mode != 2 && (!strcmp(name, "rowid") || (q->mode == 0 && (!strcmp(name, "album_rowid") ||
			!strcmp(name, "available_markets_rowid"))));
		key.len = 0;
		int first = 1;
		for (int i = 0; i < n; i++)
			first &= q->skip[i];
		if (wn_buf_put(&key, first ? "{" : ",", 1) || wn_buf_json_str(&key, name, strlen(name)) || wn_buf_put(&key, ":", 1) ||
		    !(q->prefix[n] = calloc(1, key.len > PREFIX_PAD ? key.len : PREFIX_PAD))) {
			rc = WN_E_NOMEM;
			break;
		}
		memcpy(q->prefix[n], key.p, key.len);
		q->plen[n] = key.len;
		char *qn = q->skip[n] ? sqlite3_mprintf("") : sqlite3_mprintf(", \"%w\"", name);
		if (!qn || wn_buf_puts(&sql, qn)) {
			sqlite3_free(qn);
			rc = WN_E_NOMEM;
			break;
		}
		sqlite3_free(qn);
		n++;
	}
	sqlite3_finalize(info);
	if (rc != SQLITE_DONE) {
		wn_buf_free(&sql);
		wn_buf_free(&key);
		return rc == WN_E_NOMEM ? rc : dberr(q, table);
	}
	char *from = sqlite3_mprintf(" FROM \"%w\" WHERE rowid > ?1 ORDER BY rowid", table);
	rc = !from || wn_buf_puts(&sql, from) ? WN_E_NOMEM : 0;
	sqlite3_free(from);
	wn_buf_free(&key);
	if (!rc && !n)
		rc = wn_source_fail(&q->s, WN_E_USAGE, "table %s has no columns", table);
	if (!rc && sqlite3_prepare_v2(q->db, sql.p, -1, &q->main, NULL) != SQLITE_OK)
		rc = strstr(sqlite3_errmsg(q->db), "rowid") ? wn_source_fail(&q->s, WN_E_USAGE, "table %s has no rowid (WITHOUT ROWID): "
			"winnow reads tables in rowid order", table) : dberr(q, table);
	wn_buf_free(&sql);
	if (rc)
		return rc;
	q->sprefix = malloc((size_t)n * sizeof *q->sprefix);
	q->splen = malloc((size_t)n * sizeof *q->splen);
	if (!q->sprefix || !q->splen)
		return WN_E_NOMEM;
	for (int i = 0; i < n; i++)
		if (!q->skip[i]) {
			q->sprefix[q->nsel] = q->prefix[i];
			q->splen[q->nsel++] = q->plen[i];
		}
	/* the rowid range, for progress (min and max in one query would scan the table) */
	char *mm = sqlite3_mprintf("SELECT (SELECT min(rowid) FROM \"%w\"), (SELECT max(rowid) FROM \"%w\")", table, table);
	sqlite3_stmt *st;
	if (mm && sqlite3_prepare_v2(q->db, mm, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			q->min_rowid = sqlite3_column_int64(st, 0);
			q->max_rowid = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	sqlite3_free(mm);
	return 0;
}

static int identity(sq *q, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wn_source_fail(&q->s, errno, "%s", strerror(errno));
	struct stat stt;
	char head[65536];
	ssize_t got = 0;
	int rc = 0;
	if (fstat(fd, &stt) || !S_ISREG(stt.st_mode))
		rc = wn_source_fail(&q->s, WN_E_USAGE, "an SQLite database must be a regular file");
	else {
		while (got < (ssize_t)sizeof head) {
			ssize_t r = read(fd, head + got, sizeof head - (size_t)got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += r;
		}
		if (got < 16 || memcmp(head, "SQLite format 3", 16))
			rc = wn_source_fail(&q->s, WN_E_USAGE, "not an SQLite database (no \"SQLite format 3\" header)");
		q->s.regular = 1;
		q->s.size = (uint64_t)stt.st_size;
		q->s.dev = (uint64_t)stt.st_dev;
		q->s.ino = (uint64_t)stt.st_ino;
		q->s.head_hash = XXH3_64bits(head, (size_t)(got > 0 ? got : 0));
	}
	close(fd);
	return rc;
}

int wn_source_sqlite(wn_source **out, const char *path, const wn_ingest_opts *o)
{
	sq *q = calloc(1, sizeof *q);
	*out = NULL;
	if (!q)
		return WN_E_NOMEM;
	q->s.name = strcmp(path, "-") ? path : "(stdin)";
	q->s.next = sq_next;
	q->s.skip = sq_skip;
	q->s.consumed = sq_consumed;
	q->s.close = sq_close;
	*out = &q->s;
	if (!strcmp(path, "-"))
		return wn_source_fail(&q->s, WN_E_USAGE, "an SQLite database must be read from a file, not from standard input");
	if (wn_encoding_parse(o->encoding) > WN_ENC_UTF8)
		return wn_source_fail(&q->s, WN_E_USAGE, "--encoding does not apply to SQLite, whose text is UTF-8");
	int rc = identity(q, path);
	if (rc)
		return rc;
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return dberr(q, "open");
	/* No memory map: the ingest keeps its resident memory within --memory and counts
	 * mapped file pages in it (index pages), so a map of a 117 GB database would crowd
	 * them out. Pages are read into SQLite's own cache instead, which is bounded. */
	sqlite3_exec(q->db, "PRAGMA mmap_size = 0; PRAGMA cache_size = -16384", NULL, NULL, NULL);
	/* the dump's tables: the kind's own, and with --sqlite-join those it is joined with */
	const char *table = o->sqlite_table;
	if (table && o->sqlite_join)
		return wn_source_fail(&q->s, WN_E_USAGE, "--sqlite-join joins the dump's tracks or artists, not a --sqlite-table");
	q->mode = 2;
	if (!table) {
		int artist = o->kind && !strcmp(o->kind, "artist");
		if (o->sqlite_join)
			q->mode = artist ? 1 : 0;
		table = artist ? "artists" : "tracks";
		const char *need[] = { table, artist ? "artist_genres" : "track_artists", "artists", "albums" };
		for (int i = 0; i < (q->mode == 2 ? 1 : artist ? 2 : 4); i++) {
			int found;
			if ((rc = table_exists(q, need[i], &found)))
				return rc;
			if (!found) {
				wn_buf b = { 0 };
				table_list(q, &b);
				wn_source_fail(&q->s, WN_E_USAGE, "no table \"%s\", so this is not the dump's %s database (its tables: %s); "
					"read one table as it is with --sqlite-table TABLE", need[i], artist ? "artist" : "track",
					b.p ? b.p : "none");
				wn_buf_free(&b);
				return WN_E_USAGE;
			}
		}
	}
	int found;
	if ((rc = table_exists(q, table, &found)))
		return rc;
	if (!found) {
		wn_buf b = { 0 };
		table_list(q, &b);
		wn_source_fail(&q->s, WN_E_USAGE, "no table \"%s\" (its tables: %s)", table, b.p ? b.p : "none");
		wn_buf_free(&b);
		return WN_E_USAGE;
	}
	if ((rc = open_main(q, table)))
		return rc;
	if (q->mode == 0) {
		if ((rc = child_open(q, &q->ch, "track_artists", "track_rowid", "artist_rowid")))
			return rc;
		if (sqlite3_prepare_v2(q->db, "SELECT rowid, id, name, album_type, release_date, release_date_precision, label, "
			"external_id_upc FROM albums WHERE rowid >= ?1 ORDER BY rowid", -1, &q->album.st, NULL) != SQLITE_OK)
			return dberr(q, "albums");
		if (sqlite3_prepare_v2(q->db, "SELECT rowid, id, name FROM artists WHERE rowid >= ?1 ORDER BY rowid", -1,
			&q->artist.st, NULL) != SQLITE_OK)
			return dberr(q, "artists");
		q->albums = calloc(ALBUM_SLOTS, sizeof *q->albums);
		q->artists = calloc(ARTIST_SLOTS, sizeof *q->artists);
		if (!q->albums || !q->artists)
			return WN_E_NOMEM;
	} else if (q->mode == 1) {
		if ((rc = child_open(q, &q->ch, "artist_genres", "artist_rowid", "genre")))
			return rc;
	}
	return start_at(q, INT64_MIN);
}
