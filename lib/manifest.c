/*
 * manifest.c - the bytes of a catalog's manifests (doc/FORMAT.md section 7): MANIFEST in
 * xxhsum's BSD tag format, SHA256SUMS in sha256sum's, MANIFEST.json and catalog.json.
 *
 * catalog.c decides when they are written and from what (the index, in one read
 * transaction) and replaces them atomically; verify reads them back. Both sides go
 * through this file, so the formats have one owner: the members of a MANIFEST.json file
 * object are one table (mfields) that the writer walks in order and the reader looks keys
 * up in, and the counts are one list of names. The readers take what they know and pass
 * over the rest, as FORMAT.md asks of readers; they work on text that json.c's strict
 * parser has already accepted, so they only report where the layout is not winnow's.
 */
#include <stddef.h>

#include "internal.h"
#include "jread.h"
#include "manifest.h"

/* ---- MANIFEST and SHA256SUMS ---- */

int wn_manifest_xxh_line(wn_buf *b, const char *rel, size_t rl, const uint8_t xxh[16])
{
	char hex[33];
	wn_hex(hex, xxh, 16);
	return wn_buf_printf(b, "XXH128 (%.*s) = %s\n", (int)rl, rel, hex);
}

int wn_manifest_sha_line(wn_buf *b, const char *rel, size_t rl, const uint8_t sha[32])
{
	char hex[65];
	wn_hex(hex, sha, 32);
	return wn_buf_printf(b, "%s  %.*s\n", hex, (int)rl, rel);
}

/* xxhsum 0.8 reads a BSD tag line "XXH128 (PATH) = HASH" (the tag starts with XXH128;
 * "_LE" in it means the digits are little-endian), or a GNU line "HASH  PATH" (it skips
 * whatever character follows the first space). */
const char *wn_manifest_parse_xxh(const char *line, size_t n, const char **path, size_t *plen, uint8_t h[16])
{
	const char *sp = memchr(line, ' ', n), *end = line + n, *hex;
	size_t hl;
	int le = 0;
	if (!sp || sp + 1 >= end)
		return "not a checksum line";
	if (sp[1] == '(') {
		const char *last = end - 1;
		while (last > sp && *last != ' ')
			last--;
		if (last - sp < 5 || last[-1] != '=' || last[-2] != ' ' || last[-3] != ')')
			return "not a checksum line (want \"XXH128 (PATH) = HASH\")";
		size_t tl = (size_t)(sp - line);
		if (tl < 6 || memcmp(line, "XXH128", 6))
			return "not an XXH128 line";
		le = memmem(line, tl, "_LE", 3) != NULL;
		*path = sp + 2;
		*plen = (size_t)(last - 3 - (sp + 2));
		hex = last + 1;
		hl = (size_t)(end - hex);
	} else {
		hex = line;
		hl = (size_t)(sp - line);
		*path = sp + 2;
		*plen = (size_t)(end - (sp + 2));
		if (hl != 32 || wn_unhex(h, hex, 16))
			return "not a checksum line (want \"XXH128 (PATH) = HASH\" or \"HASH  PATH\")";
	}
	if (hl != 32 || wn_unhex(h, hex, 16))
		return "the hash is not 32 hex digits";
	if (memchr(*path, 0, *plen))
		return "the file name holds a NUL byte";
	if (le)
		for (int i = 0; i < 8; i++) {
			uint8_t t = h[i];
			h[i] = h[15 - i];
			h[15 - i] = t;
		}
	if (!*plen)
		return "no file name";
	return NULL;
}

/* sha256sum writes "HASH  PATH" (or "HASH *PATH"); the BSD tag form is
 * "SHA256 (PATH) = HASH". */
