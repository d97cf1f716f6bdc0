/*
 * test_json.c - unit tests for lib/json.c: strict parsing, the canonical form and its
 * fingerprint, ignore paths, slots and wn_json_quote().
 *
 * Besides hand-written cases there is a seeded randomised test: random JSON values are
 * written out with shuffled keys, random whitespace and random escaping, and must keep
 * their fingerprint, while a random change of one value must change it. The canonical
 * bytes are also checked against an independent encoder written here from the spec in
 * doc/FORMAT.md section 13, and random garbage and truncated records must never crash the
 * parser nor be accepted when they are not UTF-8.
 *
 * Run with `--bench FILE [LOOPS]` to time the parser on the JSON lines of FILE and on
 * synthetic nested records instead of testing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "winnow.h"
#include "json.h"
#include "tap.h"

/* ---- helpers ---------------------------------------------------------------- */

static wn_jresult R;

static int parse(wn_json *j, const char *s)
{
	return wn_json_record(j, s, strlen(s), &R);
}

/* Fingerprint of s as hex (or "ERR <code>: reason" when it does not parse). */
static const char *fp_hex(wn_json *j, const char *s, size_t len, char out[200])
{
	int rc = wn_json_record(j, s, len, &R), i;

	if (rc) {
		snprintf(out, 200, "ERR %d: %s", rc, R.err);
		return out;
	}
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", R.fp[i]);
	return out;
}

static int same_fp(wn_json *j, const char *a, const char *b)
{
	char x[200], y[200];

	fp_hex(j, a, strlen(a), x);
	fp_hex(j, b, strlen(b), y);
	if (strncmp(x, "ERR", 3) == 0 || strncmp(y, "ERR", 3) == 0) {
		printf("#   %s\n#   %s\n", x, y);
		return 0;
	}
	return strcmp(x, y) == 0;
}

static int differ_fp(wn_json *j, const char *a, const char *b)
{
	char x[200], y[200];

	fp_hex(j, a, strlen(a), x);
	fp_hex(j, b, strlen(b), y);
	if (strncmp(x, "ERR", 3) == 0 || strncmp(y, "ERR", 3) == 0) {
		printf("#   %s\n#   %s\n", x, y);
		return 0;
	}
	return strcmp(x, y) != 0;
}

/* A printable, one-line form of s for test names (static buffer, rotating). */
static const char *show(const char *s)
{
	static char bufs[2][160];
	static int w;
	char *b = bufs[w ^= 1];
	size_t o = 0;

	for (; *s && o < sizeof bufs[0] - 8; s++) {
		uint8_t c = (uint8_t)*s;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(b + o, 8, "\\x%02x", c);
		else
			b[o++] = (char)c;
	}
	b[o] = 0;
	return b;
}

/* Independent strict UTF-8 check (RFC 3629), written the slow, obvious way. */
static int valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len, k;
		uint8_t c = s[i];
		if (c < 0x80) { i++; continue; }
		if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
		else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
		else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
		else return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
			return 0;
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* A growing byte string. */
struct sb {
	char *p;
	size_t n, cap;
};

static void sb_put(struct sb *b, const void *d, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void sb_str(struct sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_u32(struct sb *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	sb_put(b, x, 4);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Turn canonical bytes back into compact JSON (keys in canonical order). Returns the
 * number of canonical bytes used, 0 if they are malformed. */
static size_t canon_to_json(const uint8_t *c, size_t n, struct sb *out)
{
	size_t used = 1, i, len, k;
	uint32_t cnt;
	char *q;

	if (n < 1)
		return 0;
	switch (c[0]) {
	case 'n': sb_str(out, "null"); return 1;
	case 't': sb_str(out, "true"); return 1;
	case 'f': sb_str(out, "false"); return 1;
	case 'd':
	case 's':
		if (n < 5 || (len = get32(c + 1)) > n - 5)
			return 0;
		if (c[0] == 'd') {
			sb_put(out, c + 5, len);
		} else {
			q = malloc(6 * len + 2);
			sb_put(out, q, wn_json_quote(q, (const char *)c + 5, len));
			free(q);
		}
		return 5 + len;
	case 'a':
	case 'o':
		if (n < 5)
			return 0;
		cnt = get32(c + 1);
		used = 5;
		sb_str(out, c[0] == 'a' ? "[" : "{");
		for (i = 0; i < cnt; i++) {
			if (i)
				sb_str(out, ",");
			if (c[0] == 'o') {
				if (n - used < 4 || (len = get32(c + used)) > n - used - 4)
					return 0;
				q = malloc(6 * len + 2);
				sb_put(out, q, wn_json_quote(q, (const char *)c + used + 4, len));
				free(q);
				sb_str(out, ":");
				used += 4 + len;
			}
			k = canon_to_json(c + used, n - used, out);
			if (!k)
				return 0;
			used += k;
		}
		sb_str(out, c[0] == 'a' ? "]" : "}");
		return used;
	}
	return 0;
}

/* ---- random JSON values ------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

enum { T_NULL, T_TRUE, T_FALSE, T_NUM, T_STR, T_ARR, T_OBJ };

struct ustr {
	uint32_t *cp;    /* code points; lone surrogates allowed, never a high followed by a low */
	size_t n;
};

struct jv {
	int t;
	char num[40];
	struct ustr s;
	size_t n;        /* elements or members */
	struct jv *v;
	struct ustr *k;  /* keys of an object */
};

static void jv_free(struct jv *v)
{
	size_t i;

	free(v->s.cp);
	for (i = 0; i < v->n; i++) {
		jv_free(&v->v[i]);
		if (v->t == T_OBJ)
			free(v->k[i].cp);
	}
	free(v->v);
	free(v->k);
	memset(v, 0, sizeof *v);
}

static void jv_copy(struct jv *d, const struct jv *s)
{
	size_t i;

	*d = *s;
	d->s.cp = NULL;
	if (s->s.n) {
		d->s.cp = malloc(s->s.n * 4);
		memcpy(d->s.cp, s->s.cp, s->s.n * 4);
	}
	d->v = s->n ? calloc(s->n, sizeof *d->v) : NULL;
	d->k = s->n && s->t == T_OBJ ? calloc(s->n, sizeof *d->k) : NULL;
	for (i = 0; i < s->n; i++) {
		jv_copy(&d->v[i], &s->v[i]);
		if (s->t == T_OBJ) {
			d->k[i].n = s->k[i].n;
			d->k[i].cp = malloc(s->k[i].n * 4 + 4);
			memcpy(d->k[i].cp, s->k[i].cp, s->k[i].n * 4);
		}
	}
}

static uint32_t rand_cp(void)
{
	static const uint32_t special[] = { '"', '\\', '/', '\b', '\f', '\n', '\r', '\t', 0, 0x1f, 0x7f, 'A', 'e' };
	unsigned r = rn(100);

	if (r < 60)
		return 0x20 + rn(0x5f);
	if (r < 70)
		return special[rn(sizeof special / sizeof *special)];
	if (r < 80)
		return 0x80 + rn(0x780);                  /* 2 bytes */
	if (r < 90) {
		uint32_t c = 0x800 + rn(0x10000 - 0x800); /* 3 bytes */
		return c >= 0xd800 && c <= 0xdfff ? 0xe9 : c;
	}
	if (r < 97)
		return 0x10000 + rn(0x100000);            /* 4 bytes */
	return 0xd800 + rn(0x800);                    /* a lone surrogate */
}

static void rand_ustr(struct ustr *u, unsigned maxlen)
{
	size_t i;

	u->n = rn(maxlen + 1);
	u->cp = malloc(u->n * 4 + 4);
	for (i = 0; i < u->n; i++) {
		u->cp[i] = rand_cp();
		/* A high surrogate escape followed by a low one reads as one pair. */
		if (i && u->cp[i] >= 0xdc00 && u->cp[i] <= 0xdfff && u->cp[i - 1] >= 0xd800 && u->cp[i - 1] <= 0xdbff)
			u->cp[i] = 'x';
	}
}

static size_t utf8_enc(uint8_t *o, uint32_t c)
{
	if (c < 0x80) { o[0] = (uint8_t)c; return 1; }
	if (c < 0x800) { o[0] = (uint8_t)(0xc0 | c >> 6); o[1] = (uint8_t)(0x80 | (c & 0x3f)); return 2; }
	if (c < 0x10000) {
		o[0] = (uint8_t)(0xe0 | c >> 12); o[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (c & 0x3f)); return 3;
	}
	o[0] = (uint8_t)(0xf0 | c >> 18); o[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f)); o[3] = (uint8_t)(0x80 | (c & 0x3f));
	return 4;
}

/* The generalised UTF-8 bytes of u (what the canonical form holds). */
static void ustr_bytes(const struct ustr *u, struct sb *b)
{
	size_t i;
	uint8_t x[4];

	for (i = 0; i < u->n; i++)
		sb_put(b, x, utf8_enc(x, u->cp[i]));
}

static int ustr_eq(const struct ustr *a, const struct ustr *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->cp, b->cp, a->n * 4) == 0);
}

