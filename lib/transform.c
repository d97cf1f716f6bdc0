/*
 * transform.c - a profile's transforms applied to one record: --rename, --drop, --keep,
 * --pseudonymise, in that order, and the profile's device families (doc/FORMAT.md,
 * "Record profiles"; transform.h).
 *
 * Two ways to apply them, one set of rules (member_rule, element_rule, replacement):
 * - ingest first asks json.c to transform the record while it parses it strictly
 *   (wn_json_record_edit with wn_xform_edit's callbacks): one pass over the text;
 * - any record that pass refuses is then transformed here, in a pass over its text with
 *   the token reader of jread.c (a member that no path reaches is copied as its bytes
 *   stand; one that a path reaches is rebuilt), and the strict parser reads the result
 *   as any record. That second way decides: nothing here needs to be the judge of
 *   strict JSON (a record this pass accepts and the parser refuses is still rejected,
 *   with its reason), and tests/unit/test_transform.c checks that both ways agree.
 *
 * Paths: rename's OLD paths are the record's own names; the other lists name members
 * after the renames. "a[].b" reaches member b of every element of array a. They are
 * compiled into a trie of the record's own names, so a member is looked up among the
 * few names below its parent's node, and a member no path reaches costs a scan.
 *
 * Pseudonyms: the lower-case hex of the first 16 bytes of HMAC-SHA256(key, value),
 * where value is a string's unescaped UTF-8 bytes or a number's or literal's text; null
 * stays null; in an array or object every value is replaced so (keys are kept).
 */
#include "internal.h"
#include "profile.h"
#include "transform.h"
#include "jread.h"
#include "json.h"

/* SHA-256's block function, called directly: OpenSSL's HMAC through EVP costs a
 * provider dispatch and a context set-up per call, several times the hash of a short
 * value; RFC 2104's HMAC over two saved SHA-256 states is the same function. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdlib.h>
/* the memo's hash of a short value, inlined: a call into the library costs as much */
#define XXH_INLINE_ALL
#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define PSEUDO_BYTES 16

/* A node of the trie: a member name (or "[]", the elements of an array) and what the
 * paths say of it. */
enum { N_DROP = 1, N_KEEP = 2, N_PSEUDO = 4, N_ABOVE_KEEP = 8, N_FAMILY = 16 };
typedef struct tnode {
	const char *name;          /* in the profile (or "[]") */
	size_t len;
	const char *rename;        /* its new name, or NULL */
	size_t rename_len;
	char *rename_text;         /* the new name written as JSON, "name": (made by build_trie) */
	size_t rename_text_len;
	unsigned flags;
	uint64_t listed;           /* wn_json_key_filter() bits of its children's names */
	int child, next;           /* first child, next sibling: indices, -1 none */
} tnode;
#define MAX_NODES (4 * WN_NPATHS * 8)

/* Replacements already made, by value. The values replaced repeat (an artist on many
 * tracks, a listener's name on every play, a few device names), and a pseudonym costs
 * two SHA-256 blocks; a value is looked up by its hash and compared whole. */
#define MEMO 4096                  /* entries, two ways of MEMO / 2 sets (a power of two): 384 KiB */
#define MEMO_VAL 48                /* longest value remembered */
typedef struct memo {
	uint64_t h;
	uint8_t n, rl, used;
	uint8_t older;             /* (a set's first way) the way the next new value takes */
	char v[MEMO_VAL];
	char r[2 * PSEUDO_BYTES];
} memo;

struct wn_xform {
	const wn_profile *p;
	tnode node[MAX_NODES];
	int nnodes;
	SHA256_CTX inner, outer;   /* HMAC: SHA-256 after (key ^ ipad) and after (key ^ opad) */
	wn_buf out;
	wn_buf str;                /* an unescaped string */
	size_t nparse;             /* bytes of the record the error is at */
	char contrib_hex[2 * PSEUDO_BYTES + 1];   /* the contributor's pseudonym (ed.inject_val) */
	wn_jedit ed;               /* the same transforms, for json.c's edited parse; its
	                              inject_key and inject_val: the member both ways put first */
	memo *memo;                /* MEMO entries, made on first use (NULL: none) */
	const char *why;
};

typedef struct walk {
	wn_xform *x;
	wn_jread j;
	const char *base;
} walk;

/* ---- the trie ---- */

