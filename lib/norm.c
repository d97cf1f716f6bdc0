/*
 * norm.c - the matching keys of a record: normalised text, keys, title analysis,
 * artist lists, and the match predicates over them (norm.h).
 *
 * This file owns the rules of norm version WN_NORM_VERSION; doc/FORMAT.md section 14
 * states them so that the keys can be recomputed elsewhere, and every rule there has a
 * case in tests/unit/test_norm.c. Unicode work (NFKC, case folding, categories) is
 * utf8proc's, so keys also depend on its Unicode version.
 *
 * Speed: a title or a name is a few dozen bytes and this runs over every record of a
 * catalog, so nothing here allocates once the workspace's buffers have grown to the
 * longest input: an all-ASCII text (most of them) takes a byte loop instead of utf8proc,
 * and the keys, lists and texts of a call live in the caller's wn_norm. Keys are built
 * as offsets into the workspace's key buffer (which may move while it grows) and turned
 * into pointers once the call is done.
 */
#include "internal.h"
#include "norm.h"

#include <stdlib.h>
#include <utf8proc.h>
#define XXH_STATIC_LINKING_ONLY   /* XXH3_state_t on the stack: no allocation per set */
#include <xxhash.h>

const char *wn_norm_unicode_version(void)
{
	return utf8proc_unicode_version();
}

void wn_norm_init(wn_norm *w)
{
	memset(w, 0, sizeof *w);
}

void wn_norm_free(wn_norm *w)
{
	free(w->cp);
	free(w->fix);
	free(w->text);
	free(w->work);
	free(w->key);
	for (size_t i = 0; i < 256; i++)
		free(w->fast[i]);
	free(w->list[0]);
	free(w->list[1]);
	memset(w, 0, sizeof *w);
}

/* Room for need elements of size sz in *p (capacity *cap). 0 or WN_E_NOMEM. */
static int room(void *pp, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	void *q = realloc(*(void **)pp, c * sz);
	if (!q)
		return WN_E_NOMEM;
	*(void **)pp = q;
	*cap = c;
	return 0;
}

/* ---- 14.1 the normalised text ---- */

/* The lumping map (FORMAT.md 14.1), applied to every code point before decomposition
 * and again to what decomposition yields. */
static int32_t lump(int32_t c, void *ud)
{
	(void)ud;
	if (c < 0x80)
		return c == '`' ? '\'' : c < 0x20 || c == 0x7f ? ' ' : c;
	switch (c) {
	case 0x00b4: case 0x02b9: case 0x02bb: case 0x02bc: case 0x02bd: case 0x2018: case 0x2019:
	case 0x201a: case 0x201b: case 0x2032: case 0x2035: case 0x2039: case 0x203a: case 0xff07:
		return '\'';
	case 0x00ab: case 0x00bb: case 0x201c: case 0x201d: case 0x201e: case 0x201f: case 0x2033:
	case 0x2036: case 0x301d: case 0x301e: case 0x301f: case 0xff02:
		return '"';
	case 0x2212:
		return '-';
	case 0x3010: case 0x3014: case 0x3016: case 0x3018:
		return '[';
	case 0x3011: case 0x3015: case 0x3017: case 0x3019:
		return ']';
	}
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_PD:
		return '-';
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_CC:
		return ' ';
	default:
		return c;
	}
}

static int is_mark(int cat)
{
	return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME;
}