static void rand_num(char *o)
{
	int n = 0, i, d;

	if (rn(3) == 0)
		o[n++] = '-';
	if (rn(4) == 0) {
		o[n++] = '0';
	} else {
		d = 1 + (int)rn(12);
		o[n++] = (char)('1' + rn(9));
		for (i = 1; i < d; i++)
			o[n++] = (char)('0' + rn(10));
	}
	if (rn(3) == 0) {
		o[n++] = '.';
		d = 1 + (int)rn(6);
		for (i = 0; i < d; i++)
			o[n++] = (char)('0' + rn(10));
	}
	if (rn(4) == 0) {
		o[n++] = rn(2) ? 'e' : 'E';
		if (rn(2))
			o[n++] = rn(2) ? '+' : '-';
		d = 1 + (int)rn(3);
		for (i = 0; i < d; i++)
			o[n++] = (char)('0' + rn(10));
	}
	o[n] = 0;
}

static void rand_jv(struct jv *v, int depth, int want_obj);

static void rand_obj(struct jv *v, int depth)
{
	size_t i, k;
	static const char *const common[] = { "id", "name", "album", "artists", "popularity",
		"available_markets", "available_markets_rowid", "external_ids", "a", "" };

	v->t = T_OBJ;
	v->n = rn(depth > 3 ? 3 : 9);
	v->v = calloc(v->n + 1, sizeof *v->v);
	v->k = calloc(v->n + 1, sizeof *v->k);
	for (i = 0; i < v->n; i++) {
again:
		if (rn(3) == 0) {
			/* Keys sharing long prefixes exercise the full key comparison. */
			const char *c = common[rn(sizeof common / sizeof *common)];
			v->k[i].n = strlen(c);
			v->k[i].cp = malloc(v->k[i].n * 4 + 4);
			for (k = 0; k < v->k[i].n; k++)
				v->k[i].cp[k] = (uint8_t)c[k];
		} else {
			rand_ustr(&v->k[i], 12);
		}
		for (k = 0; k < i; k++)
			if (ustr_eq(&v->k[k], &v->k[i]))
				break;
		if (k < i) {
			free(v->k[i].cp);
			goto again;
		}
		rand_jv(&v->v[i], depth + 1, 0);
	}
}

static void rand_jv(struct jv *v, int depth, int want_obj)
{
	unsigned r = want_obj ? 99 : rn(depth > 4 ? 80 : 100);
	size_t i;

	memset(v, 0, sizeof *v);
	if (r < 8) { v->t = T_NULL; return; }
	if (r < 14) { v->t = T_TRUE; return; }
	if (r < 20) { v->t = T_FALSE; return; }
	if (r < 42) { v->t = T_NUM; rand_num(v->num); return; }
	if (r < 80) { v->t = T_STR; rand_ustr(&v->s, 20); return; }
	if (r < 90) {
		v->t = T_ARR;
		v->n = rn(5);
		v->v = calloc(v->n + 1, sizeof *v->v);
		for (i = 0; i < v->n; i++)
			rand_jv(&v->v[i], depth + 1, 0);
		return;
	}
	rand_obj(v, depth);
}

/* Writing JSON text. `wild`: shuffled members, random whitespace, random escapes. */
static void ws(struct sb *b, int wild)
{
	static const char *const w[] = { " ", "\n", "\t", "\r\n", "  " };

	while (wild && rn(4) == 0)
		sb_str(b, w[rn(5)]);
}

static void put_uesc(struct sb *b, uint32_t c)
{
	char x[8];
	snprintf(x, sizeof x, rn(2) ? "\\u%04x" : "\\u%04X", c);
	sb_str(b, x);
}

static void write_ustr(struct sb *b, const struct ustr *u, int wild)
{
	size_t i;
	uint8_t x[4];

	sb_str(b, "\"");
	for (i = 0; i < u->n; i++) {
		uint32_t c = u->cp[i];
		const char *short_esc = NULL;
		switch (c) {
		case '"': short_esc = "\\\""; break;
		case '\\': short_esc = "\\\\"; break;
		case '/': short_esc = wild && rn(2) ? "\\/" : NULL; break;
		case '\b': short_esc = "\\b"; break;
		case '\f': short_esc = "\\f"; break;
		case '\n': short_esc = "\\n"; break;
		case '\r': short_esc = "\\r"; break;
		case '\t': short_esc = "\\t"; break;
		}
		if (c >= 0xd800 && c <= 0xdfff) {
			put_uesc(b, c);
		} else if (wild && rn(4) == 0) {
			if (c >= 0x10000) {
				put_uesc(b, 0xd800 + ((c - 0x10000) >> 10));
				put_uesc(b, 0xdc00 + ((c - 0x10000) & 0x3ff));
			} else {
				put_uesc(b, c);
			}
		} else if (short_esc) {
			sb_str(b, short_esc);
		} else if (c < 0x20) {
			put_uesc(b, c);
		} else {
			sb_put(b, x, utf8_enc(x, c));
		}
	}
	sb_str(b, "\"");
}

static void write_jv(struct sb *b, const struct jv *v, int wild)
{
	size_t i, *ord;

	switch (v->t) {
	case T_NULL: sb_str(b, "null"); return;
	case T_TRUE: sb_str(b, "true"); return;
	case T_FALSE: sb_str(b, "false"); return;
	case T_NUM: sb_str(b, v->num); return;
	case T_STR: write_ustr(b, &v->s, wild); return;
	case T_ARR:
		sb_str(b, "[");
		for (i = 0; i < v->n; i++) {
			ws(b, wild);
			if (i) {
				sb_str(b, ",");
				ws(b, wild);
			}
			write_jv(b, &v->v[i], wild);
		}
		ws(b, wild);
		sb_str(b, "]");
		return;
	}
	ord = malloc((v->n + 1) * sizeof *ord);
	for (i = 0; i < v->n; i++)
		ord[i] = i;
	if (wild)
		for (i = v->n; i > 1; i--) {
			size_t k = rn((unsigned)i), t = ord[i - 1];
			ord[i - 1] = ord[k];
			ord[k] = t;
		}
	sb_str(b, "{");
	for (i = 0; i < v->n; i++) {
		ws(b, wild);
		if (i) {
			sb_str(b, ",");
			ws(b, wild);
		}
		write_ustr(b, &v->k[ord[i]], wild);
		ws(b, wild);
		sb_str(b, ":");
		ws(b, wild);
		write_jv(b, &v->v[ord[i]], wild);
	}
	ws(b, wild);
	sb_str(b, "}");
	free(ord);
}

/* The reference canonical encoder, straight from doc/FORMAT.md section 13. */
static int bytes_cmp(const struct sb *a, const struct sb *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	int c = n ? memcmp(a->p, b->p, n) : 0;
	return c ? c : (a->n > b->n) - (a->n < b->n);
}

static void ref_canon(struct sb *b, const struct jv *v)
{
	struct sb t = { 0 }, *keys;
	size_t i, k, *ord;

	switch (v->t) {
	case T_NULL: sb_str(b, "n"); return;
	case T_TRUE: sb_str(b, "t"); return;
	case T_FALSE: sb_str(b, "f"); return;
	case T_NUM:
		sb_str(b, "d");
		sb_u32(b, (uint32_t)strlen(v->num));
		sb_str(b, v->num);
		return;
	case T_STR:
		ustr_bytes(&v->s, &t);
		sb_str(b, "s");
		sb_u32(b, (uint32_t)t.n);
		sb_put(b, t.p, t.n);
		free(t.p);
		return;
	case T_ARR:
		sb_str(b, "a");
		sb_u32(b, (uint32_t)v->n);
		for (i = 0; i < v->n; i++)
			ref_canon(b, &v->v[i]);
		return;
	}
	keys = calloc(v->n + 1, sizeof *keys);
	ord = malloc((v->n + 1) * sizeof *ord);
	for (i = 0; i < v->n; i++) {
		ustr_bytes(&v->k[i], &keys[i]);
		ord[i] = i;
	}
	for (i = 1; i < v->n; i++)
		for (k = i; k > 0 && bytes_cmp(&keys[ord[k - 1]], &keys[ord[k]]) > 0; k--) {
			size_t x = ord[k];
			ord[k] = ord[k - 1];
			ord[k - 1] = x;
		}
	sb_str(b, "o");
	sb_u32(b, (uint32_t)v->n);
	for (i = 0; i < v->n; i++) {
		sb_u32(b, (uint32_t)keys[ord[i]].n);
		sb_put(b, keys[ord[i]].p, keys[ord[i]].n);
		ref_canon(b, &v->v[ord[i]]);
	}
	for (i = 0; i < v->n; i++)
		free(keys[i].p);
	free(keys);
	free(ord);
}

/* All values of a tree, to pick one to change. */
static void collect(struct jv *v, struct jv **out, size_t *n)
{
	size_t i;

	out[(*n)++] = v;
	for (i = 0; i < v->n; i++)
		collect(&v->v[i], out, n);
}

static size_t count_values(const struct jv *v)
{
	size_t i, n = 1;

	for (i = 0; i < v->n; i++)
		n += count_values(&v->v[i]);
	return n;
}

/* Change one value somewhere in the tree: replace a value, add or drop an element or
 * member, rename a key, or swap two array elements. The caller checks that the
 * reference encoding changed (so that "swap two equal elements" is not counted). */