static int child_of(const wn_xform *x, int parent, const char *name, size_t len)
{
	for (int c = x->node[parent].child; c >= 0; c = x->node[c].next)
		if (x->node[c].len == len && (!len || x->node[c].name[0] == name[0]) && !memcmp(x->node[c].name, name, len))
			return c;
	return -1;
}

static int add_child(wn_xform *x, int parent, const char *name, size_t len)
{
	int c = child_of(x, parent, name, len);
	if (c >= 0)
		return c;
	if (x->nnodes == MAX_NODES)
		return -1;
	c = x->nnodes++;
	x->node[c] = (tnode){ .name = name, .len = len, .child = -1, .next = x->node[parent].child };
	x->node[parent].listed |= wn_json_key_filter(name, len);
	x->node[parent].child = c;
	return c;
}

/* The node of a path, made if need be; `renamed`: the path names members after the
 * renames, so each step is first taken back to the record's own name. -1: no room. */
static int path_node(wn_xform *x, const char *path, int renamed)
{
	int n = 0;
	const char *p = path;
	while (*p) {
		const char *e = p;
		while (*e && *e != '.' && *e != '[')
			e++;
		const char *name = p;
		size_t len = (size_t)(e - p);
		if (renamed) {
			/* a child of n renamed to this name stands for it */
			for (int c = x->node[n].child; c >= 0; c = x->node[c].next)
				if (x->node[c].rename && strlen(x->node[c].rename) == len && !memcmp(x->node[c].rename, p, len)) {
					name = x->node[c].name;
					len = x->node[c].len;
					break;
				}
		}
		if ((n = add_child(x, n, name, len)) < 0)
			return -1;
		if (*e == '[') {
			if ((n = add_child(x, n, "[]", 2)) < 0)
				return -1;
			e += 2;
		}
		p = *e == '.' ? e + 1 : e;
	}
	return n;
}

static int build_trie(wn_xform *x)
{
	const wn_profile *p = x->p;
	x->nnodes = 1;
	x->node[0] = (tnode){ .name = "", .child = -1, .next = -1 };
	for (int i = 0; i < p->n_rename; i++) {
		int n = path_node(x, p->rename_from[i], 0);
		if (n < 0)
			return -1;
		tnode *t = &x->node[n];
		t->rename = p->rename_to[i];
		t->rename_len = strlen(t->rename);
		free(t->rename_text);   /* (a path renamed twice: the last name stands) */
		if (!(t->rename_text = malloc(6 * t->rename_len + 3)))
			return -1;
		t->rename_text_len = wn_json_quote(t->rename_text, t->rename, t->rename_len);
		t->rename_text[t->rename_text_len++] = ':';
	}
	const struct { const wn_path *v; int n; unsigned flag; } lists[] = {
		{ p->drop, p->n_drop, N_DROP }, { p->keep, p->n_keep, N_KEEP }, { p->pseudo, p->n_pseudo, N_PSEUDO },
		{ p->family, p->n_family, N_FAMILY } };
	for (size_t l = 0; l < 4; l++)
		for (int i = 0; i < lists[l].n; i++) {
			int n = path_node(x, lists[l].v[i], 1);
			if (n < 0)
				return -1;
			x->node[n].flags |= lists[l].flag;
		}
	/* the nodes above a kept one: kept as far as they lead to it */
	for (int pass = 0; pass < WN_JSON_MAX_DEPTH; pass++) {
		int changed = 0;
		for (int n = 0; n < x->nnodes; n++)
			for (int c = x->node[n].child; c >= 0; c = x->node[c].next)
				if ((x->node[c].flags & (N_KEEP | N_ABOVE_KEEP)) && !(x->node[n].flags & N_ABOVE_KEEP)) {
					x->node[n].flags |= N_ABOVE_KEEP;
					changed = 1;
				}
		if (!changed)
			break;
	}
	return 0;
}

static void edit_init(wn_xform *x);