static int is_letter(int cat)
{
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

/* A letter of the Latin, Greek or Cyrillic blocks (FORMAT.md 14.1): the marks after it go. */
static int lgc_block(int32_t c)
{
	return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0xaa || c == 0xba ||
		(c >= 0xc0 && c <= 0x2af) ||     /* Latin-1 letters, Latin Extended-A and -B, IPA */
		(c >= 0x370 && c <= 0x52f) ||    /* Greek and Coptic, Cyrillic, Cyrillic Supplement */
		(c >= 0x1c80 && c <= 0x1c8f) ||  /* Cyrillic Extended-C */
		(c >= 0x1d00 && c <= 0x1dbf) ||  /* Phonetic Extensions (and Supplement) */
		(c >= 0x1e00 && c <= 0x1fff) ||  /* Latin Extended Additional, Greek Extended */
		(c >= 0x2c60 && c <= 0x2c7f) ||  /* Latin Extended-C */
		(c >= 0x2de0 && c <= 0x2dff) ||  /* Cyrillic Extended-A */
		(c >= 0xa640 && c <= 0xa69f) ||  /* Cyrillic Extended-B */
		(c >= 0xa720 && c <= 0xa7ff) ||  /* Latin Extended-D */
		(c >= 0xab30 && c <= 0xab6f);    /* Latin Extended-E */
}

/* Latin letters whose diacritic is part of the letter (no decomposition). */
static int32_t strip_letter(int32_t c)
{
	switch (c) {
	case 0x00f8: return 'o';   /* ø */
	case 0x0111: return 'd';   /* đ */
	case 0x0127: return 'h';   /* ħ */
	case 0x0131: return 'i';   /* ı */
	case 0x0142: return 'l';   /* ł */
	case 0x0167: return 't';   /* ŧ */
	default: return c;
	}
}

/* s with every byte that does not start a valid UTF-8 sequence (or continue one) as
 * U+FFFD, into w->fix. utf8proc refuses invalid input; the parser's strings can hold
 * the UTF-8 form of a lone surrogate escape. */
static int fix_utf8(wn_norm *w, const char *s, size_t n, size_t *fixed)
{
	if (room(&w->fix, &w->fixcap, 3 * n + 1, 1))
		return WN_E_NOMEM;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
		if (l < 1) {
			memcpy(w->fix + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(w->fix + o, s + i, (size_t)l);
			o += (size_t)l;
			i += (size_t)l;
		}
	}
	*fixed = o;
	return 0;
}

/* NFKC_Casefold with the lumping map, into w->cp: *len code points. */
static int decompose(wn_norm *w, const char *s, size_t n, size_t *len)
{
	const utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |
		UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;
	int fixed = 0;
	for (;;) {
		utf8proc_ssize_t r = utf8proc_decompose_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n,
			w->cp, (utf8proc_ssize_t)w->cpcap, opt, lump, NULL);
		if (r == UTF8PROC_ERROR_INVALIDUTF8 && !fixed) {
			size_t fn;
			if (fix_utf8(w, s, n, &fn))
				return WN_E_NOMEM;
			s = w->fix;
			n = fn;
			fixed = 1;
			continue;
		}
		if (r < 0)
			return WN_E_NOMEM;   /* UTF8PROC_ERROR_NOMEM or OVERFLOW: nothing else can happen */
		if ((size_t)r <= w->cpcap) {
			*len = (size_t)r;
			return 0;
		}
		if (room(&w->cp, &w->cpcap, (size_t)r, sizeof *w->cp))
			return WN_E_NOMEM;
	}
}

/* Append c to the text, spaces collapsed (a space is written only before something). */
static size_t put_cp(char *t, size_t o, int32_t c, int *space)
{
	if (c == ' ') {
		*space = o > 0;
		return o;
	}
	if (*space) {
		t[o++] = ' ';
		*space = 0;
	}
	return o + (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)t + o);
}

/* The code points of the normalised text of s[0..n), spaces not yet collapsed, into
 * w->cp: decomposition, marks after Latin/Greek/Cyrillic letters dropped, composition. */