static void mutate(struct jv *root)
{
	size_t n = 0, i;
	struct jv **all = malloc(count_values(root) * sizeof *all), *v, nv;

	collect(root, all, &n);
	v = all[rn((unsigned)n)];
	free(all);
	if (v == root || rn(2) == 0 || (v->t != T_ARR && v->t != T_OBJ)) {
		if (v == root) {
			/* The root must stay an object: add a member. */
			struct ustr k;
			rand_ustr(&k, 6);
			for (i = 0; i < v->n; i++)
				if (ustr_eq(&v->k[i], &k))
					break;
			if (i < v->n) {
				/* Key present: change its value instead. */
				free(k.cp);
				jv_free(&v->v[i]);
				rand_jv(&v->v[i], 3, 0);
				return;
			}
			v->v = realloc(v->v, (v->n + 1) * sizeof *v->v);
			v->k = realloc(v->k, (v->n + 1) * sizeof *v->k);
			v->k[v->n] = k;
			rand_jv(&v->v[v->n], 3, 0);
			v->n++;
			return;
		}
		rand_jv(&nv, 3, 0);
		jv_free(v);
		*v = nv;
		return;
	}
	switch (rn(3)) {
	case 0:  /* drop the last element or member */
		if (v->n) {
			v->n--;
			jv_free(&v->v[v->n]);
			if (v->t == T_OBJ)
				free(v->k[v->n].cp);
			return;
		}
		/* fall through */
	case 1:  /* rename a key, or add an element */
		if (v->t == T_OBJ && v->n) {
			i = rn((unsigned)v->n);
			v->k[i].cp = realloc(v->k[i].cp, (v->k[i].n + 2) * 4);
			v->k[i].cp[v->k[i].n++] = '~';  /* stays unique: no other key can gain it too */
			{
				size_t k;
				for (k = 0; k < v->n; k++)
					if (k != i && ustr_eq(&v->k[k], &v->k[i]))
						v->k[i].cp[v->k[i].n - 1] = 0x2603;
			}
			return;
		}
		if (v->t == T_ARR) {
			v->v = realloc(v->v, (v->n + 1) * sizeof *v->v);
			rand_jv(&v->v[v->n], 3, 0);
			v->n++;
			return;
		}
		/* fall through */
	default:  /* swap two array elements, or replace the whole value */
		if (v->t == T_ARR && v->n >= 2) {
			struct jv t = v->v[0];
			v->v[0] = v->v[v->n - 1];
			v->v[v->n - 1] = t;
			return;
		}
		rand_jv(&nv, 3, 0);
		jv_free(v);
		*v = nv;
	}
}

/* ---- hand-written cases ------------------------------------------------------ */

static void test_equal(wn_json *j)
{
	static const char *const eq[][2] = {
		{ "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}" },
		{ "{\"a\":1,\"b\":{\"x\":[1,2],\"y\":null}}", "{\"b\":{\"y\":null,\"x\":[1,2]},\"a\":1}" },
		{ "{\"a\":1,\"b\":[true,false]}", " \t\r\n{ \"a\" : 1 ,\n\"b\"\t:\r[ true , false ] }\n " },
		{ "{\"s\":\"caf\xc3\xa9\"}", "{\"s\":\"caf\\u00e9\"}" },
		{ "{\"s\":\"caf\xc3\xa9\"}", "{\"s\":\"caf\\u00E9\"}" },
		{ "{\"s\":\"a/b\"}", "{\"s\":\"a\\/b\"}" },
		{ "{\"s\":\"A\"}", "{\"s\":\"\\u0041\"}" },
		{ "{\"s\":\"\xf0\x9f\x98\x80\"}", "{\"s\":\"\\ud83d\\ude00\"}" },
		{ "{\"s\":\"\xf0\x9f\x98\x80\"}", "{\"s\":\"\\uD83D\\uDE00\"}" },
		{ "{\"s\":\"\\n\\t\\\"\\\\\"}", "{\"s\":\"\\u000a\\u0009\\u0022\\u005c\"}" },
		{ "{\"\xc3\xa9\":1}", "{\"\\u00e9\":1}" },
		{ "{\"id\":1,\"name\":2}", "{\"\\u0069d\":1,\"n\\u0061me\":2}" },
		{ "{\"s\":\"\\ud800\"}", "{\"s\":\"\\uD800\"}" },
		{ "{}", " { } " },
		{ "{\"a\":[]}", "{\"a\":[ ]}" },
	};
	size_t i;

	for (i = 0; i < sizeof eq / sizeof *eq; i++)
		OK(same_fp(j, eq[i][0], eq[i][1]), "same fingerprint: %s vs %s", show(eq[i][0]), show(eq[i][1]));
}

static void test_differ(wn_json *j)
{
	static const char *const ne[][2] = {
		{ "{\"a\":1}", "{\"a\":1.0}" },
		{ "{\"a\":1}", "{\"a\":1e0}" },
		{ "{\"a\":1e5}", "{\"a\":1E5}" },
		{ "{\"a\":0}", "{\"a\":-0}" },
		{ "{\"a\":1}", "{\"a\":2}" },
		{ "{\"a\":1}", "{\"a\":\"1\"}" },
		{ "{\"a\":true}", "{\"a\":\"true\"}" },
		{ "{\"a\":true}", "{\"a\":false}" },
		{ "{\"a\":null}", "{\"a\":\"null\"}" },
		{ "{\"a\":null}", "{\"a\":false}" },
		{ "{\"a\":null}", "{}" },
		{ "{\"a\":[1,2]}", "{\"a\":[2,1]}" },
		{ "{\"a\":[1,2]}", "{\"a\":[1,2,2]}" },
		{ "{\"a\":[[1],2]}", "{\"a\":[1,[2]]}" },
		{ "{\"a\":[1,[]]}", "{\"a\":[1]}" },
		{ "{\"a\":{\"b\":{\"c\":1}}}", "{\"a\":{\"b\":{\"c\":2}}}" },
		{ "{\"a\":1}", "{\"b\":1}" },
		{ "{\"a\":1}", "{\"A\":1}" },
		{ "{\"a\":1}", "{\"a\":1,\"b\":1}" },
		{ "{\"a\":{}}", "{\"a\":[]}" },
		{ "{\"a\":{}}", "{\"a\":null}" },
		{ "{\"a\":\"\"}", "{\"a\":[]}" },
		{ "{\"a\":\"a\\u0000b\"}", "{\"a\":\"ab\"}" },
		{ "{\"a\":\"x\"}", "{\"a\":\"x \"}" },
		{ "{\"a\":\"caf\xc3\xa9\"}", "{\"a\":\"cafe\\u0301\"}" },
		{ "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}" },
		{ "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\\ude00\\ud83d\"}" },
		/* members and elements must not run into each other */
		{ "{\"ab\":\"c\"}", "{\"a\":\"bc\"}" },
		{ "{\"a\":[\"b\",\"c\"]}", "{\"a\":[\"bc\"]}" },
		{ "{\"a\":[\"\",\"\"]}", "{\"a\":[\"\"]}" },
		{ "{\"a\":{\"b\":1},\"c\":2}", "{\"a\":{\"b\":1,\"c\":2}}" },
		{ "{\"a\":[{}],\"b\":1}", "{\"a\":[{\"b\":1}]}" },
		{ "{\"a\":\"a\",\"b\":\"b\"}", "{\"a\":\"b\",\"b\":\"a\"}" },
	};
	size_t i;

	for (i = 0; i < sizeof ne / sizeof *ne; i++)
		OK(differ_fp(j, ne[i][0], ne[i][1]), "different fingerprint: %s vs %s", show(ne[i][0]), show(ne[i][1]));
}