wn_xform *wn_xform_new(const wn_profile *p, const uint8_t *key, size_t keylen)
{
	wn_xform *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	x->p = p;
	if (build_trie(x)) {
		wn_xform_free(x);
		return NULL;
	}
	edit_init(x);
	if (p->n_pseudo) {
		uint8_t k[SHA256_CBLOCK] = { 0 }, pad[SHA256_CBLOCK];
		if (!key) {
			wn_xform_free(x);
			return NULL;
		}
		if (keylen > SHA256_CBLOCK)
			SHA256(key, keylen, k);   /* a long key is hashed first (RFC 2104) */
		else
			memcpy(k, key, keylen);
		for (int i = 0; i < SHA256_CBLOCK; i++)
			pad[i] = k[i] ^ 0x36;
		SHA256_Init(&x->inner);
		SHA256_Update(&x->inner, pad, sizeof pad);
		for (int i = 0; i < SHA256_CBLOCK; i++)
			pad[i] = k[i] ^ 0x5c;
		SHA256_Init(&x->outer);
		SHA256_Update(&x->outer, pad, sizeof pad);
	}
	return x;
}

static void pseudonym(const wn_xform *x, const uint8_t *v, size_t n, char hex[2 * PSEUDO_BYTES + 3]);

int wn_xform_set_contributor(wn_xform *x, const char *name)
{
	if (!x->p->n_pseudo)
		return WN_E_USAGE;
	char hex[2 * PSEUDO_BYTES + 3];
	pseudonym(x, (const uint8_t *)name, strlen(name), hex);
	memcpy(x->contrib_hex, hex + 1, 2 * PSEUDO_BYTES);
	x->contrib_hex[2 * PSEUDO_BYTES] = 0;
	x->ed.inject_key = "contributor";
	x->ed.inject_val = x->contrib_hex;
	return 0;
}

int wn_xform_contributor(const wn_xform *x, char out[33])
{
	if (!x || !x->ed.inject_key)
		return -1;
	memcpy(out, x->contrib_hex, sizeof x->contrib_hex);
	return 0;
}

void wn_xform_free(wn_xform *x)
{
	if (!x)
		return;
	wn_buf_free(&x->out);
	wn_buf_free(&x->str);
	free(x->memo);
	for (int n = 0; n < x->nnodes; n++)
		free(x->node[n].rename_text);
	free(x);
}

/* ---- fast passes over values no path reaches ----
 * They find where a value ends, not whether it is strict JSON: the strict parser reads
 * the whole result after this pass, and refuses what is not. */

/* Past the string at p (its opening quote): the byte after its closing quote, or NULL;
 * *esc set when it holds a backslash. A loop, not memchr(): most strings of a record are
 * a few bytes long, shorter than a call costs. */
static inline const char *skip_str(const char *p, const char *e, int *esc)
{
	p++;
#ifdef __SSE2__
	/* 16 bytes at a time past those that are neither '"' nor '\\' */
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	while (e - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
		if (m) {
			p += __builtin_ctz(m);
			break;
		}
		p += 16;
	}
#endif
	for (; p < e; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			*esc = 1;
			if (++p == e)
				return NULL;
		}
	}
	return NULL;
}

static inline const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The token reader's whitespace, peek and eat, inline: they run once a member. */
static inline void ws(walk *w)
{
	w->j.p = skip_ws(w->j.p, w->j.e);
}
static inline int peek(walk *w)
{
	ws(w);
	return w->j.p < w->j.e ? (unsigned char)*w->j.p : -1;
}
static inline int eat(walk *w, char ch)
{
	if (peek(w) == (unsigned char)ch) {
		w->j.p++;
		return 1;
	}
	return 0;
}

/* Past one value at p (after whitespace): where it ends, or NULL. */
static const char *skip_value(const char *p, const char *e)
{
	p = skip_ws(p, e);
	if (p >= e)
		return NULL;
	int esc = 0;
	if (*p == '"')
		return skip_str(p, e, &esc);
	if (*p == '{' || *p == '[') {
		int depth = 0;
#ifdef __SSE2__
		const __m128i q = _mm_set1_epi8('"'), o1 = _mm_set1_epi8('{'), c1 = _mm_set1_epi8('}'),
			o2 = _mm_set1_epi8('['), c2 = _mm_set1_epi8(']');
#endif
		while (p < e) {
#ifdef __SSE2__
			/* past 16 bytes at a time that hold no quote and no bracket */
			while (e - p >= 16) {
				__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
				__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, o1)),
					_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, c1), _mm_cmpeq_epi8(v, o2)), _mm_cmpeq_epi8(v, c2)));
				unsigned m = (unsigned)_mm_movemask_epi8(hit);
				if (m) {
					p += __builtin_ctz(m);
					break;
				}
				p += 16;
			}
			if (p >= e)
				break;