static int normalise(wn_norm *w, const char *s, size_t n, size_t *len)
{
	size_t dl, o = 0;
	int rc = decompose(w, s, n, &dl);
	if (rc)
		return rc;
	int32_t *cp = w->cp;
	int after_lgc = 0;   /* the last code point that is not a mark is a Latin/Greek/Cyrillic letter */
	for (size_t i = 0; i < dl; i++) {
		int32_t c = lump(cp[i], NULL);
		int cat = utf8proc_category(c);
		if (is_mark(cat)) {
			if (after_lgc)
				continue;
		} else {
			after_lgc = is_letter(cat) && lgc_block(c);
			c = strip_letter(c);
		}
		cp[o++] = c;
	}
	utf8proc_ssize_t r = utf8proc_normalize_utf32(cp, (utf8proc_ssize_t)o, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (r < 0)
		return WN_E_NOMEM;
	*len = (size_t)r;
	return 0;
}

/* The whole text through utf8proc (the definition; the fast path below must agree). */
static int text_unicode(wn_norm *w, const char *s, size_t n)
{
	size_t len, o = 0;
	int rc = normalise(w, s, n, &len), space = 0;
	if (rc)
		return rc;
	if (room(&w->text, &w->textcap, 4 * len + 1, 1))
		return WN_E_NOMEM;
	for (size_t i = 0; i < len; i++)
		o = put_cp(w->text, o, w->cp[i], &space);
	w->text[o] = 0;
	w->textlen = o;
	return 0;
}

/* ---- the fast path ----
 * Normalisation works character by character except where marks are involved: a mark
 * is dropped or kept by what precedes it, is reordered among its neighbours, and
 * composes with what precedes it (as Hangul jamo do). So a text without marks or jamo,
 * before and after decomposition, normalises to the concatenation of what each of its
 * characters normalises to alone; the workspace remembers that, per code point of the
 * Basic Multilingual Plane (in pages of 256, made when first needed), as up to 7 UTF-8
 * bytes. Anything else takes text_unicode. The unit test checks the two paths agree on
 * random texts. */
#define FAST_UNKNOWN 0xff
#define FAST_NO 0xfe

static int jamo(int32_t c)
{
	return (c >= 0x1100 && c <= 0x11ff) || (c >= 0xa960 && c <= 0xa97f) || (c >= 0xd7b0 && c <= 0xd7ff);
}

/* What c normalises to alone, as cache entry: byte 0 the length, then the bytes. */
static uint64_t fast_entry(wn_norm *w, int32_t c)
{
	const utf8proc_property_t *p = utf8proc_get_property(c);
	if (is_mark(p->category) || p->combining_class || jamo(c))
		return FAST_NO;
	uint8_t in[4], out[8] = { 0 };
	size_t len, n = 0;
	if (normalise(w, (const char *)in, (size_t)utf8proc_encode_char(c, in), &len))
		return FAST_NO;
	for (size_t i = 0; i < len; i++) {
		const utf8proc_property_t *q = utf8proc_get_property(w->cp[i]);
		uint8_t b[4];
		size_t l = (size_t)utf8proc_encode_char(w->cp[i], b);
		if (is_mark(q->category) || q->combining_class || jamo(w->cp[i]) || n + l > 7)
			return FAST_NO;
		memcpy(out + 1 + n, b, l);
		n += l;
	}
	out[0] = (uint8_t)n;
	uint64_t e;
	memcpy(&e, out, 8);
	return e;
}

/* The normalised text of s[0..n) into w->text without utf8proc where the text allows;
 * 1 if done, 0 if the text needs text_unicode. */
static int text_fast(wn_norm *w, const char *s, size_t n)
{
	if (room(&w->text, &w->textcap, 7 * n + 1, 1))
		return -1;
	char *t = w->text;
	size_t o = 0;
	int space = 0;
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		const unsigned char *b;
		size_t l;
		uint8_t asc;
		uint64_t e;
		if (ch < 0x80) {
			asc = (uint8_t)lump(ch, NULL);
			if (asc >= 'A' && asc <= 'Z')
				asc += 32;
			b = &asc;
			l = 1;
			i++;
		} else {
			utf8proc_int32_t c;
			utf8proc_ssize_t cl = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
			if (cl < 1 || c > 0xffff)
				return 0;
			i += (size_t)cl;
			uint64_t *page = w->fast[c >> 8];
			if (!page) {
				if (!(page = w->fast[c >> 8] = malloc(256 * sizeof *page)))
					return -1;
				memset(page, FAST_UNKNOWN, 256 * sizeof *page);
			}
			e = page[c & 0xff];
			if ((uint8_t)e == FAST_UNKNOWN)
				e = page[c & 0xff] = fast_entry(w, c);
			if ((uint8_t)e == FAST_NO)
				return 0;
			b = (const unsigned char *)&e + 1;
			l = (uint8_t)e;
		}
		for (size_t k = 0; k < l; k++) {
			if (b[k] == ' ') {
				space = o > 0;
				continue;
			}
			if (space) {
				t[o++] = ' ';
				space = 0;
			}
			t[o++] = (char)b[k];
		}
	}
	t[o] = 0;
	w->textlen = o;
	return 1;
}

int wn_norm_text_unicode(wn_norm *w, const char *s, size_t n, wn_str *out)
{
	int rc = text_unicode(w, s, n);
	if (rc)
		return rc;
	out->p = w->text;
	out->n = w->textlen;
	return 0;
}

int wn_norm_text(wn_norm *w, const char *s, size_t n, wn_str *out)
{
	int rc = text_fast(w, s, n);
	if (rc < 0)
		return WN_E_NOMEM;
	if (!rc && (rc = text_unicode(w, s, n)))
		return rc;
	out->p = w->text;
	out->n = w->textlen;
	return 0;
}

/* ---- 14.2 keys ---- */

/* Does t[0..n) hold a letter, mark or digit? What a key keeps: general categories L, M, N. */
static int key_char(const char *t, size_t n, size_t i, size_t *len)
{
	unsigned char ch = (unsigned char)t[i];
	if (ch < 0x80) {
		*len = 1;
		return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
	}
	utf8proc_int32_t c;
	utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)t + i, (utf8proc_ssize_t)(n - i), &c);
	if (l < 1) {
		*len = 1;
		return 0;
	}
	*len = (size_t)l;
	int cat = utf8proc_category(c);
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO;
}