/* The worked example of doc/FORMAT.md section 13.7, byte for byte. */
static void test_canonical_bytes(wn_json *j)
{
	const char *rec = "{\"name\":\"Caf\\u00e9\", \"id\":7, \"tags\":[true,null]}";
	static const uint8_t want[] = {
		'o', 3, 0, 0, 0,
		2, 0, 0, 0, 'i', 'd', 'd', 1, 0, 0, 0, '7',
		4, 0, 0, 0, 'n', 'a', 'm', 'e', 's', 5, 0, 0, 0, 'C', 'a', 'f', 0xc3, 0xa9,
		4, 0, 0, 0, 't', 'a', 'g', 's', 'a', 2, 0, 0, 0, 't', 'n',
	};
	XXH128_canonical_t c;
	char hex[40];
	int i, rc;

	rc = parse(j, rec);
	IS_INT(rc, 0, "worked example parses");
	IS_INT(R.canon_len, sizeof want, "worked example: canonical length");
	OK(R.canon_len == sizeof want && memcmp(R.canon, want, sizeof want) == 0, "worked example: canonical bytes");
	XXH128_canonicalFromHash(&c, XXH3_128bits(want, sizeof want));
	OK(memcmp(c.digest, R.fp, 16) == 0, "fingerprint is XXH3-128 of the canonical bytes, big-endian");
	for (i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02x", R.fp[i]);
	printf("# worked example fingerprint %s\n", hex);
	OK(strcmp(hex, "eee7e34d53cbb5386b6b2278dd04ca38") == 0,
	   "worked example fingerprint matches doc/FORMAT.md 13.7");

	rc = parse(j, "{\"x\":\"\\ud800\"}");
	OK(rc == 0 && R.canon_len == 18 && memcmp(R.canon, "o\1\0\0\0\1\0\0\0xs\3\0\0\0\xed\xa0\x80", 18) == 0,
	   "lone surrogate example of doc/FORMAT.md 13.7");
	{
		wn_json *k = wn_json_new();
		wn_json_add_ignore(k, "fetched_at");
		rc = parse(k, "{\"name\":\"Caf\xc3\xa9\",\"id\":7,\"tags\":[true,null],\"fetched_at\":1743033600000}");
		OK(rc == 0 && R.canon_len == sizeof want && memcmp(R.canon, want, sizeof want) == 0,
		   "ignored fetched_at: same canonical bytes as the worked example");
		wn_json_free(k);
	}
	rc = parse(j, "{\"b\":0,\"\xc3\xa9\":0,\"ab\":0,\"a\":0,\"A\":0,\"\":0}");
	{
		static const char *const order[] = { "", "A", "a", "ab", "b", "\xc3\xa9" };
		size_t at = 5, n, ok = rc == 0;
		for (n = 0; ok && n < 6; n++) {
			size_t kl = strlen(order[n]);
			ok = R.canon[at] == kl && memcmp(R.canon + at + 4, order[n], kl) == 0;
			at += 4 + kl + 6;
		}
		OK(ok, "key order \"\" < A < a < ab < b < \xc3\xa9 as documented");
	}

	rc = parse(j, "{}");
	OK(rc == 0 && R.canon_len == 5 && memcmp(R.canon, "o\0\0\0\0", 5) == 0, "empty object is o 00000000");
	rc = parse(j, "{\"s\":\"\\ud800x\"}");
	OK(rc == 0 && R.canon_len == 5 + 4 + 1 + 5 + 4 &&
	   memcmp(R.canon + 10, "s\4\0\0\0\xed\xa0\x80x", 9) == 0, "lone surrogate escape is 3-byte generalised UTF-8");
	rc = parse(j, "{\"b\":1,\"a\":2,\"ab\":3,\"\":4}");
	OK(rc == 0 && R.canon[9] == 'd' && R.canon[5 + 4 + 6 + 4] == 'a' && R.canon[5 + 4 + 6 + 4 + 1 + 6 + 4] == 'a' &&
	   R.canon[5 + 4 + 6 + 4 + 1 + 6 + 4 + 1] == 'b', "keys sorted by bytes, shorter first");
}

static void test_ignore(void)
{
	wn_json *j = wn_json_new();
	const char *base =
		"{\"id\":\"x1\",\"fetched_at\":1743033600000,\"popularity\":5,"
		"\"album\":{\"name\":\"A\",\"popularity\":10,\"fetched_at\":3},\"tracks\":[{\"popularity\":1}]}";

	IS_INT(wn_json_add_ignore(j, "fetched_at"), 0, "add_ignore fetched_at");
	IS_INT(wn_json_add_ignore(j, "album.popularity"), 0, "add_ignore album.popularity");
	IS_INT(wn_json_add_ignore(j, "tracks.popularity"), 0, "add_ignore tracks.popularity (under an array)");
	IS_INT(wn_json_add_ignore(j, ""), WN_E_USAGE, "add_ignore empty path");
	IS_INT(wn_json_add_ignore(j, "a..b"), WN_E_USAGE, "add_ignore empty segment");
	IS_INT(wn_json_add_ignore(j, ".a"), WN_E_USAGE, "add_ignore leading dot");
	IS_INT(wn_json_add_ignore(j, "a."), WN_E_USAGE, "add_ignore trailing dot");
	IS_INT(wn_json_add_ignore(j, NULL), WN_E_USAGE, "add_ignore NULL");

	OK(same_fp(j, base,
		"{\"id\":\"x1\",\"fetched_at\":1743120000000,\"popularity\":5,"
		"\"album\":{\"name\":\"A\",\"popularity\":10,\"fetched_at\":3},\"tracks\":[{\"popularity\":1}]}"),
	   "ignored top-level member: its value does not count");
	OK(same_fp(j, base,
		"{\"id\":\"x1\",\"popularity\":5,"
		"\"album\":{\"name\":\"A\",\"popularity\":10,\"fetched_at\":3},\"tracks\":[{\"popularity\":1}]}"),
	   "ignored top-level member: its presence does not count");
	OK(same_fp(j, base,
		"{\"id\":\"x1\",\"fetched_at\":\"never\",\"popularity\":5,"
		"\"album\":{\"name\":\"A\",\"popularity\":[1,2,{}],\"fetched_at\":3},\"tracks\":[{\"popularity\":1}]}"),
	   "ignored nested member: its value and type do not count");
	OK(same_fp(j, base,
		"{\"id\":\"x1\",\"popularity\":5,"
		"\"album\":{\"name\":\"A\",\"fetched_at\":3},\"tracks\":[{\"popularity\":1}]}"),
	   "ignored nested member: its presence does not count");
	OK(same_fp(j, base,
		"{\"\\u0066etched_at\":0,\"id\":\"x1\",\"popularity\":5,"
		"\"album\":{\"name\":\"A\",\"popularity\":10,\"fetched_at\":3},\"tracks\":[{\"popularity\":1}]}"),
	   "ignored key written with an escape is still ignored");
	OK(differ_fp(j, base,
		"{\"id\":\"x1\",\"fetched_at\":1743033600000,\"popularity\":6,"
		"\"album\":{\"name\":\"A\",\"popularity\":10,\"fetched_at\":3},\"tracks\":[{\"popularity\":1}]}"),
	   "same-named member elsewhere still counts (top-level popularity)");
	OK(differ_fp(j, base,
		"{\"id\":\"x1\",\"fetched_at\":1743033600000,\"popularity\":5,"
		"\"album\":{\"name\":\"A\",\"popularity\":10,\"fetched_at\":4},\"tracks\":[{\"popularity\":1}]}"),
	   "same-named member elsewhere still counts (album.fetched_at)");
	OK(differ_fp(j, base,
		"{\"id\":\"x1\",\"fetched_at\":1743033600000,\"popularity\":5,"
		"\"album\":{\"name\":\"B\",\"popularity\":10,\"fetched_at\":3},\"tracks\":[{\"popularity\":1}]}"),
	   "sibling of an ignored member still counts");
	OK(differ_fp(j, base,
		"{\"id\":\"x1\",\"fetched_at\":1743033600000,\"popularity\":5,"
		"\"album\":{\"name\":\"A\",\"popularity\":10,\"fetched_at\":3},\"tracks\":[{\"popularity\":2}]}"),
	   "paths do not descend into arrays");
	OK(same_fp(j, "{\"a\":1,\"fetched_at\":2}", "{\"a\":1}") && parse(j, "{\"a\":1,\"fetched_at\":2}") == 0 &&
	   R.canon[1] == 1, "ignored member is not counted in the object's member count");
	OK(same_fp(j, "{\"fetched_at\":2}", "{}"), "object of only ignored members is an empty object");
	IS_INT(parse(j, "{\"fetched_at\":1,\"fetched_at\":2}"), WN_E_DUPKEY, "duplicate ignored key is still an error");
	IS_INT(parse(j, "{\"a\":1,\"fetched_at\":x}"), WN_E_PARSE, "ignored member is still validated");
	wn_json_free(j);

	j = wn_json_new();
	wn_json_add_ignore(j, "album");
	OK(same_fp(j, "{\"id\":1,\"album\":{\"name\":\"A\",\"x\":[1]}}", "{\"id\":1}"),
	   "ignoring an object member drops it whole");
	OK(same_fp(j, "{\"id\":1,\"album\":{\"name\":\"A\"}}", "{\"id\":1,\"album\":\"anything\"}"),
	   "ignored member may change type");
	OK(differ_fp(j, "{\"id\":1,\"album\":{}}", "{\"id\":2,\"album\":{}}"), "other members still count");
	wn_json_free(j);
}

static void test_slots(void)
{
	wn_json *j = wn_json_new();
	const char *rec;
	int rc;

	IS_INT(wn_json_set_slot(j, 0, "id"), 0, "set slot 0 id");
	IS_INT(wn_json_set_slot(j, 1, "external_ids.isrc"), 0, "set slot 1 external_ids.isrc");
	IS_INT(wn_json_set_slot(j, 2, "album.name"), 0, "set slot 2 album.name");
	IS_INT(wn_json_set_slot(j, 3, "no.such.path"), 0, "set slot 3 no.such.path");
	IS_INT(wn_json_set_slot(j, 4, "n"), 0, "set slot 4 n");
	IS_INT(wn_json_set_slot(j, 5, "album"), 0, "set slot 5 album");
	IS_INT(wn_json_set_slot(j, WN_JSON_MAX_SLOTS, "x"), WN_E_USAGE, "slot WN_JSON_MAX_SLOTS is out of range");
	IS_INT(wn_json_set_slot(j, -1, "x"), WN_E_USAGE, "slot -1 is out of range");
	IS_INT(wn_json_set_slot(j, 0, ""), WN_E_USAGE, "empty slot path");
	IS_INT(wn_json_set_slot(j, 0, "a..b"), WN_E_USAGE, "slot path with empty segment");
	wn_json_add_ignore(j, "id");

	rec = "{\"id\":\"5CRPGdCSOfstyTVK9Ja5EQ\",\"n\":-1.50e3,"
	      "\"album\":{\"name\":\"Caf\\u00e9 \\\"Live\\\" \\ud83c\\udfb5\",\"x\": [1, {\"y\":2}] },"
	      "\"external_ids\":{\"isrc\":\"GBAAP0000867\"}}";
	rc = parse(j, rec);
	IS_INT(rc, 0, "slot record parses");
	OK(R.slot[0].type == WN_JT_STRING && R.slot[0].len == 22 && memcmp(R.slot[0].ptr, "5CRPGdCSOfstyTVK9Ja5EQ", 22) == 0,
	   "slot id (also ignored for the fingerprint)");
	OK(R.slot[0].ptr > rec && R.slot[0].ptr < rec + strlen(rec), "unescaped string slot points into the input");
	OK(R.slot[1].type == WN_JT_STRING && R.slot[1].len == 12 && memcmp(R.slot[1].ptr, "GBAAP0000867", 12) == 0,
	   "nested slot external_ids.isrc");
	OK(R.slot[2].type == WN_JT_STRING && R.slot[2].len == strlen("Caf\xc3\xa9 \"Live\" \xf0\x9f\x8e\xb5") &&
	   memcmp(R.slot[2].ptr, "Caf\xc3\xa9 \"Live\" \xf0\x9f\x8e\xb5", R.slot[2].len) == 0,
	   "escaped string slot comes back unescaped");
	IS_INT(R.slot[3].type, WN_JT_NONE, "absent path gives WN_JT_NONE");
	OK(R.slot[4].type == WN_JT_NUMBER && R.slot[4].len == 7 && memcmp(R.slot[4].ptr, "-1.50e3", 7) == 0,
	   "number slot is its literal text");
	OK(R.slot[5].type == WN_JT_OBJECT && R.slot[5].len == strlen(strstr(rec, "{\"name\"")) - strlen(",\"external_ids\":{\"isrc\":\"GBAAP0000867\"}}") &&
	   memcmp(R.slot[5].ptr, "{\"name\"", 7) == 0 && R.slot[5].ptr[R.slot[5].len - 1] == '}',
	   "object slot is its raw text");
	OK(same_fp(j, rec, "{\"id\":\"other\",\"n\":-1.50e3,"
	      "\"album\":{\"name\":\"Caf\\u00e9 \\\"Live\\\" \\ud83c\\udfb5\",\"x\": [1, {\"y\":2}] },"
	      "\"external_ids\":{\"isrc\":\"GBAAP0000867\"}}"), "ignored slot path does not change the fingerprint");

	rc = parse(j, "{\"id\":null,\"n\":true,\"album\":\"not an object\",\"external_ids\":[{\"isrc\":\"x\"}]}");
	IS_INT(rc, 0, "second slot record parses");
	IS_INT(R.slot[0].type, WN_JT_NULL, "null slot");
	OK(R.slot[0].len == 4 && memcmp(R.slot[0].ptr, "null", 4) == 0, "null slot text");
	IS_INT(R.slot[4].type, WN_JT_TRUE, "true slot");
	IS_INT(R.slot[2].type, WN_JT_NONE, "path through a string is absent");
	IS_INT(R.slot[1].type, WN_JT_NONE, "path through an array is absent");
	IS_INT(R.slot[5].type, WN_JT_STRING, "slot type follows the record");

	rc = parse(j, "{\"id\":false,\"n\":[1, 2],\"id2\":1}");
	OK(rc == 0 && R.slot[0].type == WN_JT_FALSE && R.slot[4].type == WN_JT_ARRAY && R.slot[4].len == 6 &&
	   memcmp(R.slot[4].ptr, "[1, 2]", 6) == 0, "false and array slots");

	IS_INT(wn_json_set_slot(j, 4, NULL), 0, "clear slot 4");
	rc = parse(j, "{\"n\":1}");
	OK(rc == 0 && R.slot[4].type == WN_JT_NONE, "cleared slot stays empty");
	rc = parse(j, "{\"id\":\"a\\nb\",\"id\":\"c\"}");
	OK(rc == WN_E_DUPKEY && R.slot[0].type == WN_JT_NONE, "slots are empty after an error");
	wn_json_free(j);
}

struct bad {
	const char *in;
	size_t len;       /* 0: strlen */
	int code;
	long off;         /* -1: len */
	const char *msg;  /* substring of the reason */
};

static void test_errors(void)
{
	static const struct bad bad[] = {
		{ "", 0, WN_E_PARSE, 0, "empty record" },
		{ "  \r\n\t ", 0, WN_E_PARSE, -1, "empty record" },
		{ "{\"a\":1", 0, WN_E_PARSE, -1, "unterminated object" },
		{ "{", 0, WN_E_PARSE, -1, "unterminated object" },
		{ "{\"a\":", 0, WN_E_PARSE, -1, "unterminated object" },
		{ "{\"a\":[1,2", 0, WN_E_PARSE, -1, "unterminated array" },
		{ "{\"a\":1,}", 0, WN_E_PARSE, 7, "trailing comma before '}'" },
		{ "{\"a\":[1,]}", 0, WN_E_PARSE, 8, "trailing comma before ']'" },
		{ "{'a':1}", 0, WN_E_PARSE, 1, "object key must be a string" },
		{ "{a:1}", 0, WN_E_PARSE, 1, "object key must be a string" },
		{ "{,}", 0, WN_E_PARSE, 1, "object key must be a string" },
		{ "{\"a\":'x'}", 0, WN_E_PARSE, 5, "expected value" },
		{ "{\"a\" 1}", 0, WN_E_PARSE, 5, "expected ':' after object key" },
		{ "{\"a\":1 \"b\":2}", 0, WN_E_PARSE, 7, "expected ',' or '}' after object member" },
		{ "{\"a\":1;\"b\":2}", 0, WN_E_PARSE, 6, "expected ',' or '}' after object member" },
		{ "{\"a\":[1 2]}", 0, WN_E_PARSE, 8, "expected ',' or ']' after array element" },
		{ "{\"a\":\"\\x\"}", 0, WN_E_PARSE, 6, "invalid escape '\\x'" },
		{ "{\"a\":\"\\'\"}", 0, WN_E_PARSE, 6, "invalid escape '\\''" },
		{ "{\"a\":\"\\u12\"}", 0, WN_E_PARSE, 6, "invalid \\u escape" },
		{ "{\"a\":\"\\u12g4\"}", 0, WN_E_PARSE, 6, "invalid \\u escape" },
		{ "{\"a\":\"\\", 0, WN_E_PARSE, -1, "unterminated string" },
		{ "{\"a\":\"abc", 0, WN_E_PARSE, -1, "unterminated string" },
		{ "{\"a\":\"abcdefghijklmnop", 0, WN_E_PARSE, -1, "unterminated string" },
		{ "{\"abc", 0, WN_E_PARSE, -1, "unterminated string" },
		{ "{\"a\":01}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":-01}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":+1}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":.5}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":1.}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":1.e3}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":1e}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":1e+}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":-}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":-a}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":1.2.3}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":0x10}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":1", 0, WN_E_PARSE, -1, "unterminated object" },
		{ "{\"a\":NaN}", 0, WN_E_PARSE, 5, "invalid literal" },
		{ "{\"a\":Infinity}", 0, WN_E_PARSE, 5, "invalid literal" },
		{ "{\"a\":-Infinity}", 0, WN_E_PARSE, 5, "invalid number" },
		{ "{\"a\":tru}", 0, WN_E_PARSE, 5, "invalid literal" },
		{ "{\"a\":truex}", 0, WN_E_PARSE, 5, "invalid literal" },
		{ "{\"a\":True}", 0, WN_E_PARSE, 5, "invalid literal" },
		{ "{\"a\":nul", 0, WN_E_PARSE, 5, "invalid literal" },
		{ "{\"a\":1} x", 0, WN_E_PARSE, 8, "trailing data after value" },
		{ "{\"a\":1}}", 0, WN_E_PARSE, 7, "trailing data after value" },
		{ "{\"a\":1}{}", 0, WN_E_PARSE, 7, "trailing data after value" },
		{ "{\"a\":1}\f", 0, WN_E_PARSE, 7, "trailing data after value" },
		{ "{\"a\":1}\v", 0, WN_E_PARSE, 7, "trailing data after value" },
		{ "{\"a\":1}\0", 8, WN_E_PARSE, 7, "trailing data after value" },
		{ "\xef\xbb\xbf{}", 0, WN_E_PARSE, 0, "expected value" },
		{ "{\"a\":\"x\ny\"}", 0, WN_E_PARSE, 7, "unescaped control character 0x0a in string" },
		{ "{\"a\":\"x\ty\"}", 0, WN_E_PARSE, 7, "unescaped control character 0x09" },
		{ "{\"a\":\"\0\"}", 9, WN_E_PARSE, 6, "unescaped control character 0x00" },
		{ "{\"a\":\"x\xc3\"}", 0, WN_E_UTF8, 7, "truncated utf-8 sequence" },
		{ "{\"a\":\"x\xc3", 0, WN_E_UTF8, 7, "truncated utf-8 sequence" },
		{ "{\"a\":\"x\xe2\x82\"}", 0, WN_E_UTF8, 7, "truncated utf-8 sequence" },
		{ "{\"a\":\"\xf0\x9f\x98\"}", 0, WN_E_UTF8, 6, "truncated utf-8 sequence" },
		{ "{\"a\":\"\xc0\x80\"}", 0, WN_E_UTF8, 6, "overlong utf-8 sequence" },
		{ "{\"a\":\"\xc1\xbf\"}", 0, WN_E_UTF8, 6, "overlong utf-8 sequence" },
		{ "{\"a\":\"\xe0\x80\x80\"}", 0, WN_E_UTF8, 6, "overlong utf-8 sequence" },
		{ "{\"a\":\"\xf0\x80\x80\x80\"}", 0, WN_E_UTF8, 6, "overlong utf-8 sequence" },
		{ "{\"a\":\"\xed\xa0\x80\"}", 0, WN_E_UTF8, 6, "utf-8 encoded surrogate u+d800" },
		{ "{\"a\":\"\xed\xbf\xbf\"}", 0, WN_E_UTF8, 6, "utf-8 encoded surrogate u+dfff" },
		{ "{\"a\":\"\xf4\x90\x80\x80\"}", 0, WN_E_UTF8, 6, "utf-8 code point above u+10ffff" },
		{ "{\"a\":\"\xf5\x80\x80\x80\"}", 0, WN_E_UTF8, 6, "invalid utf-8 byte 0xf5" },
		{ "{\"a\":\"\xff\"}", 0, WN_E_UTF8, 6, "invalid utf-8 byte 0xff" },
		{ "{\"a\":\"\x80\"}", 0, WN_E_UTF8, 6, "unexpected utf-8 continuation byte 0x80" },
		{ "{\"a\":\"0123456789\xbf\"}", 0, WN_E_UTF8, 16, "unexpected utf-8 continuation byte 0xbf" },
		{ "{\"\xff\":1}", 0, WN_E_UTF8, 2, "invalid utf-8 byte 0xff" },
		{ "{\"a\":1}\xff", 0, WN_E_UTF8, 7, "invalid utf-8 byte 0xff" },
		{ "{\"a\":\xc3\xa9}", 0, WN_E_PARSE, 5, "expected value" },
		{ "{\"a\":\xc3}", 0, WN_E_UTF8, 5, "truncated utf-8 sequence" },
		{ "{\"a\":1,\"a\":2}", 0, WN_E_DUPKEY, 7, "duplicate key \"a\"" },
		{ "{\"a\":1,\"\\u0061\":2}", 0, WN_E_DUPKEY, 7, "duplicate key \"a\"" },
		{ "{\"id\":1,\"b\":2,\"id\":3}", 0, WN_E_DUPKEY, 14, "duplicate key \"id\"" },
		{ "{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", 0, WN_E_DUPKEY, 18, "duplicate key \"b\"" },
		{ "{\"x\":[{\"b\":1,\"b\":1}]}", 0, WN_E_DUPKEY, 13, "duplicate key \"b\"" },
		{ "{\"\\\"\\n\":1,\"\\\"\\n\":2}", 0, WN_E_DUPKEY, 10, "duplicate key \"\\\"\\u000a\"" },
		{ "{\"\":1,\"\":2}", 0, WN_E_DUPKEY, 6, "duplicate key \"\"" },
		{ "[1,2]", 0, WN_E_NOTOBJECT, 0, "record is not a JSON object" },
		{ "  42 ", 0, WN_E_NOTOBJECT, 2, "record is not a JSON object" },
		{ "\"str\"", 0, WN_E_NOTOBJECT, 0, "record is not a JSON object" },
		{ "null", 0, WN_E_NOTOBJECT, 0, "record is not a JSON object" },
		{ "[1,2", 0, WN_E_PARSE, -1, "unterminated array" },
		{ "[1,2]x", 0, WN_E_PARSE, 5, "trailing data after value" },
	};
	wn_json *j = wn_json_new();
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].in);
		size_t off = bad[i].off < 0 ? len : (size_t)bad[i].off;
		int rc = wn_json_record(j, bad[i].in, len, &R);
		char shown[80];
		size_t k, o = 0;
		for (k = 0; k < len && o < sizeof shown - 5; k++)
			o += (size_t)snprintf(shown + o, sizeof shown - o,
				(uint8_t)bad[i].in[k] < 0x20 || (uint8_t)bad[i].in[k] >= 0x7f ? "\\x%02x" : "%c",
				(uint8_t)bad[i].in[k]);
		OK(rc == bad[i].code && R.err_offset == off && strstr(R.err, bad[i].msg) && R.canon == NULL,
		   "reject %s: %d @%zu %s", shown, rc, R.err_offset, R.err);
		if (rc != bad[i].code || R.err_offset != off || !strstr(R.err, bad[i].msg))
			printf("#   want %d @%zu %s\n", bad[i].code, off, bad[i].msg);
	}
	wn_json_free(j);
}