#endif
			char ch = *p;
			if (ch == '"') {
				if (!(p = skip_str(p, e, &esc)))
					return NULL;
				continue;
			}
			if (ch == '{' || ch == '[') {
				if (++depth > WN_JSON_MAX_DEPTH)
					return NULL;
			} else if ((ch == '}' || ch == ']') && --depth == 0) {
				return p + 1;
			}
			p++;
		}
		return NULL;
	}
	const char *s = p;
	while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
		p++;
	return p > s ? p : NULL;
}

/* ---- the walk ---- */

static int bad(walk *w, const char *why)
{
	w->x->why = why;
	w->x->nparse = (size_t)(w->j.p - w->base);
	return WN_E_PARSE;
}

static inline int put(walk *w, const char *p, size_t n)
{
	wn_buf *b = &w->x->out;
	if (WN_LIKELY(b->cap - b->len >= n)) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
		return 0;
	}
	return wn_buf_put(b, p, n) ? WN_E_NOMEM : 0;
}

/* Copy one value as it stands. */
static int copy_value(walk *w, int depth)
{
	(void)depth;
	const char *s = skip_ws(w->j.p, w->j.e), *end = skip_value(s, w->j.e);
	if (!end)
		return bad(w, "malformed value");
	w->j.p = end;
	return put(w, s, (size_t)(end - s));
}

/* The pseudonym of v[0..n) as a JSON string (quotes included) into hex: the one
 * function every pseudonym is made with (values, the contributor). */
static void pseudonym(const wn_xform *x, const uint8_t *v, size_t n, char hex[2 * PSEUDO_BYTES + 3])
{
	uint8_t mac[32];
	SHA256_CTX h = x->inner;
	SHA256_Update(&h, v, n);
	SHA256_Final(mac, &h);
	h = x->outer;
	SHA256_Update(&h, mac, sizeof mac);
	SHA256_Final(mac, &h);
	hex[0] = '"';
	wn_hex(hex + 1, mac, PSEUDO_BYTES);
	hex[2 * PSEUDO_BYTES + 1] = '"';
	hex[2 * PSEUDO_BYTES + 2] = 0;
}

void wn_xform_keyed_hex(const wn_xform *x, const void *v, size_t n, char out[33])
{
	char hex[2 * PSEUDO_BYTES + 3];
	pseudonym(x, (const uint8_t *)v, n, hex);
	memcpy(out, hex + 1, 2 * PSEUDO_BYTES);
	out[2 * PSEUDO_BYTES] = 0;
}

static int replacement(wn_xform *x, int how, int type, const char *v, size_t n, char *out);