static int has_key_char(const char *t, size_t n)
{
	for (size_t i = 0, l; i < n; i += l)
		if (key_char(t, n, i, &l))
			return 1;
	return 0;
}

/* The key of the normalised text t[0..n), appended to w->key: *off and *len say where.
 * At most 3n bytes ("&" becomes "and"). */
static int key_append(wn_norm *w, const char *t, size_t n, int what, size_t *off, size_t *len)
{
	while (n && t[0] == ' ')
		t++, n--;
	while (n && t[n - 1] == ' ')
		n--;
	if (what == WN_NORM_ARTIST && n > 4 && !memcmp(t, "the ", 4) && has_key_char(t + 4, n - 4))
		t += 4, n -= 4;
	if (room(&w->key, &w->keycap, w->keylen + 3 * n + 1, 1))
		return WN_E_NOMEM;
	char *k = w->key + w->keylen;
	size_t o = 0;
	for (size_t i = 0, l; i < n; i += l) {
		if (t[i] == '&') {
			memcpy(k + o, "and", 3);
			o += 3;
			l = 1;
		} else if (key_char(t, n, i, &l)) {
			for (size_t b = 0; b < l; b++)
				k[o++] = t[i + b];
		}
	}
	if (!o)   /* nothing but punctuation ("!!!"): the text without its spaces */
		for (size_t i = 0; i < n; i++)
			if (t[i] != ' ')
				k[o++] = t[i];
	*off = w->keylen;
	*len = o;
	w->keylen += o;
	return 0;
}

/* Lists are built with offsets into w->key (which may move while it grows); rebase
 * turns them into pointers once the call is done. */
#define OFF(o) ((const char *)(uintptr_t)(o))
static void rebase(wn_norm *w, wn_str *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i].p = w->key + (uintptr_t)s[i].p;
}

static int list_add(wn_norm *w, int l, size_t off, size_t n)
{
	if (room(&w->list[l], &w->listcap[l], w->nlist[l] + 1, sizeof *w->list[l]))
		return WN_E_NOMEM;
	w->list[l][w->nlist[l]++] = (wn_str){ OFF(off), n };
	return 0;
}

int wn_norm_key(wn_norm *w, const char *s, size_t n, int what, wn_str *out)
{
	wn_str t;
	size_t off, len;
	int rc = wn_norm_text(w, s, n, &t);
	if (rc)
		return rc;
	w->keylen = 0;
	if ((rc = key_append(w, t.p, t.n, what, &off, &len)))
		return rc;
	out->p = w->key + off;
	out->n = len;
	return 0;
}

uint64_t wn_norm_hash(const char *p, size_t n)
{
	if (!n)
		return 0;
	uint64_t h = XXH3_64bits(p, n);
	return h ? h : 1;
}

uint64_t wn_norm_set_hash(const wn_str *s, size_t n)
{
	if (!n)
		return 0;
	XXH3_state_t st;
	XXH3_64bits_reset(&st);
	for (size_t i = 0; i < n; i++) {
		XXH3_64bits_update(&st, s[i].p, s[i].n);
		XXH3_64bits_update(&st, "", 1);
	}
	uint64_t h = XXH3_64bits_digest(&st);
	return h ? h : 1;
}

/* ---- 14.4 artist lists ---- */

/* The separators of a list of names (FORMAT.md 14.4); plus " + " in a featured list. */
static size_t separator(const char *t, size_t n, size_t i, int feat)
{
	static const char *const sep[] = { " feat. ", " feat ", " ft. ", " ft ", " featuring ", " & ", " x " };
	if (t[i] == ',')
		return 1;
	if (t[i] != ' ')
		return 0;
	for (size_t k = 0; k < sizeof sep / sizeof *sep; k++) {
		size_t l = strlen(sep[k]);
		if (n - i >= l && !memcmp(t + i, sep[k], l))
			return l;
	}
	if (feat && n - i >= 3 && !memcmp(t + i, " + ", 3))
		return 3;
	return 0;
}

static int same_key(const wn_norm *w, const wn_str *a, size_t off, size_t n)
{
	return a->n == n && !memcmp(w->key + (uintptr_t)a->p, w->key + off, n);
}

/* Add the key of name t[0..n) to list l unless it is empty or there already. */
static int add_name(wn_norm *w, int l, const char *t, size_t n)
{
	size_t off, len, save = w->keylen;
	int rc = key_append(w, t, n, WN_NORM_ARTIST, &off, &len);
	if (rc)
		return rc;
	for (size_t i = 0; i < w->nlist[l] && len; i++)
		if (same_key(w, &w->list[l][i], off, len))
			len = 0;
	if (!len) {
		w->keylen = save;
		return 0;
	}
	return list_add(w, l, off, len);
}