static void test_depth(void)
{
	wn_json *j = wn_json_new();
	char buf[400];
	int n, i, rc;

	for (n = 63; n <= 66; n++) {
		/* n objects deep: {"a":{"a":...{}...}} */
		size_t o = 0;
		for (i = 0; i < n - 1; i++)
			o += (size_t)sprintf(buf + o, "{\"a\":");
		o += (size_t)sprintf(buf + o, "{}");
		for (i = 0; i < n - 1; i++)
			buf[o++] = '}';
		rc = wn_json_record(j, buf, o, &R);
		if (n <= WN_JSON_MAX_DEPTH)
			IS_INT(rc, 0, "%d nested objects are accepted", n);
		else
			OK(rc == WN_E_DEPTH && R.err_offset == (size_t)(WN_JSON_MAX_DEPTH * 5) &&
			   strcmp(R.err, "nesting deeper than 64 levels") == 0,
			   "%d nested objects are rejected: %d @%zu %s", n, rc, R.err_offset, R.err);
		/* an object holding n-1 nested arrays */
		o = (size_t)sprintf(buf, "{\"a\":");
		for (i = 0; i < n - 1; i++)
			buf[o++] = '[';
		for (i = 0; i < n - 1; i++)
			buf[o++] = ']';
		buf[o++] = '}';
		rc = wn_json_record(j, buf, o, &R);
		if (n <= WN_JSON_MAX_DEPTH)
			IS_INT(rc, 0, "depth %d with arrays is accepted", n);
		else
			OK(rc == WN_E_DEPTH && R.err_offset == (size_t)(5 + WN_JSON_MAX_DEPTH - 1),
			   "depth %d with arrays is rejected: %d @%zu %s", n, rc, R.err_offset, R.err);
	}
	/* Very deep input must not recurse without bound. */
	{
		size_t big = 1u << 20;
		char *d = malloc(big);
		memset(d, '[', big);
		memcpy(d, "{\"a\":", 5);
		rc = wn_json_record(j, d, big, &R);
		OK(rc == WN_E_DEPTH, "a megabyte of '[' is a depth error");
		free(d);
	}
	wn_json_free(j);
}