/* Replace one value (and everything in it) by its pseudonym. */
static int pseudo_value(walk *w, int depth)
{
	wn_xform *x = w->x;
	int ch = peek(w);
	if (depth > WN_JSON_MAX_DEPTH)
		return bad(w, "nested too deep");
	if (ch == '{' || ch == '[') {
		char close = ch == '{' ? '}' : ']';
		w->j.p++;
		int rc = put(w, ch == '{' ? "{" : "[", 1);
		for (int first = 1; !rc && !eat(w, close); first = 0) {
			if (!first && !eat(w, ','))
				return bad(w, ch == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
			if (!first)
				rc = put(w, ",", 1);
			if (!rc && ch == '{') {
				ws(w);
				const char *ks = w->j.p;
				if (wn_jread_str(&w->j, NULL, 0, NULL) || !eat(w, ':'))
					return bad(w, "malformed member");
				rc = put(w, ks, (size_t)(w->j.p - ks));   /* the key as written, and ':' */
			}
			if (!rc)
				rc = pseudo_value(w, depth + 1);
		}
		return rc ? rc : put(w, ch == '{' ? "}" : "]", 1);
	}
	const uint8_t *v;
	size_t n;
	if (ch == 'n')
		return copy_value(w, depth);
	if (ch == '"') {
		x->str.len = 0;
		int rc = wn_jread_str_buf(&w->j, &x->str);
		if (rc)
			return rc == WN_E_NOMEM ? rc : bad(w, "malformed string");
		v = (const uint8_t *)x->str.p;
		n = x->str.len;
	} else {
		ws(w);
		const char *s = w->j.p;
		if (wn_jread_skip(&w->j, depth))
			return bad(w, "malformed value");
		v = (const uint8_t *)s;
		n = (size_t)(w->j.p - s);
	}
	char r[WN_JEDIT_REPL_MAX + 2];
	int rl = replacement(x, WN_JE_EACH, ch == '"' ? WN_JT_STRING : WN_JT_NUMBER, (const char *)v, n, r + 1);
	r[0] = r[rl + 1] = '"';
	return put(w, r, (size_t)rl + 2);
}

static int rebuild(walk *w, int node, int kept, int depth);

/* The family of a device name, as Spotify's platform values name them ("Android OS 10
 * API 29 (samsung, SM-G973F)", "iOS 14.4 (iPhone12,1)", "OS X 10.15.7 [x86 8]",
 * "web_player", "Partner Google cast_tv", ...): the first family whose word the
 * lower-cased name holds, else "other". */
static const char *device_family(const char *s, size_t n)
{
	static const struct { const char *word, *family; } words[] = {
		{ "cast", "cast" }, { "android", "android" }, { "ios", "ios" }, { "iphone", "ios" }, { "ipad", "ios" },
		{ "windows", "windows" }, { "win32", "windows" }, { "os x", "osx" }, { "osx", "osx" }, { "macos", "osx" },
		{ "mac os", "osx" }, { "linux", "linux" }, { "web", "web" } };
	char low[128];
	if (n >= sizeof low)
		n = sizeof low - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	low[n] = 0;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strstr(low, words[i].word))
			return words[i].family;
	return "other";
}

/* ---- what the transforms do: the rules both walks follow ----
 * This pass (rebuild(), below) and json.c's edited parse (wn_json_record_edit) apply the
 * same transforms; what they mean is decided here, once, and json.c only carries it out. */

/* What becomes of the value of a member whose node is c (-1: none). */
static int value_how(const wn_xform *x, int c)
{
	const tnode *t = c >= 0 ? &x->node[c] : NULL;
	if (!t)
		return WN_JE_COPY;
	if (t->flags & N_PSEUDO)
		return WN_JE_EACH;
	if (t->flags & N_FAMILY)
		return WN_JE_WHOLE;
	return t->child >= 0 ? WN_JE_REBUILD : WN_JE_COPY;
}

/* The members below node c as json.c may take them without asking: when nothing is
 * projected there, those no path names are copied. */
static void below(const wn_xform *x, int c, wn_jedit_member *m)
{
	m->copy_unlisted = c >= 0 && !(x->p->n_keep && !m->kept);
	m->listed = c >= 0 ? x->node[c].listed : 0;
}

/* Member key[0..klen) of an object whose node is `node`, inside a --keep path or not. */
static void member_rule(const wn_xform *x, int node, int kept, const char *key, size_t klen, wn_jedit_member *m)
{
	int c = child_of(x, node, key, klen);
	const tnode *t = c >= 0 ? &x->node[c] : NULL;
	int projecting = x->p->n_keep && !kept;
	m->node = c;
	m->skip = t ? (t->flags & N_DROP) || (projecting && !(t->flags & (N_KEEP | N_ABOVE_KEEP))) : projecting;
	m->rename = t ? t->rename : NULL;
	m->rename_len = t ? t->rename_len : 0;
	m->rename_text = t ? t->rename_text : NULL;
	m->rename_text_len = t ? t->rename_text_len : 0;
	m->how = value_how(x, c);
	m->kept = kept || (t && (t->flags & N_KEEP));
	below(x, c, m);
}

/* The elements of an array whose node is `node`. */
static void element_rule(const wn_xform *x, int node, int kept, wn_jedit_member *m)
{
	int el = child_of(x, node, "[]", 2);
	m->node = el;
	m->skip = 0;
	m->rename = m->rename_text = NULL;
	m->rename_len = m->rename_text_len = 0;
	m->how = value_how(x, el);
	m->kept = kept || (el >= 0 && (x->node[el].flags & N_KEEP));
	below(x, el, m);
}

/* The replacement of a value (wn_jedit.replace): its pseudonym (WN_JE_EACH) or its device
 * family (WN_JE_WHOLE: a device name's family, any other value "other"); null is kept. */