/* Split the normalised names t[0..n) and add each to list l. */
static int split_names(wn_norm *w, int l, const char *t, size_t n, int feat)
{
	size_t start = 0;
	for (size_t i = 0; i < n;) {
		size_t sl = separator(t, n, i, feat);
		if (!sl) {
			i++;
			continue;
		}
		int rc = add_name(w, l, t + start, i - start);
		if (rc)
			return rc;
		i += sl;
		start = i;
	}
	return add_name(w, l, t + start, n - start);
}

int wn_norm_artists(wn_norm *w, const wn_str *names, size_t nnames, const char *credit, size_t clen,
	wn_artists *a)
{
	wn_str t;
	int rc;
	w->keylen = 0;
	w->nlist[0] = 0;
	for (size_t i = 0; i < nnames; i++)
		if ((rc = wn_norm_text(w, names[i].p, names[i].n, &t)) || (rc = add_name(w, 0, t.p, t.n)))
			return rc;
	if (!nnames && credit && ((rc = wn_norm_text(w, credit, clen, &t)) || (rc = split_names(w, 0, t.p, t.n, 0))))
		return rc;
	rebase(w, w->list[0], w->nlist[0]);
	a->key = w->list[0];
	a->n = w->nlist[0];
	return 0;
}

/* ---- 14.3 title analysis ---- */

#define MAX_WORDS 32   /* a part of more words is "other" */

typedef struct word {
	const char *p;
	size_t n;
} word;

/* The words of t[0..n): runs of ASCII letters and digits and of non-ASCII bytes. */
static size_t words_of(const char *t, size_t n, word *w)
{
	size_t nw = 0;
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)t[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch >= 0x80 || (ch >= 'A' && ch <= 'Z'))) {
			i++;
			continue;
		}
		size_t s = i;
		while (i < n && (ch = (unsigned char)t[i], (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			ch >= 0x80 || (ch >= 'A' && ch <= 'Z')))
			i++;
		if (nw == MAX_WORDS)
			return MAX_WORDS + 1;
		w[nw++] = (word){ t + s, i - s };
	}
	return nw;
}

static int is(const word *w, const char *s)
{
	return w->n == strlen(s) && !memcmp(w->p, s, w->n);
}

/* Is w one of the NUL-separated, double-NUL-ended words in set? */
static int in(const word *w, const char *set)
{
	for (; *set; set += strlen(set) + 1)
		if (is(w, set))
			return 1;
	return 0;
}

static int is_year(const word *w)
{
	return w->n == 4 && (!memcmp(w->p, "19", 2) || !memcmp(w->p, "20", 2)) &&
		w->p[2] >= '0' && w->p[2] <= '9' && w->p[3] >= '0' && w->p[3] <= '9';
}

#define VERSION_W "version\0ver\0"
#define REMASTER_W "remaster\0remastered\0remasterizado\0remasterizada\0"

/* A neutral part (FORMAT.md 14.3): the words, years left out, are one of the phrases. */
static int neutral(const word *all, size_t nall)
{
	word w[MAX_WORDS];
	size_t n = 0;
	for (size_t i = 0; i < nall; i++)
		if (!is_year(&all[i]))
			w[n++] = all[i];
	if (!n)
		return 0;
	size_t r = n >= 2 && in(&w[0], "digitally\0digital\0") ? 1 : 0;
	if (in(&w[r], REMASTER_W))
		return n == r + 1 || (n == r + 2 && in(&w[r + 1], VERSION_W "edition\0"));
	if (r)
		return 0;
	if (in(&w[0], "explicit\0clean\0edited\0"))
		return n == 1 || (n == 2 && in(&w[1], VERSION_W));
	if (is(&w[0], "deluxe"))
		return n == 1 || (n == 2 && in(&w[1], VERSION_W "edition\0"));
	if (n != 2)
		return 0;
	return (is(&w[0], "bonus") && is(&w[1], "track")) ||
		(in(&w[0], "album\0single\0main\0original\0") && in(&w[1], VERSION_W)) ||
		(is(&w[0], "original") && is(&w[1], "mix"));
}

/* A distinguishing part: one of the words, or two of them in a row. */
static int distinguishing(const word *w, size_t n)
{
	static const char one[] = "live\0remix\0remixed\0rmx\0mix\0edit\0acoustic\0instrumental\0demo\0"
		"karaoke\0acappella\0acapella\0rerecorded\0mono\0stereo\0slowed\0cover\0unplugged\0" VERSION_W;
	for (size_t i = 0; i < n; i++) {
		if (in(&w[i], one))
			return 1;
		if (i + 1 < n && ((is(&w[i], "a") && in(&w[i + 1], "cappella\0capella\0")) ||
			(is(&w[i], "sped") && is(&w[i + 1], "up")) || (is(&w[i], "re") && is(&w[i + 1], "recorded"))))
			return 1;
	}
	return 0;
}