static void test_big_objects(void)
{
	wn_json *j = wn_json_new();
	struct sb a = { 0 }, b = { 0 };
	char k[64];
	int i, n = 3000, rc;
	uint8_t fp[16];

	/* Keys in descending and in ascending order: the sorted canonical form is the same. */
	sb_str(&a, "{");
	sb_str(&b, "{");
	for (i = 0; i < n; i++) {
		snprintf(k, sizeof k, "%s\"key_with_a_long_prefix_%05d\":%d", i ? "," : "", n - 1 - i, n - 1 - i);
		sb_str(&a, k);
		snprintf(k, sizeof k, "%s\"key_with_a_long_prefix_%05d\":%d", i ? "," : "", i, i);
		sb_str(&b, k);
	}
	sb_str(&a, "}");
	sb_str(&b, "}");
	rc = wn_json_record(j, a.p, a.n, &R);
	memcpy(fp, R.fp, 16);
	IS_INT(rc, 0, "object with %d members in reverse order parses", n);
	rc = wn_json_record(j, b.p, b.n, &R);
	OK(rc == 0 && memcmp(fp, R.fp, 16) == 0, "reverse and forward order give the same fingerprint");
	/* a duplicate in the middle of a big unsorted object */
	a.n -= 1;
	sb_str(&a, ",\"key_with_a_long_prefix_01234\":1}");
	rc = wn_json_record(j, a.p, a.n, &R);
	OK(rc == WN_E_DUPKEY && strstr(R.err, "key_with_a_long_prefix_01234") && R.err_offset == a.n - 33,
	   "duplicate in a big object: %d @%zu %s", rc, R.err_offset, R.err);
	free(a.p);
	free(b.p);

	/* long keys: the error message is cut, not overflowed */
	{
		struct sb c = { 0 };
		int m;
		sb_str(&c, "{\"");
		for (m = 0; m < 300; m++)
			sb_str(&c, "\xc3\xa9");
		sb_str(&c, "\":1,\"");
		for (m = 0; m < 300; m++)
			sb_str(&c, "\xc3\xa9");
		sb_str(&c, "\":2}");
		rc = wn_json_record(j, c.p, c.n, &R);
		OK(rc == WN_E_DUPKEY && strlen(R.err) < sizeof R.err && strstr(R.err, "...\"") &&
		   valid_utf8((const uint8_t *)R.err, strlen(R.err)), "long duplicate key is shortened: %s", R.err);
		free(c.p);
	}
	wn_json_free(j);
}