static int replacement(wn_xform *x, int how, int type, const char *v, size_t n, char *out)
{
	if (type == WN_JT_NULL)
		return -1;
	memo *m = NULL;
	uint64_t h = 0;
	if (v && n <= MEMO_VAL && (x->memo || (x->memo = calloc(MEMO, sizeof *x->memo)))) {
		h = XXH3_64bits_withSeed(v, n, (uint64_t)how << 1 | (type == WN_JT_STRING));
		memo *set = &x->memo[(h & (MEMO / 2 - 1)) * 2];
		for (m = set; m < set + 2; m++)
			if (m->used && m->h == h && m->n == n && !memcmp(m->v, v, n)) {
				memcpy(out, m->r, m->rl);
				return m->rl;
			}
		m = !set[0].used ? set : !set[1].used ? set + 1 : set + (set[0].older ^= 1);
	}
	int rl;
	if (how == WN_JE_EACH) {
		char hex[2 * PSEUDO_BYTES + 3];
		pseudonym(x, (const uint8_t *)v, n, hex);
		memcpy(out, hex + 1, 2 * PSEUDO_BYTES);
		rl = 2 * PSEUDO_BYTES;
	} else {
		const char *fam = type == WN_JT_STRING ? device_family(v, n) : "other";
		rl = (int)strlen(fam);
		memcpy(out, fam, (size_t)rl);
	}
	if (m) {
		m->h = h;
		m->n = (uint8_t)n;
		m->rl = (uint8_t)rl;
		m->used = 1;
		memcpy(m->v, v, n);
		memcpy(m->r, out, (size_t)rl);
	}
	return rl;
}

static void member_cb(void *ud, int node, int kept, const char *key, size_t klen, wn_jedit_member *m)
{
	member_rule(ud, node, kept, key, klen, m);
}
static void element_cb(void *ud, int node, int kept, wn_jedit_member *m)
{
	element_rule(ud, node, kept, m);
}
static int replace_cb(void *ud, int how, int type, const char *v, size_t n, char *out)
{
	return replacement(ud, how, type, v, n, out);
}

const wn_jedit *wn_xform_edit(wn_xform *x)
{
	return &x->ed;
}

static void edit_init(wn_xform *x)
{
	static uint64_t editors;   /* editors made so far: each one's uid */

	x->ed.uid = __atomic_add_fetch(&editors, 1, __ATOMIC_RELAXED);
	x->ed.ud = x;
	x->ed.member = member_cb;
	x->ed.element = element_cb;
	x->ed.replace = replace_cb;
	x->ed.root = (wn_jedit_member){ .node = 0, .how = WN_JE_REBUILD };
	below(x, 0, &x->ed.root);
}

/* A device name replaced by its family; null stays null, any other value is "other". */
static int family_value(walk *w, int depth)
{
	wn_xform *x = w->x;
	int ch = peek(w);
	if (ch == 'n')
		return copy_value(w, depth);
	char r[WN_JEDIT_REPL_MAX];
	int rl;
	if (ch == '"') {
		x->str.len = 0;
		int rc = wn_jread_str_buf(&w->j, &x->str);
		if (rc)
			return rc == WN_E_NOMEM ? rc : bad(w, "malformed string");
		rl = replacement(x, WN_JE_WHOLE, WN_JT_STRING, x->str.p, x->str.len, r);
	} else {
		const char *end = skip_value(w->j.p, w->j.e);
		if (!end)
			return bad(w, "malformed value");
		w->j.p = end;
		rl = replacement(x, WN_JE_WHOLE, WN_JT_OBJECT, NULL, 0, r);
	}
	return wn_buf_json_str(&x->out, r, (size_t)rl) ? WN_E_NOMEM : 0;
}

/* The value of a member as m says: pseudonymised, generalised, copied, or rebuilt. */
static int member_value(walk *w, const wn_jedit_member *m, int depth)
{
	int ch = peek(w);
	switch (m->how) {
	case WN_JE_EACH:
		return pseudo_value(w, depth);
	case WN_JE_WHOLE:
		return family_value(w, depth);
	case WN_JE_REBUILD:
		if (ch == '{' || ch == '[')
			return rebuild(w, m->node, m->kept, depth);
		break;
	}
	return copy_value(w, depth);
}