enum { PART_OTHER, PART_FEAT, PART_NEUTRAL, PART_QUAL };

/* Classify the part t[0..n) (bracketed: it stood inside brackets). For a featured part
 * *from is where its names begin; for a qualifier *to is where its key ends (a last
 * "version" or "ver" word left out when other words precede it). */
static int classify(const char *t, size_t n, int bracketed, size_t *from, size_t *to)
{
	word w[MAX_WORDS + 1];
	size_t nw = words_of(t, n, w);
	if (!nw || nw > MAX_WORDS)
		return PART_OTHER;
	size_t lead = 0;
	while (lead < n && t[lead] == ' ')
		lead++;
	int plus = bracketed && lead < n && t[lead] == '+';
	if (plus || in(&w[0], "feat\0ft\0featuring\0") || (bracketed && is(&w[0], "with"))) {
		size_t f = plus ? lead + 1 : (size_t)(w[0].p + w[0].n - t);
		if (!plus && f < n && t[f] == '.')
			f++;
		if (!has_key_char(t + f, n - f))
			return PART_OTHER;
		*from = f;
		return PART_FEAT;
	}
	if (neutral(w, nw))
		return PART_NEUTRAL;
	if (!distinguishing(w, nw))
		return PART_OTHER;
	*to = nw >= 2 && in(&w[nw - 1], VERSION_W) ? (size_t)(w[nw - 1].p - t) : n;
	return PART_QUAL;
}

/* Take part t[0..n) out if it classifies: 1 if it did (the caller blanks it), 0 if not. */
static int take_part(wn_norm *w, const char *t, size_t n, int bracketed, int *rc)
{
	size_t from = 0, to = n, off, len;
	switch (classify(t, n, bracketed, &from, &to)) {
	case PART_FEAT:
		*rc = split_names(w, 1, t + from, n - from, 1);
		return 1;
	case PART_NEUTRAL:
		return 1;
	case PART_QUAL:
		if (!(*rc = key_append(w, t, to, WN_NORM_TITLE, &off, &len)) && len)
			*rc = list_add(w, 0, off, len);
		return 1;
	default:
		return 0;
	}
}

/* Bracketed parts: every top-level (...) or [...] group that classifies is blanked out,
 * and so is a last one never closed. */
static int bracket_parts(wn_norm *w, char *b, size_t n)
{
	char stack[64];
	size_t depth = 0, start = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = b[i];
		if (ch == '(' || ch == '[') {
			if (depth == sizeof stack)
				return 0;   /* nested deeper than anyone writes: the rest stays as it is */
			if (!depth)
				start = i;
			stack[depth++] = ch == '(' ? ')' : ']';
		} else if ((ch == ')' || ch == ']') && depth && stack[depth - 1] == ch) {
			if (--depth == 0 && take_part(w, b + start + 1, i - start - 1, 1, &rc))
				memset(b + start, ' ', i - start + 1);
			if (rc)
				return rc;
		}
	}
	/* a group never closed runs to the end: real titles are cut short ("Song (feat. X") */
	if (depth && take_part(w, b + start + 1, n - start - 1, 1, &rc))
		memset(b + start, ' ', n - start);
	return rc;
}

static size_t trim_end(const char *b, size_t n)
{
	while (n && b[n - 1] == ' ')
		n--;
	return n;
}

/* Trailing " - X" parts, from the last one back, while they classify: at most
 * MAX_DASH_PARTS of them, so that a long text of dashes costs a few passes, not one per
 * dash. */
#define MAX_DASH_PARTS 8
static int dash_parts(wn_norm *w, char *b, size_t *end)
{
	for (int k = 0; k < MAX_DASH_PARTS; k++) {
		size_t n = trim_end(b, *end), depth = 0, pos = SIZE_MAX;
		for (size_t i = 0; i + 3 < n; i++) {
			if (b[i] == '(' || b[i] == '[')
				depth++;
			else if ((b[i] == ')' || b[i] == ']') && depth)
				depth--;
			else if (!depth && b[i] == ' ' && b[i + 1] == '-' && b[i + 2] == ' ')
				pos = i;
		}
		int rc = 0;
		if (pos == SIZE_MAX || !take_part(w, b + pos + 3, n - pos - 3, 0, &rc))
			return rc;
		if (rc)
			return rc;
		memset(b + pos, ' ', n - pos);
		*end = pos;
	}
	return 0;
}