static void test_quote(void)
{
	char out[256];
	size_t n;

	n = wn_json_quote(out, "a\"b\\c\n\x01\x1f\x7f\xc3\xa9/", 12);
	OK(n == strlen("\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f\xc3\xa9/\"") &&
	   memcmp(out, "\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f\xc3\xa9/\"", n) == 0, "quote escapes '\"', '\\\\' and controls only");
	n = wn_json_quote(out, "", 0);
	OK(n == 2 && memcmp(out, "\"\"", 2) == 0, "quote empty string");
	n = wn_json_quote(out, "\b\f\r\t", 4);
	OK(n == 10 && memcmp(out, "\"\\b\\f\\r\\t\"", 10) == 0, "quote short escapes");
	n = wn_json_quote(out, "x\xed\xa0\x80y\xed\x9f\xbf", 8);
	OK(n == 13 && memcmp(out, "\"x\\ud800y\xed\x9f\xbf\"", n) == 0, "quote writes a lone surrogate as an escape");
	n = wn_json_quote(out, "\0", 1);
	OK(n == 8 && memcmp(out, "\"\\u0000\"", 8) == 0, "quote NUL");
	/* past 8 bytes the escaper copies blocks of 8: what needs escaping anywhere in one */
	for (size_t at = 0; at < 20; at++) {
		char in[24], want[64];
		static const char *const sp[] = { "\"", "\\", "\n", "\x01", "\xed\xa0\x80" };
		static const char *const esc[] = { "\\\"", "\\\\", "\\n", "\\u0001", "\\ud800" };
		int all = 1;
		for (int k = 0; k < 5; k++) {
			size_t l = strlen(sp[k]);
			memset(in, 'a', sizeof in);
			memcpy(in + at, sp[k], l);
			int w = snprintf(want, sizeof want, "\"%.*s%s%.*s\"", (int)at, in, esc[k], (int)(20 - at - l), in + at + l);
			n = at + l <= 20 ? wn_json_quote(out, in, 20) : 0;
			all &= at + l > 20 || (n == (size_t)w && !memcmp(out, want, n));
		}
		OK(all, "quote: a byte to escape at %zu of 20", at);
	}

	/* round trip through the parser */
	{
		wn_json *j = wn_json_new();
		const char *rec = "{\"s\":\"\\ud800\\u0000\\\"\\\\\\n\\ud83d\\ude00\\udfff\\ud800x\xe2\x82\xac\"}";
		char rec2[256];
		int rc, ok;
		wn_json_set_slot(j, 0, "s");
		rc = parse(j, rec);
		n = (size_t)sprintf(rec2, "{\"s\":");
		n += wn_json_quote(rec2 + n, R.slot[0].ptr, R.slot[0].len);
		rec2[n++] = '}';
		rec2[n] = 0;
		ok = rc == 0 && valid_utf8((const uint8_t *)rec2, n);
		OK(ok && same_fp(j, rec, rec2), "quoted slot reads back the same: %s", show(rec2));
		wn_json_free(j);
	}
}

static void test_misc(void)
{
	wn_json *j = wn_json_new();
	int rc;

	wn_json_free(NULL);
	IS_INT(wn_json_record(NULL, "{}", 2, &R), WN_E_USAGE, "NULL handle");
	IS_INT(wn_json_record(j, NULL, 1, &R), WN_E_USAGE, "NULL buffer");
	IS_INT(wn_json_record(j, NULL, 0, &R), WN_E_PARSE, "NULL empty buffer is an empty record");
	IS_INT(wn_json_record(j, "{}", 2, NULL), WN_E_USAGE, "NULL result");
	/* not NUL-terminated: the parser must stay within len */
	{
		char *p = malloc(7);
		memcpy(p, "{\"a\":1}", 7);
		rc = wn_json_record(j, p, 7, &R);
		IS_INT(rc, 0, "record without a terminating NUL");
		rc = wn_json_record(j, p, 6, &R);
		IS_INT(rc, WN_E_PARSE, "record cut short");
		memcpy(p, "{\"a\":\"", 6);
		rc = wn_json_record(j, p, 6, &R);
		IS_INT(rc, WN_E_PARSE, "string cut at the end of the buffer");
		free(p);
	}
	/* a valid record after an error: no state leaks between calls */
	IS_INT(parse(j, "{\"a\":{\"b\":[1,{\"c\":\"\\u"), WN_E_PARSE, "cut inside a \\u escape");
	rc = parse(j, "{\"a\":1}");
	{
		uint8_t fp[16];
		memcpy(fp, R.fp, 16);
		wn_json *k = wn_json_new();
		rc |= parse(k, "{\"a\":1}");
		OK(rc == 0 && memcmp(fp, R.fp, 16) == 0, "fingerprint does not depend on earlier calls");
		wn_json_free(k);
	}
	wn_json_free(j);
}

/* ---- randomised -------------------------------------------------------------- */

static void test_random(void)
{
	wn_json *j = wn_json_new();
	int iter, n = 3000, bad_same = 0, bad_diff = 0, bad_ref = 0, bad_parse = 0, bad_rt = 0, trials = 0;
	int garbage_bad = 0, garbage_acc = 0, garbage_n = 0;

	for (iter = 0; iter < n; iter++) {
		struct jv v, m;
		struct sb plain = { 0 }, wild = { 0 }, ref = { 0 }, mut = { 0 }, mref = { 0 }, back = { 0 };
		uint8_t fp[16];
		int rc, k;

		rand_jv(&v, 0, 1);
		write_jv(&plain, &v, 0);
		ref_canon(&ref, &v);
		rc = wn_json_record(j, plain.p, plain.n, &R);
		if (rc) {
			if (bad_parse++ < 5)
				printf("#   parse failed (%s @%zu): %s\n", R.err, R.err_offset, plain.p);
			goto next;
		}
		memcpy(fp, R.fp, 16);
		if (R.canon_len != ref.n || memcmp(R.canon, ref.p, ref.n) != 0) {
			if (bad_ref++ < 5)
				printf("#   canonical bytes differ from the reference for %s\n", plain.p);
		}
		/* canonical bytes back to JSON: same fingerprint */
		if (canon_to_json(R.canon, R.canon_len, &back) != R.canon_len ||
		    wn_json_record(j, back.p, back.n, &R) != 0 || memcmp(fp, R.fp, 16) != 0) {
			if (bad_rt++ < 5)
				printf("#   canonical form does not read back: %s\n", back.p ? back.p : "(null)");
		}
		for (k = 0; k < 3; k++) {
			wild.n = 0;
			write_jv(&wild, &v, 1);
			rc = wn_json_record(j, wild.p, wild.n, &R);
			if (rc || memcmp(fp, R.fp, 16) != 0) {
				if (bad_same++ < 5)
					printf("#   fingerprint changed (rc %d %s):\n#   %s\n#   %s\n", rc, R.err, plain.p, wild.p);
			}
		}
		/* one change anywhere must change the fingerprint */
		for (k = 0; k < 8; k++) {
			jv_copy(&m, &v);
			mutate(&m);
			mref.n = 0;
			ref_canon(&mref, &m);
			if (mref.n == ref.n && memcmp(mref.p, ref.p, ref.n) == 0) {
				jv_free(&m);
				continue;   /* the change was a no-op (e.g. swapped equal elements) */
			}
			trials++;
			mut.n = 0;
			write_jv(&mut, &m, 1);
			rc = wn_json_record(j, mut.p, mut.n, &R);
			if (rc || memcmp(fp, R.fp, 16) == 0 || R.canon_len != mref.n || memcmp(R.canon, mref.p, mref.n)) {
				if (bad_diff++ < 5)
					printf("#   change not seen (rc %d %s):\n#   %s\n#   %s\n", rc, R.err, plain.p, mut.p);
			}
			jv_free(&m);
			break;
		}
		/* truncations and byte damage of a valid record */
		if (iter % 10 == 0) {
			size_t cut;
			for (cut = 0; cut < wild.n; cut++) {
				garbage_n++;
				rc = wn_json_record(j, wild.p, cut, &R);
				if (rc == 0) {
					garbage_acc++;
					if (!valid_utf8((const uint8_t *)wild.p, cut))
						garbage_bad++;
				} else if (!R.err[0] || R.err_offset > cut) {
					garbage_bad++;
				}
			}
		}
		for (k = 0; k < 4 && wild.n; k++) {
			char *d = malloc(wild.n);
			size_t pos = rn((unsigned)wild.n);
			static const uint8_t evil[] = { 0x80, 0xbf, 0xc0, 0xc1, 0xc3, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 0, '\n',
				'"', '\\', '{', '}', '[', ']', ',', ':', 'u', '0', '-', '.', 'e' };
			memcpy(d, wild.p, wild.n);
			d[pos] = (char)(rn(2) ? evil[rn(sizeof evil)] : rn(256));
			garbage_n++;
			rc = wn_json_record(j, d, wild.n, &R);
			if (rc == 0) {
				garbage_acc++;
				if (!valid_utf8((const uint8_t *)d, wild.n))
					garbage_bad++;
			} else if (!R.err[0] || R.err_offset > wild.n) {
				garbage_bad++;
			}
			free(d);
		}
next:
		jv_free(&v);
		free(plain.p); free(wild.p); free(ref.p); free(mut.p); free(mref.p); free(back.p);
	}
	IS_INT(bad_parse, 0, "random: %d generated records all parse", n);
	IS_INT(bad_ref, 0, "random: canonical bytes match the reference encoder");
	IS_INT(bad_rt, 0, "random: canonical form written back as JSON keeps the fingerprint");
	IS_INT(bad_same, 0, "random: reordered keys, whitespace and escapes keep the fingerprint (%d records)", 3 * n);
	IS_INT(bad_diff, 0, "random: a single change changes the fingerprint (%d changes)", trials);
	OK(trials > n / 2, "random: enough changes were tried (%d)", trials);
	IS_INT(garbage_bad, 0, "random: damaged records (%d, %d accepted) never pass with invalid UTF-8", garbage_n, garbage_acc);

	/* pure garbage, biased toward JSON's own bytes */
	{
		static const char alpha[] = "{}[]\":,\\ntrufalsenul0123456789-+.eEu \t\r\n\xc3\xa9\xed\xa0\x80\xf0\x9f\xff";
		int bad = 0, acc = 0, i, rc;
		char buf[64];
		for (i = 0; i < 200000; i++) {
			size_t len = rn(sizeof buf), k;
			for (k = 0; k < len; k++)
				buf[k] = rn(4) ? alpha[rn(sizeof alpha - 1)] : (char)rn(256);
			if (len && rn(2))
				buf[0] = '{';
			rc = wn_json_record(j, buf, len, &R);
			if (rc == 0) {
				acc++;
				if (!valid_utf8((const uint8_t *)buf, len) || R.canon_len < 5 || R.canon[0] != 'o')
					bad++;
			} else if (!R.err[0] || R.err_offset > len || rc >= 0) {
				bad++;
			}
		}
		IS_INT(bad, 0, "random: garbage never crashes nor passes as invalid UTF-8 (%d accepted)", acc);
	}
	wn_json_free(j);
}