/* An object or array some path reaches into (node), rebuilt member by member. */
static int rebuild(walk *w, int node, int kept, int depth)
{
	wn_xform *x = w->x;
	if (depth > WN_JSON_MAX_DEPTH)
		return bad(w, "nested too deep");
	int ch = peek(w);
	int rc;
	wn_jedit_member m;
	if (ch == '[') {
		w->j.p++;
		if ((rc = put(w, "[", 1)))
			return rc;
		element_rule(x, node, kept, &m);
		for (int first = 1; !eat(w, ']'); first = 0) {
			if (!first && (!eat(w, ',') || (rc = put(w, ",", 1))))
				return rc ? rc : bad(w, "expected ',' or ']'");
			if ((rc = member_value(w, &m, depth + 1)))
				return rc;
		}
		return put(w, "]", 1);
	}
	if (!eat(w, '{'))
		return bad(w, depth ? "malformed value" : "not an object");
	if ((rc = put(w, "{", 1)))
		return rc;
	int n_out = 0;
	for (int first = 1; !eat(w, '}'); first = 0) {
		if (!first && !eat(w, ','))
			return bad(w, "expected ',' or '}'");
		ws(w);
		int esc = 0;
		const char *ks = w->j.p, *ke = ks < w->j.e && *ks == '"' ? skip_str(ks, w->j.e, &esc) : NULL;
		const char *key;
		size_t klen;
		if (!ke)
			return bad(w, "malformed key");
		if (!esc) {
			key = ks + 1;   /* no escape: the bytes are the name */
			klen = (size_t)(ke - ks - 2);
			w->j.p = ke;
		} else {
			x->str.len = 0;
			if ((rc = wn_jread_str_buf(&w->j, &x->str)))
				return rc == WN_E_NOMEM ? rc : bad(w, "malformed key");
			key = x->str.p;
			klen = x->str.len;
		}
		if (!eat(w, ':'))
			return bad(w, "expected ':' after key");
		member_rule(x, node, kept, key, klen, &m);
		if (m.skip) {
			const char *end = skip_value(w->j.p, w->j.e);
			if (!end)
				return bad(w, "malformed value");
			w->j.p = end;
			continue;
		}
		if (n_out++ && (rc = put(w, ",", 1)))
			return rc;
		if (m.node < 0) {
			/* no path reaches it: the member as it stands, key to value's end, in one copy */
			const char *end = skip_value(w->j.p, w->j.e);
			if (!end)
				return bad(w, "malformed value");
			w->j.p = end;
			if ((rc = put(w, ks, (size_t)(end - ks))))
				return rc;
			continue;
		}
		if (m.rename)
			rc = put(w, m.rename_text, m.rename_text_len);
		else if (!(rc = put(w, ks, (size_t)(ke - ks))))
			rc = put(w, ":", 1);
		if (rc || (rc = member_value(w, &m, depth + 1)))
			return rc;
	}
	return put(w, "}", 1);
}

int wn_xform_apply(wn_xform *x, const char *rec, size_t n, const char **out, size_t *outlen, const char **why,
	size_t *err_off)
{
	walk w;
	w.x = x;
	w.j.p = rec;
	w.j.e = rec + n;
	w.base = rec;
	x->out.len = 0;
	x->why = NULL;
	if (wn_buf_reserve(&x->out, n + 256))
		return WN_E_NOMEM;
	int rc = rebuild(&w, 0, 0, 0);
	if (!rc && wn_jread_peek(&w.j) != -1)
		rc = bad(&w, "trailing data after the record");
	if (rc) {
		*why = x->why ? x->why : wn_strerror(rc);
		*err_off = x->nparse;
		return rc;
	}
	if (x->ed.inject_key) {
		/* the contributor first, before any member (the output is one object, "{...}") */
		char inj[64];
		size_t cl = (size_t)snprintf(inj, sizeof inj, "\"%s\":\"%s\"", x->ed.inject_key, x->ed.inject_val);
		size_t add = cl + (x->out.len > 2);
		if (wn_buf_reserve(&x->out, add))
			return WN_E_NOMEM;
		memmove(x->out.p + 1 + add, x->out.p + 1, x->out.len - 1);
		memcpy(x->out.p + 1, inj, cl);
		if (add > cl)
			x->out.p[1 + cl] = ',';
		x->out.len += add;
	}
	*out = x->out.p;
	*outlen = x->out.len;
	return 0;
}