/* An unbracketed "feat. X", "feat X", "ft. X" or "featuring X" after some title: the
 * rest of the text is featured names. */
static int feat_tail(wn_norm *w, char *b, size_t *end)
{
	size_t n = trim_end(b, *end), depth = 0;
	int before = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = b[i];
		if (ch == '(' || ch == '[')
			depth++;
		else if ((ch == ')' || ch == ']') && depth)
			depth--;
		if (ch != ' ' || depth || !before) {
			before |= ch != ' ';
			continue;
		}
		static const char *const kw[] = { " feat. ", " feat ", " ft. ", " featuring " };
		for (size_t k = 0; k < sizeof kw / sizeof *kw; k++) {
			size_t l = strlen(kw[k]);
			if (n - i > l && !memcmp(b + i, kw[k], l) && has_key_char(b + i + l, n - i - l)) {
				int rc = split_names(w, 1, b + i + l, n - i - l, 1);
				memset(b + i, ' ', n - i);
				*end = i;
				return rc;
			}
		}
	}
	return 0;
}

static int str_cmp(const wn_norm *w, const wn_str *a, const wn_str *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	int c = memcmp(w->key + (uintptr_t)a->p, w->key + (uintptr_t)b->p, n);
	return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* Sort list l bytewise and drop repeats (lists are short: insertion sort). */
static void sort_unique(wn_norm *w, int l)
{
	wn_str *s = w->list[l];
	size_t n = w->nlist[l], o = 0;
	for (size_t i = 1; i < n; i++) {
		wn_str x = s[i];
		size_t j = i;
		while (j && str_cmp(w, &s[j - 1], &x) > 0) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = x;
	}
	for (size_t i = 0; i < n; i++)
		if (!o || str_cmp(w, &s[o - 1], &s[i]))
			s[o++] = s[i];
	w->nlist[l] = o;
}

int wn_norm_title(wn_norm *w, const char *s, size_t n, wn_title *t)
{
	wn_str text;
	int rc = wn_norm_text(w, s, n, &text);
	if (rc)
		return rc;
	if (room(&w->work, &w->workcap, text.n + 1, 1))
		return WN_E_NOMEM;
	char *b = w->work;
	memcpy(b, text.p, text.n);
	size_t end = text.n, off, len;
	w->keylen = 0;
	w->nlist[0] = w->nlist[1] = 0;
	if ((rc = bracket_parts(w, b, end)) || (rc = dash_parts(w, b, &end)) || (rc = feat_tail(w, b, &end)) ||
		(rc = dash_parts(w, b, &end)))
		return rc;
	if (!has_key_char(b, end)) {
		/* nothing but parts ("(Live)"): the whole text is the core, nothing taken out */
		w->keylen = 0;
		w->nlist[0] = w->nlist[1] = 0;
		end = text.n;
		b = w->text;
	}
	if ((rc = key_append(w, b, end, WN_NORM_TITLE, &off, &len)))
		return rc;
	sort_unique(w, 0);
	sort_unique(w, 1);
	rebase(w, w->list[0], w->nlist[0]);
	rebase(w, w->list[1], w->nlist[1]);
	t->core = (wn_str){ w->key + off, len };
	t->qual = w->list[0];
	t->nqual = w->nlist[0];
	t->feat = w->list[1];
	t->nfeat = w->nlist[1];
	return 0;
}

/* ---- 14.5 match predicates ---- */

void wn_match_init(wn_match *m)
{
	memset(m, 0, sizeof *m);
	m->dur_ms = WN_MATCH_NODUR;
}

int wn_match_add_isrc(wn_match *m, const char *s, size_t n)
{
	uint64_t v = wn_isrc_valid(s, n);
	if (!v)
		return 0;
	for (int i = 0; i < WN_MATCH_ISRCS; i++) {
		if (m->isrc[i] == v)
			return 0;
		if (!m->isrc[i]) {
			m->isrc[i] = v;
			return 1;
		}
	}
	return 0;
}

void wn_match_set_text(wn_match *m, const wn_artists *a, const wn_title *t)
{
	m->artist = a && a->n ? wn_norm_hash(a->key[0].p, a->key[0].n) : 0;
	m->core = t ? wn_norm_hash(t->core.p, t->core.n) : 0;
	m->quals = t ? wn_norm_set_hash(t->qual, t->nqual) : 0;
	m->asig = 0;
	m->tsig[0] = m->tsig[1] = 0;
	if (a && a->n)
		wn_norm_sig(a->key[0].p, a->key[0].n, &m->asig, 64);
	if (t)
		wn_norm_sig(t->core.p, t->core.n, m->tsig, 128);
	size_t n = 0;
	if (t)   /* three characters: UTF-8 lead bytes */
		for (int chars = 0; n < t->core.n; n++)
			if (((unsigned char)t->core.p[n] & 0xC0) != 0x80 && ++chars > 3)
				break;
	m->pfx = t ? wn_norm_hash(t->core.p, n) : 0;
}

void wn_norm_sig(const char *p, size_t n, uint64_t *sig, int bits)
{
	int shift = bits == 128 ? 25 : 26;   /* the top 7 or 6 bits of a 32-bit product */
	for (int i = 0; i < bits / 64; i++)
		sig[i] = 0;
	for (size_t i = 0; i < n && (i + 1 < n || n == 1); i++) {
		uint32_t pair = n == 1 ? (unsigned char)p[0] : (uint32_t)(unsigned char)p[i] << 8 | (unsigned char)p[i + 1];
		uint32_t bit = pair * 0x9E3779B1u >> shift;
		sig[bit >> 6] |= 1ull << (bit & 63);
	}
}

static double dice(const uint64_t *a, const uint64_t *b, int words)
{
	int na = 0, nb = 0, both = 0;
	for (int i = 0; i < words; i++) {
		na += __builtin_popcountll(a[i]);
		nb += __builtin_popcountll(b[i]);
		both += __builtin_popcountll(a[i] & b[i]);
	}
	return na + nb ? 2.0 * both / (na + nb) : 0;
}

double wn_match_score(const wn_match *a, const wn_match *b)
{
	double t = a->core && a->core == b->core ? 1 : dice(a->tsig, b->tsig, 2);
	if (t < WN_SCORE_TITLE_MIN)
		return 0;
	double r = a->artist && a->artist == b->artist ? 1 : dice(&a->asig, &b->asig, 1);
	double d = 0.5;
	if (a->dur_ms != WN_MATCH_NODUR && b->dur_ms != WN_MATCH_NODUR) {
		double ms = a->dur_ms > b->dur_ms ? a->dur_ms - b->dur_ms : b->dur_ms - a->dur_ms;
		d = ms >= 10000 ? 0 : 1 - ms / 10000;
	}
	return 0.4 * t + 0.3 * r + 0.3 * d;
}

static int dur_within(const wn_match *a, const wn_match *b, uint32_t ms)
{
	if (a->dur_ms == WN_MATCH_NODUR || b->dur_ms == WN_MATCH_NODUR)
		return 0;
	uint32_t d = a->dur_ms > b->dur_ms ? a->dur_ms - b->dur_ms : b->dur_ms - a->dur_ms;
	return d <= ms;
}

static int has_isrc(const wn_match *m)
{
	return m->isrc[0] != 0;
}

static int isrc_shared(const wn_match *a, const wn_match *b)
{
	for (int i = 0; i < WN_MATCH_ISRCS && a->isrc[i]; i++)
		for (int j = 0; j < WN_MATCH_ISRCS && b->isrc[j]; j++)
			if (a->isrc[i] == b->isrc[j])
				return 1;
	return 0;
}

int wn_match_id_edge(const wn_match *a, const wn_match *b)
{
	return a->id && a->id == b->id && a->id_check == b->id_check;
}

int wn_match_isrc_edge(const wn_match *a, const wn_match *b)
{
	return isrc_shared(a, b) && dur_within(a, b, 3000) && a->quals == b->quals;
}

int wn_match_text_edge(const wn_match *a, const wn_match *b)
{
	return a->artist && a->core && a->artist == b->artist && a->core == b->core && a->quals == b->quals &&
		dur_within(a, b, 2000);
}

int wn_match_guard(const wn_match *a, const wn_match *b)
{
	if (a->quals != b->quals)
		return WN_GUARD_QUALS;
	if (has_isrc(a) && has_isrc(b) && !isrc_shared(a, b) && a->dur_ms != WN_MATCH_NODUR &&
		b->dur_ms != WN_MATCH_NODUR && !dur_within(a, b, 2000))
		return WN_GUARD_ISRC;
	return WN_GUARD_OK;
}

const char *wn_guard_name(int why)
{
	switch (why) {
	case WN_GUARD_OK: return "ok";
	case WN_GUARD_QUALS: return "qualifiers differ";
	case WN_GUARD_ISRC: return "isrc and duration differ";
	case WN_GUARD_NAME: return "no shared track cluster";
	case WN_GUARD_SIMILAR: return "similar";
	default: return "?";
	}
}