/* ---- benchmark --------------------------------------------------------------- */

static double now(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct lines {
	char **p;
	size_t *len, n;
	size_t bytes;
};

static void lines_add(struct lines *l, const char *s, size_t n)
{
	l->p = realloc(l->p, (l->n + 1) * sizeof *l->p);
	l->len = realloc(l->len, (l->n + 1) * sizeof *l->len);
	/* each line gets its own allocation, like a reader's line buffer */
	l->p[l->n] = malloc(n + 1);
	memcpy(l->p[l->n], s, n);
	l->p[l->n][n] = 0;
	l->len[l->n++] = n;
	l->bytes += n;
}

/* Spotify-like track records: album object, 1-3 artists, external_ids, a mix of
 * ASCII and non-ASCII titles. */
static void synth_tracks(struct lines *l, int n)
{
	static const char *const titles[] = {
		"Blue Monday", "Everything's Gone Green", "Caf\xc3\xa9 del Mar", "Sch\xc3\xb6ne neue Welt",
		"\xe5\xa4\x9c\xe3\x81\xab\xe9\xa7\x86\xe3\x81\x91\xe3\x82\x8b", "Bohemian Rhapsody - Remastered 2011",
		"\xd0\x9a\xd0\xb8\xd0\xbd\xd0\xbe", ("Stra\xc3\x9f" "e"), "Na\xc3\xafve Song \xf0\x9f\x8e\xb5", "Temptation",
	};
	static const char *const artists[] = {
		"New Order", "Bj\xc3\xb6rk", "Sigur R\xc3\xb3s", "YOASOBI", "\xe7\xb1\xb3\xe6\xb4\xa5\xe7\x8e\x84\xe5\xb8\xab",
		"Daft Punk", "Mot\xc3\xb6rhead",
	};
	char buf[2048];
	int i, k;

	for (i = 0; i < n; i++) {
		int na = 1 + (int)rn(3), o;
		o = snprintf(buf, sizeof buf,
			"{\"album\":{\"album_type\":\"album\",\"id\":\"%016llx\",\"name\":\"%s\",\"release_date\":\"19%02d-0%d-1%d\","
			"\"total_tracks\":%d},\"artists\":[",
			(unsigned long long)rnd(), titles[rn(10)], (int)rn(100), 1 + (int)rn(9), (int)rn(10), 1 + (int)rn(30));
		for (k = 0; k < na; k++)
			o += snprintf(buf + o, sizeof buf - (size_t)o, "%s{\"id\":\"%022llu\",\"name\":\"%s\",\"type\":\"artist\"}",
				k ? "," : "", (unsigned long long)rnd() % 10000000000000000000ull, artists[rn(7)]);
		o += snprintf(buf + o, sizeof buf - (size_t)o,
			"],\"disc_number\":1,\"duration_ms\":%d,\"explicit\":%s,\"external_ids\":{\"isrc\":\"GBAAP%07d\"},"
			"\"id\":\"%022llu\",\"name\":\"%s\",\"popularity\":%d,\"track_number\":%d,\"fetched_at\":1743033600000}",
			100000 + (int)rn(300000), rn(2) ? "true" : "false", (int)rn(10000000),
			(unsigned long long)rnd() % 10000000000000000000ull, titles[rn(10)], (int)rn(100), 1 + (int)rn(20));
		lines_add(l, buf, (size_t)o);
	}
}

static void bench_run(const char *what, struct lines *l, long loops)
{
	wn_json *j = wn_json_new();
	wn_jresult r;
	uint8_t *fps = malloc(l->n * 16);
	size_t i, bad = 0;
	long k;
	double t0, c0, t, ct;
	uint64_t sink = 0;

	wn_json_set_slot(j, 0, "id");
	wn_json_set_slot(j, 1, "external_ids.isrc");
	wn_json_add_ignore(j, "fetched_at");
	/* Check before timing: every line parses and its fingerprint is stable. */
	for (i = 0; i < l->n; i++) {
		if (wn_json_record(j, l->p[i], l->len[i], &r) != 0) {
			if (bad++ < 3)
				fprintf(stderr, "%s line %zu: %s\n", what, i + 1, r.err);
		}
		memcpy(fps + 16 * i, r.fp, 16);
	}
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < loops; k++)
		for (i = 0; i < l->n; i++) {
			wn_json_record(j, l->p[i], l->len[i], &r);
			sink += r.fp[0];
		}
	t = now(CLOCK_MONOTONIC) - t0;
	ct = now(CLOCK_THREAD_CPUTIME_ID) - c0;
	for (i = 0; i < l->n; i++) {
		wn_json_record(j, l->p[i], l->len[i], &r);
		if (memcmp(fps + 16 * i, r.fp, 16) != 0)
			bad++;
	}
	/* CPU time too: on a busy machine the wall clock also counts other processes. */
	printf("%s: %zu records (avg %.0f bytes) x %ld\n  %.0f records/s, %.1f MB/s wall clock; %.0f records/s per CPU second%s%s\n",
	       what, l->n, (double)l->bytes / (double)l->n, loops,
	       (double)l->n * (double)loops / t, (double)l->bytes * (double)loops / t / 1e6,
	       (double)l->n * (double)loops / ct, bad ? ", ERRORS" : "", sink == 1 ? " " : "");
	free(fps);
	wn_json_free(j);
}

static int bench(const char *file, long loops)
{
	struct lines real = { 0 }, syn = { 0 };
	FILE *f = fopen(file, "rb");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		perror(file);
		return 2;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n)
			lines_add(&real, line, (size_t)n);
	}
	fclose(f);
	free(line);
	rng_state = 42;
	synth_tracks(&syn, 1000);
	bench_run(file, &real, loops);
	bench_run("synthetic nested tracks", &syn, loops * (long)real.n / 1000 + 1);
	return 0;
}

/* The record's object remembers its key order for the next record: a record whose keys
 * look the same (first 8 bytes and length) but are not must not take the last record's
 * sort, nor hide a duplicate key. Each record's fingerprint on a warm handle must be the
 * one a fresh handle gives. */
static void test_order_memo(void)
{
	static const char *recs[] = {
		"{\"track_number\":1,\"duration_ms\":2,\"id\":3}",
		"{\"track_number\":1,\"duration_ms\":2,\"id\":3}",
		"{\"track_number\":1,\"duration_mx\":2,\"id\":3}",   /* same prefix and length */
		"{\"track_numbez\":1,\"duration_ms\":2,\"id\":3}",
		"{\"track_number\":5,\"duration_ms\":6,\"id\":7}",
		"{\"track_number\":1,\"duration_ms\":2,\"id\":3,\"x\":4}",
		"{\"id\":3,\"duration_ms\":2,\"track_number\":1}",
		"{\"duration_ms\":1,\"duration_mx\":2}",
		"{\"duration_ms\":1,\"duration_ms\":2}",                 /* a duplicate after it */
		"{\"a\":1,\"b\":2}",
		"{\"a\":1,\"a\":2}",
		"{\"b\":1,\"a\":2}",
		"{\"b\":1,\"b\":2}",
		NULL };
	wn_json *warm = wn_json_new();
	int bad = 0, i;
	for (int round = 0; round < 2; round++)
		for (i = 0; recs[i]; i++) {
			wn_json *fresh = wn_json_new();
			char a[200], b[200];
			fp_hex(warm, recs[i], strlen(recs[i]), a);
			fp_hex(fresh, recs[i], strlen(recs[i]), b);
			if (strcmp(a, b)) {
				printf("#   %s: warm %s, fresh %s\n", recs[i], a, b);
				bad++;
			}
			wn_json_free(fresh);
		}
	OK(!bad, "a handle that saw other key orders gives every record its own fingerprint and errors");
	OK(parse(warm, recs[7]) == 0 && parse(warm, recs[8]) == WN_E_DUPKEY, "a duplicate key is found after keys that look the same");
	OK(parse(warm, recs[9]) == 0 && parse(warm, recs[10]) == WN_E_DUPKEY && parse(warm, recs[11]) == 0 &&
	   parse(warm, recs[12]) == WN_E_DUPKEY, "and after short keys");
	wn_json_free(warm);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--bench") == 0)
		return bench(argv[2], argc >= 4 ? atol(argv[3]) : 5000);
	rng_state = tap_seed();
	{
		wn_json *j = wn_json_new();
		OK(j != NULL, "wn_json_new");
		test_equal(j);
		test_differ(j);
		test_canonical_bytes(j);
		wn_json_free(j);
	}
	test_ignore();
	test_slots();
	test_errors();
	test_depth();
	test_big_objects();
	test_quote();
	test_misc();
	test_order_memo();
	test_random();
	return tap_done();
}