const char *wn_manifest_parse_sha(const char *line, size_t n, const char **path, size_t *plen, uint8_t h[32])
{
	if (n > 10 && !memcmp(line, "SHA256 (", 8)) {
		if (n < 8 + 1 + 4 + 64 || memcmp(line + n - 64 - 4, ") = ", 4))
			return "not a checksum line (want \"HASH  PATH\")";
		*path = line + 8;
		*plen = n - 64 - 4 - 8;
		if (wn_unhex(h, line + n - 64, 32))
			return "the hash is not 64 hex digits";
	} else {
		if (n < 64 + 3 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
			return "not a checksum line (want \"HASH  PATH\")";
		if (wn_unhex(h, line, 32))
			return "the hash is not 64 hex digits";
		*path = line + 66;
		*plen = n - 66;
	}
	if (!*plen)
		return "no file name";
	if (memchr(*path, 0, *plen))
		return "the file name holds a NUL byte";
	return NULL;
}

/* ---- counts ---- */

static const char *const count_names[WN_NCOUNTS] = {
	"records",
#define WN_X(n) #n,
	WN_OUTCOMES(WN_X)
#undef WN_X
};

const char *wn_count_name(int i)
{
	return i >= 0 && i < WN_NCOUNTS ? count_names[i] : "?";
}

void wn_counts_of(const wn_kstate *s, uint64_t out[WN_NCOUNTS])
{
	int i = 0;
	out[i++] = s->kept;   /* records: the survivors */
#define WN_X(n) out[i++] = s->n;
	WN_OUTCOMES(WN_X)
#undef WN_X
}

/* "track":{"records":N,...},"artist":{...},...: every kind of the table */
static int counts_json(wn_buf *b, const wn_kinds *kinds, const wn_kstate *ks)
{
	int rc = 0;
	for (int k = 0; k < kinds->n; k++) {
		uint64_t v[WN_NCOUNTS];
		wn_counts_of(&ks[k], v);
		rc |= wn_buf_printf(b, "%s\"%s\":{", k ? "," : "", kinds->name[k]);
		for (int i = 0; i < WN_NCOUNTS; i++)
			rc |= wn_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", count_names[i], (unsigned long long)v[i]);
		if (ks[k].forgotten)
			rc |= wn_buf_printf(b, ",\"forgotten\":%llu", (unsigned long long)ks[k].forgotten);
		rc |= wn_buf_puts(b, "}");
	}
	return rc ? WN_E_NOMEM : 0;
}

/* ---- MANIFEST.json and catalog.json, written ---- */

enum { MF_PATH, MF_ROLE, MF_KIND, MF_NUM, MF_HEX };

/* The members of a file object, in the order they are written; size: bytes of a hash */
static const struct mfield {
	const char *name;
	uint8_t type, size;
	size_t off;     /* in wn_mfile */
} mfields[WN_MF_N] = {
	[WN_MF_PATH] = { "path", MF_PATH, 0, 0 },
	[WN_MF_ROLE] = { "role", MF_ROLE, 0, offsetof(wn_mfile, role) },
	[WN_MF_KIND] = { "kind", MF_KIND, 0, offsetof(wn_mfile, kind) },
	[WN_MF_BYTES] = { "bytes", MF_NUM, 0, offsetof(wn_mfile, bytes) },
	[WN_MF_RAW_BYTES] = { "raw_bytes", MF_NUM, 0, offsetof(wn_mfile, raw_bytes) },
	[WN_MF_RECORDS] = { "records", MF_NUM, 0, offsetof(wn_mfile, records) },
	[WN_MF_FRAMES] = { "frames", MF_NUM, 0, offsetof(wn_mfile, frames) },
	[WN_MF_XXH128] = { "xxh128", MF_HEX, 16, offsetof(wn_mfile, xxh128) },
	[WN_MF_FIRST_ORDINAL] = { "first_ordinal", MF_NUM, 0, offsetof(wn_mfile, first_ordinal) },
	[WN_MF_LAST_ORDINAL] = { "last_ordinal", MF_NUM, 0, offsetof(wn_mfile, last_ordinal) },
	[WN_MF_SHA256] = { "sha256", MF_HEX, 32, offsetof(wn_mfile, sha256) },
};

/* What MANIFEST.json says of a sealed file, from its files row. */
static void mfile_of(wn_mfile *m, const wn_fileinfo *f)
{
	*m = (wn_mfile){ .role = f->role, .kind = f->kind, .bytes = f->size, .raw_bytes = f->raw_bytes,
		.records = f->nrecords, .frames = f->nframes };
	memcpy(m->xxh128, f->xxh128, 16);
	for (int i = WN_MF_PATH; i <= WN_MF_XXH128; i++)
		m->have[i] = 1;
	if (f->role == WN_ROLE_SHARD && f->nrecords) {
		m->first_ordinal = f->first_ord;
		m->last_ordinal = f->first_ord + f->nrecords - 1;
		m->have[WN_MF_FIRST_ORDINAL] = m->have[WN_MF_LAST_ORDINAL] = 1;
	}
	if (f->has_sha256) {
		memcpy(m->sha256, f->sha256, 32);
		m->have[WN_MF_SHA256] = 1;
	}
}

static int put_member(wn_buf *b, const struct mfield *d, const wn_mfile *m, const char *kind)
{
	const char *p = (const char *)m + d->off;
	char hex[65];
	int rc = wn_buf_printf(b, ",\"%s\":", d->name);
	switch (d->type) {
	case MF_ROLE: return rc | wn_buf_printf(b, "\"%s\"", wn_role_name(*(const int *)p));
	case MF_KIND: return rc | wn_buf_printf(b, "\"%s\"", kind);
	case MF_NUM: return rc | wn_buf_put_u64(b, *(const uint64_t *)p);
	}
	wn_hex(hex, (const uint8_t *)p, d->size);
	return rc | wn_buf_printf(b, "\"%s\"", hex);
}

int wn_manifest_json_begin(wn_buf *b, uint64_t generation)
{
	return wn_buf_printf(b, "{\"format_version\":%d,\"fingerprint_version\":%d,\"generation\":%llu,\"files\":[",
		WN_FORMAT_VERSION, WN_FP_VERSION, (unsigned long long)generation);
}

int wn_manifest_json_file(wn_buf *b, const char *rel, size_t rl, const wn_fileinfo *f, const char *kind, int first)
{
	wn_mfile m;
	mfile_of(&m, f);
	int rc = wn_buf_puts(b, first ? "\n  {\"path\":" : ",\n  {\"path\":");
	rc |= wn_buf_json_str(b, rel, rl);
	for (int i = WN_MF_PATH + 1; i < WN_MF_N; i++)
		if (m.have[i])
			rc |= put_member(b, &mfields[i], &m, kind);
	rc |= wn_buf_puts(b, "}");
	return rc ? WN_E_NOMEM : 0;
}

int wn_manifest_json_end(wn_buf *b, const wn_kinds *kinds, const wn_kstate *ks)
{
	int rc = wn_buf_puts(b, "\n],\"counts\":{");
	rc |= counts_json(b, kinds, ks);
	rc |= wn_buf_puts(b, "}}\n");
	return rc ? WN_E_NOMEM : 0;
}

int wn_catalog_json(wn_buf *b, uint64_t generation, int interrupted, const char *profiles_json,
	const char *tombstones_json, const wn_kinds *kinds, const wn_kstate *ks)
{
	int rc = wn_buf_printf(b, "{\"format\":\"winnow catalog\",\"format_version\":%d,\"fingerprint_version\":%d,"
		"\"fingerprint\":\"XXH3-128 of the canonical form (doc/FORMAT.md)\",\"generation\":%llu,"
		"\"interrupted_run\":%s,\"profiles\":", WN_FORMAT_VERSION, WN_FP_VERSION,
		(unsigned long long)generation, interrupted ? "true" : "false");
	rc |= wn_buf_puts(b, profiles_json ? profiles_json : "null");
	if (tombstones_json) {
		rc |= wn_buf_puts(b, ",\"tombstones\":");
		rc |= wn_buf_puts(b, tombstones_json);
	}
	rc |= wn_buf_puts(b, ",\"counts\":{");
	rc |= counts_json(b, kinds, ks);
	rc |= wn_buf_puts(b, "}}\n");
	return rc ? WN_E_NOMEM : 0;
}

/* ---- MANIFEST.json and catalog.json, read ---- */

/* The reader: the token reader, and the line it is on (counted as it moves on), so that
 * what is wrong can be named by line. */
typedef struct mjr {
	wn_jread j;
	const char *lp;                 /* newlines counted up to here */
	unsigned line;
	const wn_mjson_cb *cb;
	wn_kinds *kinds;                /* grows as kinds are met */
} mjr;

static unsigned line_here(mjr *r)
{
	wn_jread_ws(&r->j);
	for (; r->lp < r->j.p; r->lp++)
		if (*r->lp == '\n')
			r->line++;
	return r->line;
}

/* A member of the top level that cannot be used: to the callback. */
static void bad_field(mjr *r, unsigned line, const char *field, const char *why)
{
	if (r->cb->field)
		r->cb->field(r->cb->ud, line, field, why);
}

static int role_by_name(const char *s)
{
	for (int r = 0; r < WN_NROLES; r++)
		if (!strcmp(s, wn_role_name(r)))
			return r;
	return -1;
}

/* One kind's {"records":N,...} into c; seen[i]: 1 the count was there and usable, 2 it
 * was there and is named as unusable. */
static int read_kind_counts(mjr *r, const char *kn, uint64_t c[WN_NCOUNTS], uint8_t seen[WN_NCOUNTS], uint64_t *forgotten)
{
	wn_jread *j = &r->j;
	char k2[64], name[160];
	wn_jread_eat(j, '{');
	if (wn_jread_eat(j, '}'))
		return 0;
	do {
		if (wn_jread_str(j, k2, sizeof k2, NULL) || !wn_jread_eat(j, ':'))
			return -1;
		int idx = -1;
		for (int i = 0; i < WN_NCOUNTS; i++)
			if (!strcmp(k2, count_names[i]))
				idx = i;
		if (idx < 0 && !strcmp(k2, "forgotten")) {
			/* written only when not 0 (FORMAT.md 18.3) */
			const char *why;
			if (wn_jread_u64(j, forgotten, &why))
				return -1;
			if (why)
				*forgotten = 0;
			continue;
		}
		if (idx < 0) {
			if (wn_jread_skip(j, 2))
				return -1;
			continue;
		}
		unsigned line = line_here(r);
		const char *why;
		if (wn_jread_u64(j, &c[idx], &why))
			return -1;
		seen[idx] = why ? 2 : 1;
		if (why) {
			snprintf(name, sizeof name, "counts.%s.%s", kn, count_names[idx]);
			bad_field(r, line, name, why);
		}
	} while (wn_jread_eat(j, ','));
	return wn_jread_eat(j, '}') ? 0 : -1;
}

/* A kind name met in the text, into the table: its number, or -1 (why says why). */
static int kind_met(mjr *r, const char *s, size_t n, const char **why)
{
	int kd = wn_kinds_add(r->kinds, s, n);
	*why = kd == WN_KINDS_BAD ? "is not a kind name ([a-z][a-z0-9_]{0,31})" :
		kd == WN_KINDS_FULL ? "is a kind too many (at most 64)" : NULL;
	return kd < 0 ? -1 : kd;
}

/* "counts":{"track":{"records":N,...},"artist":{...},...}: what it holds of each kind.
 * 0 with *ok when every count of every kind of the table (those known before, those it
 * names, those files[] names) is there and usable (the others are named). */
static int read_counts(mjr *r, uint64_t c[WN_KINDS_MAX][WN_NCOUNTS], uint64_t forgotten[WN_KINDS_MAX], int *ok)
{
	wn_jread *j = &r->j;
	char key[64], name[160];
	uint8_t seen[WN_KINDS_MAX][WN_NCOUNTS] = { { 0 } }, kseen[WN_KINDS_MAX] = { 0 };
	const wn_kinds *t = r->kinds;
	unsigned line = line_here(r);
	int bad = 0;
	if (!wn_jread_eat(j, '{'))
		return -1;
	if (!wn_jread_eat(j, '}')) {
		do {
			size_t kl;
			const char *why = NULL;
			unsigned kline = line_here(r);
			if (wn_jread_str(j, key, sizeof key, &kl) || !wn_jread_eat(j, ':'))
				return -1;
			int kd = kl < sizeof key ? kind_met(r, key, kl, &why) : -1;
			if (kd < 0) {
				snprintf(name, sizeof name, "counts.%.60s", key);
				bad_field(r, kline, name, kl < sizeof key ? why : "is not a kind name ([a-z][a-z0-9_]{0,31})");
				bad = 1;
			} else {
				kseen[kd] = 1;
			}
			if (kd < 0 || wn_jread_peek(j) != '{') {
				if (kd >= 0) {
					snprintf(name, sizeof name, "counts.%s", key);
					bad_field(r, line_here(r), name, "is not an object");
				}
				if (wn_jread_skip(j, 1))
					return -1;
				continue;
			}
			if (read_kind_counts(r, key, c[kd], seen[kd], &forgotten[kd]))
				return -1;
		} while (wn_jread_eat(j, ','));
		if (!wn_jread_eat(j, '}'))
			return -1;
	}
	*ok = !bad;
	for (int k = 0; k < t->n; k++) {
		if (!kseen[k]) {
			snprintf(name, sizeof name, "counts.%s", t->name[k]);
			bad_field(r, line, name, "is missing");
		}
		for (int i = 0; i < WN_NCOUNTS; i++) {
			if (seen[k][i] == 1)
				continue;
			*ok = 0;
			snprintf(name, sizeof name, "counts.%s.%s", t->name[k], count_names[i]);
			if (kseen[k] && !seen[k][i])
				bad_field(r, line, name, "is missing");
		}
	}
	return 0;
}

static const struct mfield *mfield_by_name(const char *key)
{
	for (int i = 0; i < WN_MF_N; i++)
		if (!strcmp(key, mfields[i].name))
			return &mfields[i];
	return NULL;
}

const char *wn_mfield_name(int i)
{
	return i >= 0 && i < WN_MF_N ? mfields[i].name : "?";
}

/* A string member of a file object into m (the path aside): sets have[] or why[]. 0 or -1. */
static int read_str_member(mjr *r, const struct mfield *d, wn_mfile *m)
{
	wn_jread *j = &r->j;
	char sval[128];
	size_t sl;
	int i = (int)(d - mfields);
	if (wn_jread_peek(j) != '"') {
		m->why[i] = "is not a string";
		return wn_jread_skip(j, 1);
	}
	if (wn_jread_str(j, sval, sizeof sval, &sl))
		return -1;
	char *p = (char *)m + d->off;
	if (d->type == MF_ROLE) {
		*(int *)p = sl < sizeof sval ? role_by_name(sval) : -1;
		m->why[i] = *(int *)p < 0 ? "is not a role (\"shard\", \"ledger\" or \"rejects\")" : NULL;
	} else if (d->type == MF_KIND) {
		*(int *)p = sl < sizeof sval ? kind_met(r, sval, sl, &m->why[i]) : -1;
		if (sl >= sizeof sval)
			m->why[i] = "is not a kind name ([a-z][a-z0-9_]{0,31})";
	} else if (sl != 2u * d->size || wn_unhex((uint8_t *)p, sval, d->size)) {
		m->why[i] = d->size == 16 ? "is not 32 hex digits" : "is not 64 hex digits";
	}
	m->have[i] = !m->why[i];
	return 0;
}

/* The members winnow always writes (FORMAT.md 7.2) that an object lacks: why[] "is missing". */
static void require_members(wn_mfile *m)
{
	for (int i = WN_MF_PATH; i <= WN_MF_XXH128; i++)
		if (!m->have[i] && !m->why[i])
			m->why[i] = "is missing";
	if (m->have[WN_MF_ROLE] && m->role == WN_ROLE_SHARD && m->have[WN_MF_RECORDS] && m->records)
		for (int i = WN_MF_FIRST_ORDINAL; i <= WN_MF_LAST_ORDINAL; i++)
			if (!m->have[i] && !m->why[i])
				m->why[i] = "is missing";
}

/* One element of files[]: -1 if its layout is not an object of members. */
static int read_file(mjr *r, size_t idx)
{
	wn_jread *j = &r->j;
	char key[64], path[4096];
	size_t plen = 0;
	wn_mfile m;
	memset(&m, 0, sizeof m);
	m.role = m.kind = -1;
	m.line = line_here(r);
	path[0] = 0;
	if (!wn_jread_eat(j, '{'))
		return -1;
	if (!wn_jread_eat(j, '}')) {
		do {
			if (wn_jread_str(j, key, sizeof key, NULL) || !wn_jread_eat(j, ':'))
				return -1;
			const struct mfield *d = mfield_by_name(key);
			int i = d ? (int)(d - mfields) : -1, bad;
			if (!d) {
				bad = wn_jread_skip(j, 2);
			} else if (d->type == MF_PATH && wn_jread_peek(j) == '"') {
				bad = wn_jread_str(j, path, sizeof path, &plen);
				m.have[i] = plen < sizeof path;
				m.why[i] = m.have[i] ? NULL : "is longer than 4095 bytes";
			} else if (d->type == MF_PATH) {
				m.why[i] = "is not a string";
				bad = wn_jread_skip(j, 2);
			} else if (d->type == MF_NUM) {
				uint64_t v = 0;
				bad = wn_jread_u64(j, &v, &m.why[i]);
				*(uint64_t *)((char *)&m + d->off) = m.why[i] ? 0 : v;
				m.have[i] = !m.why[i];
			} else {
				bad = read_str_member(r, d, &m);
			}
			if (bad)
				return -1;
		} while (wn_jread_eat(j, ','));
		if (!wn_jread_eat(j, '}'))
			return -1;
	}
	require_members(&m);
	int have_path = m.have[WN_MF_PATH];
	return r->cb->file(r->cb->ud, idx, path, have_path ? plen : 0, have_path, &m);
}

/* "files":[{...},...]: -1 for a layout error, or what the callback returned. */
static int read_files(mjr *r)
{
	size_t idx = 0;
	int rc;
	wn_jread_eat(&r->j, '[');
	if (wn_jread_eat(&r->j, ']'))
		return 0;
	do {
		if ((rc = read_file(r, idx++)))
			return rc;
	} while (wn_jread_eat(&r->j, ','));
	return wn_jread_eat(&r->j, ']') ? 0 : -1;
}

/* A string member of the options into out (cap bytes, not truncated). 0 or -1. */
static int opt_str(wn_jread *j, char *out, size_t cap)
{
	size_t len;
	return wn_jread_str(j, out, cap, &len) || len >= cap || strlen(out) != len ? -1 : 0;
}

/* catalog.json's "options" (FORMAT.md 7.3, written by wn_catopts_encode). 0 or -1. */
static int read_options(wn_jread *j, wn_catopts *o)
{
	char key[64];
	memset(o, 0, sizeof *o);
	if (!wn_jread_eat(j, '{'))
		return -1;
	if (wn_jread_eat(j, '}'))
		return 0;
	do {
		if (wn_jread_str(j, key, sizeof key, NULL) || !wn_jread_eat(j, ':'))
			return -1;
		if (!strcmp(key, "id_field") && wn_jread_peek(j) == '{') {
			wn_jread_eat(j, '{');
			if (wn_jread_eat(j, '}'))
				continue;
			do {
				if (wn_jread_str(j, key, sizeof key, NULL) || !wn_jread_eat(j, ':'))
					return -1;
				/* track's and artist's (the others' is the default: wn_record_id_field) */
				int kd = !strcmp(key, "track") ? WN_KIND_TRACK : !strcmp(key, "artist") ? WN_KIND_ARTIST : -1;
				if (kd < 0 ? wn_jread_skip(j, 3) : opt_str(j, o->id_field[kd], sizeof o->id_field[kd]))
					return -1;
			} while (wn_jread_eat(j, ','));
			if (!wn_jread_eat(j, '}'))
				return -1;
		} else if (!strcmp(key, "isrc_field")) {
			if (opt_str(j, o->isrc_field, sizeof o->isrc_field))
				return -1;
		} else if (!strcmp(key, "ignore_fields") && wn_jread_peek(j) == '[') {
			wn_jread_eat(j, '[');
			if (wn_jread_eat(j, ']'))
				continue;
			do {
				if (o->n_ignore >= 16 || opt_str(j, o->ignore[o->n_ignore], sizeof o->ignore[0]))
					return -1;
				o->n_ignore++;
			} while (wn_jread_eat(j, ','));
			if (!wn_jread_eat(j, ']'))
				return -1;
		} else if (wn_jread_skip(j, 2)) {
			return -1;
		}
	} while (wn_jread_eat(j, ','));
	return wn_jread_eat(j, '}') ? 0 : -1;
}

/* One member of the top level. 0, 1 if the layout is not winnow's, or a callback's code. */
static int read_member(mjr *r, const char *key, wn_mjson *out)
{
	wn_jread *j = &r->j;
	const wn_mjson_cb *cb = r->cb;
	uint64_t v = 0;
	const char *why;
	unsigned line = line_here(r);
	int ch = wn_jread_peek(j);
	if (cb->file && !strcmp(key, "files") && ch == '[') {
		int rc = read_files(r);
		return rc == -1 ? 1 : rc;
	}
	if (cb->catalog && !strcmp(key, "interrupted_run") && (ch == 't' || ch == 'f')) {
		out->interrupted = ch == 't';
		return wn_jread_skip(j, 1) != 0;
	}
	if (cb->catalog && !strcmp(key, "profiles") && ch == '{') {
		wn_jread_ws(j);
		const char *st = j->p;
		if (wn_jread_skip(j, 1))
			return 1;
		out->profiles = st;
		out->profiles_len = (size_t)(j->p - st);
		return 0;
	}
	if (cb->catalog && !strcmp(key, "tombstones") && ch == '{') {
		wn_jread_ws(j);
		const char *st = j->p;
		if (wn_jread_skip(j, 1))
			return 1;
		out->tombstones = st;
		out->tombstones_len = (size_t)(j->p - st);
		return 0;
	}
	if (cb->catalog && !strcmp(key, "options") && ch == '{') {
		int bad = read_options(j, &out->options) != 0;
		out->have_options = !bad;
		return bad;
	}
	if (!strcmp(key, "counts") && ch == '{') {
		int ok = 0, bad = read_counts(r, out->counts, out->forgotten, &ok) != 0;
		out->have_counts = !bad && ok;
		return bad;
	}
	if (!strcmp(key, "generation")) {
		if (wn_jread_u64(j, &v, &why))
			return 1;
		if (why)
			bad_field(r, line, key, why);
		out->generation = v;
		out->have_generation = !why;
		return 0;
	}
	if (!strcmp(key, "format_version") || !strcmp(key, "fingerprint_version")) {
		if (wn_jread_u64(j, &v, &why))
			return 1;
		if ((why || v != 1) && cb->version)
			cb->version(cb->ud, key);
		return 0;
	}
	return wn_jread_skip(j, 1) != 0;
}

static int read_doc(const char *text, size_t n, const wn_mjson_cb *cb, wn_kinds *t, wn_mjson *out)
{
	mjr r = { { text, text + n }, text, 1, cb, t };
	char key[64];
	wn_kinds keep;
	if (t == &out->kinds)
		keep = *t;
	memset(out, 0, sizeof *out);
	if (t == &out->kinds)
		*t = keep;
	out->interrupted = -1;
	int bad = !wn_jread_eat(&r.j, '{');
	while (!bad && wn_jread_peek(&r.j) == '"') {
		if (wn_jread_str(&r.j, key, sizeof key, NULL) || !wn_jread_eat(&r.j, ':')) {
			bad = 1;
			break;
		}
		if ((bad = read_member(&r, key, out)) < 0)
			return bad;
		if (!bad && !wn_jread_eat(&r.j, ','))
			break;
	}
	out->bad = bad;
	out->bad_at = (size_t)(r.j.p - text);
	return 0;
}

int wn_tombstones_decode(const char *s, size_t n, int (*fn)(void *ud, const char *who, const char *date), void *ud)
{
	wn_jread j = { s, s + n };
	char who[64], date[16];
	size_t wl, dl;
	if (!wn_jread_eat(&j, '{'))
		return -1;
	if (wn_jread_eat(&j, '}'))
		return 0;
	do {
		if (wn_jread_str(&j, who, sizeof who, &wl) || wl != 32 || !wn_jread_eat(&j, ':') ||
		    wn_jread_str(&j, date, sizeof date, &dl) || dl != 10)
			return -1;
		for (int i = 0; i < 32; i++)
			if (wn_hexval(who[i]) < 0 || (who[i] >= 'A' && who[i] <= 'F'))
				return -1;
		int rc = fn(ud, who, date);
		if (rc)
			return rc;
	} while (wn_jread_eat(&j, ','));
	return wn_jread_eat(&j, '}') ? 0 : -1;
}

int wn_mjson_read(const char *text, size_t n, const wn_mjson_cb *cb, wn_mjson *out)
{
	wn_kinds *t = cb->kinds ? cb->kinds : &out->kinds;
	if (!cb->kinds)
		wn_kinds_init(t);
	if (!cb->file)
		return read_doc(text, n, cb, t, out);
	/* files[] comes before counts: the kinds of counts first, silently, so that they
	 * are numbered in counts' order and the file callback sees final numbers */
	wn_mjson_cb quiet = { .catalog = cb->catalog };
	int rc = read_doc(text, n, &quiet, t, out);
	return rc ? rc : read_doc(text, n, cb, t, out);
}
