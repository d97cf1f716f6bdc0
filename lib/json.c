/*
 * json.c - strict JSON record parser, canonical form and fingerprint.
 *
 * This file owns everything winnow knows about JSON text. wn_json_record() takes one
 * record, checks it against RFC 8259 and RFC 3629 (UTF-8), and in the same single
 * pass writes the record's canonical form (doc/FORMAT.md, "Canonical form"): a
 * binary, type-tagged, length-prefixed encoding in which object members are sorted
 * by key and strings are unescaped, so that key order, whitespace and escape spelling
 * do not change it while any change of value does. The canonical bytes are hashed
 * once with XXH3-128 to give the record's fingerprint. Along the way it picks out the
 * values at a few dotted paths (slots: the id, the ISRC, ...) and leaves out of the
 * canonical form the members the user asked to ignore. wn_json_quote() (util.c) is
 * the way back: it writes a string as a JSON literal. wn_json_record_edit() does the
 * same while applying a profile's transforms (transform.c says what they are), writing
 * the transformed text in the same pass.
 *
 * This runs once per input record on the ingest hot path, so it is written for speed:
 * - nothing is allocated per record: every buffer lives in the handle and only grows;
 *   the canonical buffer is reserved once per record from an upper bound (3 bytes per
 *   input byte plus the headers of open containers) so emitting needs no bounds checks;
 * - strings are scanned and copied 16 bytes at a time (SSE2; 8 bytes with plain 64-bit
 *   arithmetic elsewhere) up to the first byte that needs a look: '"', '\\', a control
 *   character or a non-ASCII byte, whose UTF-8 sequence is then checked;
 * - an object's members are emitted in input order; only when the keys turn out not to
 *   be in order (or a member is ignored) are the members' byte ranges permuted, through
 *   a scratch buffer. Keys are compared on a 64-bit big-endian prefix first;
 * - paths (slots and ignores) live in a small trie; a key is looked up only while the
 *   object being parsed lies on some path, among the children of its node that share
 *   its 6-bit hash (most often none or one).
 *
 * Errors: the first fault from the left is the one reported. An unexpected byte that
 * does not start valid UTF-8 is reported as WN_E_UTF8, since that is the more basic
 * fault. err_offset is where the fault was found: the offending byte, the start of a
 * bad token (number, literal, escape, UTF-8 sequence), the later of two duplicate
 * keys, or the end of the input for anything left unterminated. Duplicate keys are
 * found when their object closes, so a syntax error later in the same object wins.
 *
 * Offsets inside the canonical buffer are 32-bit, which is why records are limited to
 * WN_JSON_MAX_LEN bytes (WN_E_TOOLONG past that).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>
#if defined(__SSE2__) && !defined(WN_JSON_NO_SIMD)
# include <emmintrin.h>
#endif

#include "winnow.h"
#include "json.h"
#include "internal.h"   /* wn_grow */
#include "encoding.h"   /* wn_utf8_seq, the one UTF-8 check */

#if defined(__GNUC__)
# define WN_LIKELY(x)   __builtin_expect(!!(x), 1)
# define WN_UNLIKELY(x) __builtin_expect(!!(x), 0)
# define WN_COLD        __attribute__((cold, noinline))
# define WN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
# define WN_LIKELY(x)   (x)
# define WN_UNLIKELY(x) (x)
# define WN_COLD
# define WN_PRINTF(f, a)
#endif

/* Longest record accepted: 3 canonical bytes per input byte must fit a 32-bit offset. */
#define WN_JSON_MAX_LEN ((size_t)1 << 30)
/* Room past the 3-bytes-per-input-byte bound: a 5-byte header per open container, and
 * the 16-byte over-stores and over-reads of the string and member copiers. */
#define CANON_SLACK (5 * (WN_JSON_MAX_DEPTH + 2) + 64)

/* A node of the path trie: one segment of one or more dotted paths. Node 0 is the
 * root (the record itself). Children of a node are a linked list through `next`. */
struct wn_pnode {
	uint64_t pfx;         /* first 8 bytes of seg, as wn_member.pfx */
	const char *seg;      /* points into one of the handle's path copies */
	uint32_t len;
	int32_t child;        /* first child, -1 if none */
	int32_t next;         /* next sibling, -1 if none */
	int32_t nextbit;      /* next sibling with the same key_slot(), -1 if none */
	uint8_t ignore;       /* leave this member out of the canonical form */
	uint32_t slots;       /* bit k set: slot k takes this member's value */
};

/* One member of an object being parsed, kept until the object closes. Offsets are
 * into the canonical buffer, where the member is `u32 keylen, key, value`. */
struct wn_member {
	uint64_t pfx;         /* first 8 key bytes, big-endian, zero padded */
	uint32_t start;       /* offset of the member's key length */
	uint32_t end;         /* offset past its value (past the key if ignored) */
	uint32_t klen;
	uint32_t at;          /* input offset of the key, for error messages */
	uint32_t ignored;
	uint32_t pad_;
};

/* The key order of the last record's own object, and the sort it needed: records of one
 * source come with their members in one order, so the next record whose keys are the
 * same, in the same order, takes the same permutation without sorting (nor the check for
 * duplicates: the same keys had none). */
#define ORDER_MAX 32          /* members remembered */
#define ORDER_TAIL 512        /* bytes of their keys past the 8th */
struct order {
	uint32_t n;           /* members, 0: nothing remembered */
	uint64_t pfx[ORDER_MAX];
	uint32_t klen[ORDER_MAX];
	uint16_t toff[ORDER_MAX];   /* where key i's bytes past the 8th are in tail */
	uint8_t perm[ORDER_MAX];    /* the k-th in key order is input member perm[k] */
	uint8_t tail[ORDER_TAIL];
};

/* What an editor said of a member (wn_jedit.member) or of an array's elements (element),
 * by its uid, the node, `kept` and the key: its answers depend on nothing else, and the
 * same few keys come in every record. Two ways in each of EMEMO / 2 sets. An entry is
 * never replaced while its editor is the one parsing (only one of another editor's, or
 * an empty one, is), so the rules handed out stay put while the values below them are
 * parsed; a key that finds no room, or is longer than EMEMO_KEY bytes, is asked every time. */
#define EMEMO 128
#define EMEMO_KEY 24
#define EMEMO_ELEMENTS UINT32_MAX   /* klen of the element rule's entry */
struct ememo {
	uint64_t uid;         /* the editor's, 0: empty */
	uint64_t pfx;         /* the key's first 8 bytes, as wn_member.pfx */
	uint64_t tag;         /* klen << 32 | node */
	uint64_t tail[2];     /* the key's bytes past the 8th (etail()) */
	int32_t kept;
	wn_jedit_member m;
};

struct wn_json {
	uint8_t *cb;          /* canonical bytes of the current record */
	size_t cbcap;
	uint8_t *tmp;         /* scratch for re-ordering an object's members */
	size_t tmpcap;
	uint8_t *arena;       /* unescaped copies of string slot values */
	size_t arenacap;
	struct wn_member *ms; /* members of all open objects, innermost last */
	size_t mcap;
	struct order order;

	struct wn_pnode *nodes;
	size_t nnodes, nodecap;
	int32_t *bybit;       /* 64 per node: its first child of each key_slot(), -1 none */
	size_t bybitcap;
	char *slot_path[WN_JSON_MAX_SLOTS];
	char **ign;
	size_t nign, igncap;
	int any_slot;
	struct ememo ememo[EMEMO];
};

/* Per-call parse state; lives on the stack of wn_json_record(). */
struct ps {
	const uint8_t *buf, *end;
	uint8_t *o;           /* next canonical byte */
	uint8_t *cb;
	wn_json *j;
	wn_jresult *res;
	size_t nm;            /* entries used in j->ms */
	size_t alen;          /* bytes used in j->arena */
	int code;
	/* editing (wn_json_record_edit) */
	const wn_jedit *ed;
	uint8_t *ob, *oe, *oc;   /* the edited text: its start, end, and the end of its room */
	uint8_t *cbend;       /* canonical bytes past this need a check (edits only) */
	const uint8_t *raw_s, *raw_e;   /* input bytes still to append to out (oraw) */
};

/* ---- small helpers ---------------------------------------------------------- */

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t load64le(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint64_t load64be(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* The first 8 bytes of a key, zero padded, as a big-endian number: comparing two of
 * these orders keys as memcmp() would, up to the 8th byte. k must be readable for 8
 * bytes whatever its length (the canonical buffer has slack). */
static inline uint64_t key_prefix(const uint8_t *k, size_t len)
{
	uint64_t v = load64be(k);

	if (len < 8)
		v &= len ? ~(uint64_t)0 << (64 - 8 * len) : 0;
	return v;
}

/* a[0..n) == b[0..n), for the key tails past the 8th byte the parser compares (a few
 * bytes, most often): inline, 8 at a time, where a call to memcmp() costs more. */
static inline int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t x, y;

	for (; n >= 8; a += 8, b += 8, n -= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return 0;
	}
	for (; n; n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

/* One of 64 slots for a key, from its prefix and length: the trie node's bucket its
 * children are found in (trie_child), and the bit of a filter (key_bit). */
static inline unsigned key_slot(uint64_t pfx, size_t len)
{
	return (unsigned)((pfx + len) * 0x9e3779b97f4a7c15ull >> 58);
}

static inline uint64_t key_bit(uint64_t pfx, size_t len)
{
	return (uint64_t)1 << key_slot(pfx, len);
}

static inline unsigned ctz64(uint64_t v)
{
#if defined(__GNUC__)
	return (unsigned)__builtin_ctzll(v);
#else
	unsigned n = 0;
	while (!(v & 1)) { v >>= 1; n++; }
	return n;
#endif
}

/* Grow an array of `elem`-byte items to hold at least `need`: returns the new
 * array (b is then invalid) or NULL (b untouched). New bytes are zeroed so that the
 * 8-byte key-prefix loads never read indeterminate memory. */
static void *grow(void *b, size_t *cap, size_t need, size_t elem)
{
	return wn_grow(&b, cap, need, elem, 1024 / elem + 1) ? NULL : b;
}

static int reserve_bytes(uint8_t **b, size_t *cap, size_t need)
{
	uint8_t *nb;

	if (need <= *cap)
		return 0;
	if (!(nb = grow(*b, cap, need, 1)))
		return WN_E_NOMEM;
	*b = nb;
	return 0;
}

static inline const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
	while (p < end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static inline int is_digit(uint8_t c)
{
	return (unsigned)(c - '0') < 10;
}

/* ---- errors ----------------------------------------------------------------- */

static WN_COLD WN_PRINTF(4, 5)
const uint8_t *fail(struct ps *s, int code, const uint8_t *at, const char *fmt, ...)
{
	va_list ap;

	s->code = code;
	s->res->err_offset = (size_t)(at - s->buf);
	va_start(ap, fmt);
	vsnprintf(s->res->err, sizeof s->res->err, fmt, ap);
	va_end(ap);
	return NULL;
}

/* Say why the bytes at p are not UTF-8 (wn_utf8_seq() returned 0). */
static WN_COLD const uint8_t *utf8_fail(struct ps *s, const uint8_t *p)
{
	char why[64];

	wn_utf8_why(p, (size_t)(s->end - p), why, sizeof why);
	return fail(s, WN_E_UTF8, p, "%s", why);
}

/* An unexpected byte at p: if it is not the start of valid UTF-8, that is the more
 * basic fault and is what gets reported; otherwise `what` (a grammar message). */
static WN_COLD const uint8_t *unexpected(struct ps *s, const uint8_t *p, const char *what)
{
	if (p < s->end && *p >= 0x80 && !wn_utf8_seq(p, (size_t)(s->end - p)))
		return utf8_fail(s, p);
	return fail(s, WN_E_PARSE, p, "%s", what);
}

/* Append key k[0..n) to dst, quoted and escaped, cut (at a character boundary) so
 * that an error message stays readable. */
static WN_COLD void key_excerpt(char *dst, size_t cap, const uint8_t *k, size_t n)
{
	size_t o = 0, i = 0;

	dst[o++] = '"';
	while (i < n && o + 12 < cap) {
		uint8_t c = k[i];
		if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
			o += (size_t)snprintf(dst + o, cap - o, c == '"' || c == '\\' ? "\\%c" : "\\u%04x", c);
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t m = 1;
			while (i + m < n && (k[i + m] & 0xc0) == 0x80 && m < 4)
				m++;
			if (o + m + 12 >= cap)
				break;
			memcpy(dst + o, k + i, m);
			o += m;
			i += m;
			continue;
		}
		dst[o++] = (char)c;
		i++;
	}
	if (i < n) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o++] = '"';
	dst[o] = 0;
}

/* ---- strings ---------------------------------------------------------------- */

/* Nonzero in the high bit of each byte of w that is '"', '\\', < 0x20 or >= 0x80.
 * Borrows can only set spurious bits above a true hit, so the lowest set bit is
 * exact, which is all the callers use. */
static inline uint64_t special8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w) & high;
}

static inline int hex4(const uint8_t *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		uint8_t c = p[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Encode a code point (a lone surrogate included, as 3 bytes) as UTF-8. */
static inline uint8_t *put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (uint8_t)cp;
	} else if (cp < 0x800) {
		*o++ = (uint8_t)(0xc0 | cp >> 6);
		*o++ = (uint8_t)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (uint8_t)(0xe0 | cp >> 12);
		*o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (uint8_t)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (uint8_t)(0xf0 | cp >> 18);
		*o++ = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (uint8_t)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* Parse the escape at p (p[0] == '\\'), write its bytes at *op. Returns the byte
 * after the escape, or NULL. A \uXXXX high surrogate directly followed by a \uXXXX
 * low surrogate is one code point; any other surrogate escape stands alone and is
 * written as its 3-byte generalised UTF-8 form (which raw input can never contain,
 * as encoded surrogates are rejected), so every string still has one canonical
 * byte form. */
static const uint8_t *escape(struct ps *s, const uint8_t *p, uint8_t **op)
{
	const uint8_t *end = s->end;
	uint8_t *o = *op;
	int cp, lo;

	if (end - p < 2)
		return fail(s, WN_E_PARSE, end, "unterminated string");
	switch (p[1]) {
	case '"': case '\\': case '/':
		*o++ = p[1]; break;
	case 'b': *o++ = '\b'; break;
	case 'f': *o++ = '\f'; break;
	case 'n': *o++ = '\n'; break;
	case 'r': *o++ = '\r'; break;
	case 't': *o++ = '\t'; break;
	case 'u':
		if (end - p < 6 || (cp = hex4(p + 2)) < 0)
			return fail(s, WN_E_PARSE, p, "invalid \\u escape (need 4 hex digits)");
		if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
		    (lo = hex4(p + 8)) >= 0xdc00 && lo <= 0xdfff) {
			*op = put_utf8(o, 0x10000 + ((uint32_t)(cp - 0xd800) << 10) + (uint32_t)(lo - 0xdc00));
			return p + 12;
		}
		*op = put_utf8(o, (uint32_t)cp);
		return p + 6;
	default:
		if (p[1] > 0x20 && p[1] < 0x7f)
			return fail(s, WN_E_PARSE, p, "invalid escape '\\%c'", p[1]);
		return fail(s, WN_E_PARSE, p, "invalid escape '\\' before byte 0x%02x", p[1]);
	}
	*op = o;
	return p + 2;
}

/* Copy the body of the string whose opening quote is at q to s->o, unescaped and
 * validated. Returns the byte after the closing quote, or NULL. */
static const uint8_t *string_body(struct ps *s, const uint8_t *q)
{
	const uint8_t *p = q + 1, *end = s->end;
	uint8_t *o = s->o;

	for (;;) {
		uint8_t c;

		/* The bytes are stored before we know how many belong to the string; the
		 * canonical buffer's slack makes the over-store harmless. */
#if defined(__SSE2__) && !defined(WN_JSON_NO_SIMD)
		while (WN_LIKELY(end - p >= 16)) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			/* signed: < 0x20 also catches every byte >= 0x80 */
			__m128i x = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
			                         _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
			unsigned m = (unsigned)_mm_movemask_epi8(x);
			_mm_storeu_si128((__m128i *)(void *)o, v);
			if (m) {
				unsigned k = ctz64(m);
				p += k;
				o += k;
				goto look;
			}
			p += 16;
			o += 16;
		}
#endif
		while (WN_LIKELY(end - p >= 8)) {
			uint64_t w = load64le(p), m;
			memcpy(o, p, 8);
			m = special8(w);
			if (m) {
				unsigned k = ctz64(m) >> 3;
				p += k;
				o += k;
				goto look;
			}
			p += 8;
			o += 8;
		}
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			*o++ = *p++;
		if (p == end)
			return fail(s, WN_E_PARSE, end, "unterminated string");
look:
		c = *p;
		if (c == '"') {
			s->o = o;
			return p + 1;
		}
		if (c == '\\') {
			p = escape(s, p, &o);
			if (!p)
				return NULL;
			continue;
		}
		if (c < 0x20)
			return fail(s, WN_E_PARSE, p, "unescaped control character 0x%02x in string", c);
		/* Non-ASCII text tends to come in runs (titles in Japanese, Cyrillic...):
		 * stay here while it lasts rather than rescan from the top. */
		do {
			size_t n = wn_utf8_seq(p, (size_t)(end - p));
			if (WN_UNLIKELY(!n))
				return utf8_fail(s, p);
			o[0] = p[0];
			o[1] = p[1];
			if (n > 2)
				o[2] = p[2];
			if (n > 3)
				o[3] = p[3];
			o += n;
			p += n;
		} while (p < end && *p >= 0x80);
	}
}

/* ---- values ----------------------------------------------------------------- */

static const uint8_t *value(struct ps *s, const uint8_t *p, int depth, int node);

static const uint8_t *number(struct ps *s, const uint8_t *p)
{
	const uint8_t *st = p, *end = s->end;
	uint8_t *o = s->o;
	size_t n;

	if (*p == '-')
		p++;
	if (p == end)
		goto bad;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (++p < end && is_digit(*p))
			;
	else
		goto bad;
	if (p < end && *p == '.') {
		if (++p == end || !is_digit(*p))
			goto bad;
		while (++p < end && is_digit(*p))
			;
	}
	if (p < end && (*p | 0x20) == 'e') {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			goto bad;
		while (++p < end && is_digit(*p))
			;
	}
	/* "01", "1.2.3", "1x": the grammar ends the number early, but reporting the
	 * separator that follows would be misleading. */
	if (p < end && (is_digit(*p) || *p == '.' || *p == '+' || *p == '-' ||
	                ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
		goto bad;
	n = (size_t)(p - st);
	o[0] = 'd';
	put32(o + 1, (uint32_t)n);
	if (n <= 16 && end - st >= 16)
		memcpy(o + 5, st, 16);   /* fixed size: one load and store; slack covers the rest */
	else
		memcpy(o + 5, st, n);
	s->o = o + 5 + n;
	return p;
bad:
	return fail(s, WN_E_PARSE, st, "invalid number");
}

static inline const uint8_t *literal(struct ps *s, const uint8_t *p, const char *word, size_t n, uint8_t tag)
{
	size_t i, avail = (size_t)(s->end - p);

	for (i = 1; i < n; i++)   /* p[0] matched already; a loop, not memcmp(): n <= 5 */
		if (i >= avail || p[i] != (uint8_t)word[i])
			goto bad;
	if (avail > n && (((p[n] | 0x20) >= 'a' && (p[n] | 0x20) <= 'z') || is_digit(p[n])))
		goto bad;
	*s->o++ = tag;
	return p + n;
bad:
	return fail(s, WN_E_PARSE, p, "invalid literal");
}

static inline int member_cmp(const uint8_t *cb, const struct wn_member *a, const struct wn_member *b)
{
	size_t n;
	int c;

	if (a->pfx != b->pfx)
		return a->pfx < b->pfx ? -1 : 1;
	/* Same first 8 bytes (zero padded): a key of 8 bytes or fewer is then a prefix
	 * of the other key. */
	if (a->klen > 8 && b->klen > 8) {
		n = a->klen < b->klen ? a->klen : b->klen;
		c = memcmp(cb + a->start + 4 + 8, cb + b->start + 4 + 8, n - 8);
		if (c)
			return c;
	}
	return (a->klen > b->klen) - (a->klen < b->klen);
}

static void sort_members(const uint8_t *cb, struct wn_member *m, size_t n)
{
	size_t i, j;

	if (n <= 24) {
		for (i = 1; i < n; i++) {
			struct wn_member x = m[i];
			for (j = i; j > 0 && member_cmp(cb, &m[j - 1], &x) > 0; j--)
				m[j] = m[j - 1];
			m[j] = x;
		}
		return;
	}
	/* Heapsort: big objects are rare, and it needs no scratch memory. */
	for (i = n / 2; i-- > 0;) {
		for (j = i;;) {
			size_t c = 2 * j + 1;
			struct wn_member t;
			if (c >= n)
				break;
			if (c + 1 < n && member_cmp(cb, &m[c], &m[c + 1]) < 0)
				c++;
			if (member_cmp(cb, &m[j], &m[c]) >= 0)
				break;
			t = m[j]; m[j] = m[c]; m[c] = t;
			j = c;
		}
	}
	for (i = n; i-- > 1;) {
		struct wn_member t = m[0];
		m[0] = m[i];
		m[i] = t;
		for (j = 0;;) {
			size_t c = 2 * j + 1;
			if (c >= i)
				break;
			if (c + 1 < i && member_cmp(cb, &m[c], &m[c + 1]) < 0)
				c++;
			if (member_cmp(cb, &m[j], &m[c]) >= 0)
				break;
			t = m[j]; m[j] = m[c]; m[c] = t;
			j = c;
		}
	}
}

static WN_COLD const uint8_t *dupkey(struct ps *s, const struct wn_member *a, const struct wn_member *b)
{
	char k[128];
	const struct wn_member *later = a->at > b->at ? a : b;

	key_excerpt(k, sizeof k, s->cb + later->start + 4, later->klen);
	return fail(s, WN_E_DUPKEY, s->buf + later->at, "duplicate key %s", k);
}

/* Are the members m[0..n) of the record's own object the keys `od` remembers, in its order? */
static int same_order(const struct ps *s, const struct wn_member *m, size_t n, const struct order *od)
{
	size_t i;

	if (od->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (m[i].pfx != od->pfx[i] || m[i].klen != od->klen[i])
			return 0;
	for (i = 0; i < n; i++)
		if (m[i].klen > 8 && !same_bytes(s->cb + m[i].start + 12, od->tail + od->toff[i], m[i].klen - 8))
			return 0;
	return 1;
}

/* Remember the order of m[0..n), now in key order, each with its input position in pad_. */
static void note_order(const struct ps *s, const struct wn_member *m, size_t n, struct order *od)
{
	size_t k, t = 0;

	od->n = 0;
	if (n > ORDER_MAX)
		return;
	for (k = 0; k < n; k++) {
		size_t i = m[k].pad_;
		od->perm[k] = (uint8_t)i;
		od->pfx[i] = m[k].pfx;
		od->klen[i] = m[k].klen;
		if (m[k].klen > 8) {
			if (t + m[k].klen - 8 > ORDER_TAIL)
				return;
			memcpy(od->tail + t, s->cb + m[k].start + 12, m[k].klen - 8);
			od->toff[i] = (uint16_t)t;
			t += m[k].klen - 8;
		}
	}
	od->n = (uint32_t)n;
}

/* The object whose header is at hdr has its members j->ms[base..s->nm) in the
 * canonical buffer in input order: check for duplicate keys, put the members in key
 * order, drop the ignored ones, write the count. Returns 0 or -1 (error set). */
static int finish_object(struct ps *s, uint8_t *hdr, size_t base, size_t nign)
{
	struct wn_member *m = s->j->ms + base;
	size_t n = s->nm - base, i, x = 0;
	int sorted = 1, top = hdr == s->cb;

	if (top && n > 1 && n <= ORDER_MAX) {
		struct order *od = &s->j->order;
		if (same_order(s, m, n, od)) {
			struct wn_member in[ORDER_MAX];
			memcpy(in, m, n * sizeof *m);
			for (i = 0; i < n; i++) {
				m[i] = in[od->perm[i]];
				sorted &= od->perm[i] == i;
			}
			goto ordered;
		}
		for (i = 0; i < n; i++)
			m[i].pad_ = (uint32_t)i;
	}
	for (i = 1; i < n; i++) {
		int c = member_cmp(s->cb, &m[i - 1], &m[i]);
		if (c >= 0) {
			if (c == 0) {
				dupkey(s, &m[i - 1], &m[i]);
				return -1;
			}
			sorted = 0;
			break;
		}
	}
	if (!sorted) {
		sort_members(s->cb, m, n);
		for (i = 1; i < n; i++)
			if (member_cmp(s->cb, &m[i - 1], &m[i]) == 0) {
				dupkey(s, &m[i - 1], &m[i]);
				return -1;
			}
	}
	if (top && n > 1 && n <= ORDER_MAX)
		note_order(s, m, n, &s->j->order);
ordered:
	if (!sorted || nign) {
		uint8_t *t = s->j->tmp;
		/* The record's own object is built in tmp behind a copy of its header and
		 * then tmp and cb trade places, which saves copying it back. */
		if (top)
			x = 5;
		for (i = 0; i < n; i++) {
			const uint8_t *from = s->cb + m[i].start;
			size_t len = m[i].end - m[i].start, k;
			if (m[i].ignored)
				continue;
			/* 16 bytes at a time, over-reading and over-storing into slack:
			 * members are short and a memcpy() call would cost more. */
			for (k = 0; k < len; k += 16)
				memcpy(t + x + k, from + k, 16);
			x += len;
		}
		if (top) {
			size_t cap = s->j->tmpcap;
			memcpy(t, hdr, 5);
			s->j->tmpcap = s->j->cbcap;
			s->j->cbcap = cap;
			s->j->tmp = s->cb;
			s->j->cb = s->cb = t;
			hdr = t;
			s->o = t + x;
			x -= 5;
		} else {
			memcpy(hdr + 5, t, x);
			s->o = hdr + 5 + x;
		}
	}
	put32(hdr + 1, (uint32_t)(n - nign));
	s->nm = base;
	return 0;
}

/* The type of the value whose text starts with c (valid JSON). */
static inline int jtype_of(uint8_t c)
{
	switch (c) {
	case '"': return WN_JT_STRING;
	case '{': return WN_JT_OBJECT;
	case '[': return WN_JT_ARRAY;
	case 't': return WN_JT_TRUE;
	case 'f': return WN_JT_FALSE;
	case 'n': return WN_JT_NULL;
	default: return WN_JT_NUMBER;
	}
}

/* Record the value just parsed (input vs..ve, canonical bytes at vo) in the slots of
 * `mask`. */
static void set_slots(struct ps *s, unsigned mask, const uint8_t *vs, const uint8_t *ve, const uint8_t *vo)
{
	wn_jslot v;
	int k;

	v.ptr = (const char *)vs;
	v.len = (size_t)(ve - vs);
	switch (*vs) {
	case '"':
		v.type = WN_JT_STRING;
		v.len = (size_t)(s->o - vo - 5);
		if (v.len == (size_t)(ve - vs) - 2) {
			/* Every escape is longer than what it stands for, so equal lengths
			 * mean there was none: the input bytes are the value. */
			v.ptr = (const char *)vs + 1;
		} else {
			v.ptr = (const char *)s->j->arena + s->alen;
			memcpy(s->j->arena + s->alen, vo + 5, v.len);
			s->alen += v.len;
		}
		break;
	default: v.type = jtype_of(*vs); break;
	}
	for (; mask; mask &= mask - 1) {
		k = __builtin_ctz(mask);
		s->res->slot[k] = v;
	}
}

/* The trie node of member key k[0..klen) (prefix pfx) below node (>= 0), or -1: the
 * children of the key's slot of 64, most often none or one. */
static inline int trie_child(const wn_json *j, int node, const uint8_t *k, size_t klen, uint64_t pfx)
{
	const struct wn_pnode *nd = j->nodes;
	int c;

	for (c = j->bybit[(size_t)node * 64 + key_slot(pfx, klen)]; c >= 0; c = nd[c].nextbit)
		if (nd[c].pfx == pfx && nd[c].len == klen && (klen <= 8 || same_bytes((const uint8_t *)nd[c].seg + 8, k + 8, klen - 8)))
			return c;
	return -1;
}

/* The slots and ignore flag of member key k[0..klen) below jnode (-1: none), and the
 * node its value is to be parsed under (-1: no path goes deeper). */
static inline int jlookup(const struct ps *s, int jnode, const uint8_t *k, size_t klen, uint64_t pfx,
	unsigned *slots, unsigned *ign)
{
	const struct wn_pnode *nd = s->j->nodes;
	int c = jnode >= 0 ? trie_child(s->j, jnode, k, klen, pfx) : -1;

	if (c < 0) {
		*slots = *ign = 0;
		return -1;
	}
	*ign = nd[c].ignore;
	*slots = nd[c].slots;
	return nd[c].child >= 0 ? c : -1;
}

/* ---- the steps of an object member, for object() and eobject() ---- */

/* A new member entry for the key the caller writes at s->o + 4, or NULL. */
static struct wn_member *new_member(struct ps *s, const uint8_t *p, size_t *mi)
{
	if (WN_UNLIKELY(s->nm == s->j->mcap)) {
		struct wn_member *nm = grow(s->j->ms, &s->j->mcap, s->nm + 1, sizeof *nm);
		if (!nm)
			return fail(s, WN_E_NOMEM, p, "out of memory"), NULL;
		s->j->ms = nm;
	}
	*mi = s->nm++;
	return &s->j->ms[*mi];
}

/* The key at p (after a check that one is there) into a new member entry *mi, its
 * canonical bytes at *mo: its text unescaped, the length not yet written (key_close).
 * Returns the byte after the key, or NULL. */
static inline const uint8_t *key_open(struct ps *s, const uint8_t *p, size_t *mi, uint8_t **mo)
{
	if (p == s->end)
		return fail(s, WN_E_PARSE, p, "unterminated object");
	if (*p != '"')
		return unexpected(s, p, "object key must be a string");
	if (!new_member(s, p, mi))
		return NULL;
	*mo = s->o;
	s->o = *mo + 4;
	s->j->ms[*mi].at = (uint32_t)(p - s->buf);
	return string_body(s, p);
}

/* The key of member mi, klen bytes at mo + 4 (pfx: key_prefix() of them), written: its
 * length and its entry. */
static inline struct wn_member *key_close(struct ps *s, size_t mi, uint8_t *mo, size_t klen, uint64_t pfx)
{
	struct wn_member *m = &s->j->ms[mi];

	put32(mo, (uint32_t)klen);
	m->start = (uint32_t)(mo - s->cb);
	m->klen = (uint32_t)klen;
	m->pfx = pfx;
	m->ignored = 0;
	return m;
}

/* Past the ':' after a key (p just after it): the value's first byte, or NULL. */
static inline const uint8_t *key_colon(struct ps *s, const uint8_t *p)
{
	p = skip_ws(p, s->end);
	if (p == s->end)
		return fail(s, WN_E_PARSE, p, "unterminated object");
	if (*p != ':')
		return unexpected(s, p, "expected ':' after object key");
	p = skip_ws(p + 1, s->end);
	if (p == s->end)
		return fail(s, WN_E_PARSE, p, "unterminated object");
	return p;
}

/* Member mi parsed to its value's end: an ignored one keeps only its key (until the
 * object closes, for the duplicate check). */
static inline void member_close(struct ps *s, size_t mi, uint8_t *mo, size_t klen, unsigned ign, size_t *nign)
{
	struct wn_member *m = &s->j->ms[mi];   /* the value may have grown the member stack */

	if (ign) {
		s->o = mo + 4 + klen;
		m->ignored = 1;
		(*nign)++;
	}
	m->end = (uint32_t)(s->o - s->cb);
}

/* After a member or element (p past its value) of a container that `close` ends: 1 and
 * *pp at the next one, 0 and *pp at the close, or -1 (error set). */
static inline int next_item(struct ps *s, const uint8_t **pp, uint8_t close)
{
	const uint8_t *p = skip_ws(*pp, s->end), *end = s->end;
	int obj = close == '}';

	if (p < end && *p == ',') {
		p = skip_ws(p + 1, end);
		*pp = p;
		if (p < end && *p == close)
			return fail(s, WN_E_PARSE, p, "trailing comma before '%c'", close), -1;
		return 1;
	}
	*pp = p;
	if (p < end && *p == close)
		return 0;
	if (p == end)
		return fail(s, WN_E_PARSE, p, obj ? "unterminated object" : "unterminated array"), -1;
	return unexpected(s, p, obj ? "expected ',' or '}' after object member" :
	                              "expected ',' or ']' after array element"), -1;
}

static const uint8_t *object(struct ps *s, const uint8_t *p, int depth, int node)
{
	const uint8_t *end = s->end;
	uint8_t *hdr = s->o;
	size_t base = s->nm, nign = 0;

	if (depth > WN_JSON_MAX_DEPTH)
		return fail(s, WN_E_DEPTH, p, "nesting deeper than %d levels", WN_JSON_MAX_DEPTH);
	hdr[0] = 'o';
	s->o = hdr + 5;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}') {
		put32(hdr + 1, 0);
		return p + 1;
	}
	for (;;) {
		struct wn_member *m;
		uint8_t *mo, *vo;
		const uint8_t *vs;
		size_t klen, mi = 0;
		int child, more;
		unsigned ign, slots;

		mo = NULL;
		if (!(p = key_open(s, p, &mi, &mo)))
			return NULL;
		klen = (size_t)(s->o - mo - 4);
		m = key_close(s, mi, mo, klen, key_prefix(mo + 4, klen));
		child = jlookup(s, node, mo + 4, klen, m->pfx, &slots, &ign);
		if (!(p = key_colon(s, p)))
			return NULL;
		vs = p;
		vo = s->o;
		p = value(s, p, depth, child);
		if (!p)
			return NULL;
		if (slots)
			set_slots(s, slots, vs, p, vo);
		member_close(s, mi, mo, klen, ign, &nign);
		if ((more = next_item(s, &p, '}')) < 0)
			return NULL;
		if (!more)
			break;
	}
	if (finish_object(s, hdr, base, nign))
		return NULL;
	return p + 1;
}

static const uint8_t *array(struct ps *s, const uint8_t *p, int depth)
{
	const uint8_t *end = s->end;
	uint8_t *hdr = s->o;
	uint32_t count = 0;
	int more;

	if (depth > WN_JSON_MAX_DEPTH)
		return fail(s, WN_E_DEPTH, p, "nesting deeper than %d levels", WN_JSON_MAX_DEPTH);
	hdr[0] = 'a';
	s->o = hdr + 5;
	p = skip_ws(p + 1, end);
	if (p < end && *p == ']') {
		put32(hdr + 1, 0);
		return p + 1;
	}
	for (;;) {
		if (p == end)
			return fail(s, WN_E_PARSE, p, "unterminated array");
		p = value(s, p, depth, -1);
		if (!p)
			return NULL;
		count++;
		if ((more = next_item(s, &p, ']')) < 0)
			return NULL;
		if (!more)
			break;
	}
	put32(hdr + 1, count);
	return p + 1;
}

/* Parse the value at p (p < end), which sits `depth` containers deep, writing its
 * canonical form. `node` is the trie node of the member holding it, or -1. */
static const uint8_t *value(struct ps *s, const uint8_t *p, int depth, int node)
{
	uint8_t *o;

	switch (*p) {
	case '{':
		return object(s, p, depth + 1, node);
	case '[':
		return array(s, p, depth + 1);
	case '"':
		o = s->o;
		o[0] = 's';
		s->o = o + 5;
		p = string_body(s, p);
		if (p)
			put32(o + 1, (uint32_t)(s->o - o - 5));
		return p;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return number(s, p);
	case 't':
		return literal(s, p, "true", 4, 't');
	case 'f':
		return literal(s, p, "false", 5, 'f');
	case 'n':
		return literal(s, p, "null", 4, 'n');
	case '+': case '.':
		return fail(s, WN_E_PARSE, p, "invalid number");
	default:
		if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')
			return fail(s, WN_E_PARSE, p, "invalid literal");
		return unexpected(s, p, "expected value");
	}
}

/* ---- edits (wn_json_record_edit) -------------------------------------------- */

/* The edited text is written as the record is read: a member no path reaches is copied
 * as it stands (its key to its value's end, one copy), an object or array the trie
 * reaches into is rebuilt member by member without the whitespace between its tokens,
 * and a replaced value is written in place of its text. The canonical form is written
 * as for any record, but for the edited text: a renamed key under its new name, a
 * replaced value as the string that replaces it, a left-out member not at all. Slots
 * of values whose text is not the input's point into the edited text (the caller's
 * room, which does not move). */

static WN_COLD int no_room(struct ps *s)
{
	fail(s, WN_E_TOOLONG, s->buf, "edits need more room than one pass has");
	return -1;
}

/* Room for n more canonical bytes? (Replacements and renames may outgrow the bound
 * the canonical buffer was reserved by; the slack stays for the over-stores.) */
static inline int room(struct ps *s, size_t n)
{
	return WN_LIKELY((size_t)(s->cbend - s->o) >= n) ? 0 : no_room(s);
}

static WN_COLD int no_out_room(struct ps *s)
{
	fail(s, WN_E_TOOLONG, s->buf, "the edited record outgrows its room");
	return -1;
}

static inline int oput_now(struct ps *s, const void *p, size_t n)
{
	if (WN_UNLIKELY((size_t)(s->oc - s->oe) < n))
		return no_out_room(s);
	memcpy(s->oe, p, n);
	s->oe += n;
	return 0;
}

/* The input bytes copied as they stand are appended lazily: a run of them that follows
 * on in the input (members no path reaches, with their commas) is one copy. */
static inline int oflush(struct ps *s)
{
	const uint8_t *p = s->raw_s;
	size_t n = (size_t)(s->raw_e - p);

	s->raw_s = s->raw_e = NULL;
	return n ? oput_now(s, p, n) : 0;
}

/* Append input bytes p[0..n) as they stand. */
static inline int oraw(struct ps *s, const uint8_t *p, size_t n)
{
	if (p == s->raw_e) {
		s->raw_e += n;
		return 0;
	}
	if (oflush(s))
		return -1;
	s->raw_s = p;
	s->raw_e = p + n;
	return 0;
}

/* Append bytes that are not the input's. */
static inline int oput(struct ps *s, const void *p, size_t n)
{
	return oflush(s) || oput_now(s, p, n);
}

/* The comma between two members or elements: the input's own when the bytes before it
 * were the input's and it follows them. */
static inline int ocomma(struct ps *s)
{
	if (s->raw_e && s->raw_e < s->end && *s->raw_e == ',')
		return oraw(s, s->raw_e, 1);
	return oput(s, ",", 1);
}

/* The length of out, the pending bytes included (they are written first). */
static inline size_t olen(struct ps *s)
{
	oflush(s);
	return (size_t)(s->oe - s->ob);
}

/* set_slots() for a value whose edited text is out[os..oe) (canonical bytes at vo). */
static void eset_slots(struct ps *s, unsigned mask, size_t os, size_t oe, const uint8_t *vo)
{
	const uint8_t *t = s->ob + os;
	wn_jslot v;
	int k;

	v.ptr = (const char *)t;
	v.len = oe - os;
	switch (*t) {
	case '"':
		v.type = WN_JT_STRING;
		v.len = (size_t)(s->o - vo - 5);
		if (v.len == oe - os - 2) {
			v.ptr = (const char *)t + 1;
		} else {
			/* an escape in it: the unescaped bytes, as set_slots() keeps them */
			v.ptr = (const char *)s->j->arena + s->alen;
			memcpy(s->j->arena + s->alen, vo + 5, v.len);
			s->alen += v.len;
		}
		break;
	default: v.type = jtype_of(*t); break;
	}
	for (; mask; mask &= mask - 1) {
		k = __builtin_ctz(mask);
		s->res->slot[k] = v;
	}
}

/* The value just parsed (input vs..ve, canonical bytes at vo) replaced as d says, or
 * copied when the editor keeps it. 0 or -1. */
static int replace_value(struct ps *s, const wn_jedit_member *d, const uint8_t *vs, const uint8_t *ve, uint8_t *vo)
{
	char r[WN_JEDIT_REPL_MAX];
	const char *v = (const char *)vs;
	size_t n = (size_t)(ve - vs);
	int type, rl;

	switch (*vs) {
	case '"':
		type = WN_JT_STRING;
		v = (const char *)vo + 5;
		n = (size_t)(s->o - vo - 5);
		break;
	default:
		if ((type = jtype_of(*vs)) == WN_JT_OBJECT || type == WN_JT_ARRAY) {
			v = NULL;
			n = 0;
		}
		break;
	}
	rl = s->ed->replace(s->ed->ud, d->how, type, v, n, r);
	if (rl < 0)
		return oraw(s, vs, (size_t)(ve - vs));
	s->o = vo;
	if (room(s, 5 + (size_t)rl + 16))
		return -1;
	vo[0] = 's';
	put32(vo + 1, (uint32_t)rl);
	memcpy(vo + 5, r, (size_t)rl);
	s->o = vo + 5 + rl;
	if (oflush(s))
		return -1;
	if (WN_UNLIKELY((size_t)(s->oc - s->oe) < (size_t)rl + 2))
		return no_out_room(s);
	*s->oe = '"';
	memcpy(s->oe + 1, r, (size_t)rl);
	s->oe[rl + 1] = '"';
	s->oe += rl + 2;
	return 0;
}

/* Key bytes 8 to 24 of a key of klen bytes (8 < klen <= EMEMO_KEY) at k, zero-padded
 * (over-reading into the canonical buffer's slack). */
static inline void etail(const uint8_t *k, size_t klen, uint64_t t[2])
{
	size_t n = klen - 8;

	t[0] = load64le(k + 8);
	t[1] = n > 8 ? load64le(k + 16) : 0;
	if (n < 8)
		t[0] &= ~(uint64_t)0 >> (64 - 8 * n);
	else if (n > 8 && n < 16)
		t[1] &= ~(uint64_t)0 >> (64 - 8 * (n - 8));
}

/* The editor's rule for member k[0..klen) (pfx: its first 8 bytes, as key_prefix()) of
 * an object d describes, or for the elements of an array d describes (klen
 * EMEMO_ELEMENTS): from the memo when the editor said it before, else asked (into
 * *asked) and noted. */
static inline const wn_jedit_member *erule(struct ps *s, const wn_jedit_member *d, const uint8_t *k, size_t klen,
	uint64_t pfx, wn_jedit_member *asked)
{
	const wn_jedit *e = s->ed;
	uint64_t tag = (uint64_t)(uint32_t)klen << 32 | (uint32_t)d->node, t[2] = { 0, 0 };
	uint64_t h = (pfx ^ tag * 0x2545f4914f6cdd1dull) * 0x9e3779b97f4a7c15ull;
	struct ememo *set = &s->j->ememo[(h >> 58) * 2], *m;

	if (klen > 8 && klen <= EMEMO_KEY)
		etail(k, klen, t);
	for (m = set; m < set + 2; m++)
		if (m->uid == e->uid && m->pfx == pfx && m->tag == tag && m->kept == d->kept && m->tail[0] == t[0] &&
		    m->tail[1] == t[1] && e->uid)
			return &m->m;
	if (klen == EMEMO_ELEMENTS)
		e->element(e->ud, d->node, d->kept, asked);
	else
		e->member(e->ud, d->node, d->kept, (const char *)k, klen, asked);
	if (!e->uid || (klen > EMEMO_KEY && klen != EMEMO_ELEMENTS))
		return asked;
	m = set[0].uid != e->uid ? set : set[1].uid != e->uid ? set + 1 : NULL;
	if (m) {
		m->uid = e->uid;
		m->pfx = pfx;
		m->tag = tag;
		m->tail[0] = t[0];
		m->tail[1] = t[1];
		m->kept = d->kept;
		m->m = *asked;
		return &m->m;
	}
	return asked;
}

static const uint8_t *eobject(struct ps *s, const uint8_t *p, int depth, int jnode, const wn_jedit_member *d, int top);
static const uint8_t *earray(struct ps *s, const uint8_t *p, int depth, const wn_jedit_member *d);

/* The value at p as d says: copied, rebuilt, or replaced. */
static const uint8_t *evalue(struct ps *s, const uint8_t *p, int depth, int jnode, const wn_jedit_member *d)
{
	const uint8_t *vs = p;
	uint8_t *vo = s->o;
	int keep = d->how == WN_JE_COPY || d->how == WN_JE_REBUILD;

	if (d->how == WN_JE_REBUILD || d->how == WN_JE_EACH) {
		if (*p == '{')
			return eobject(s, p, depth + 1, jnode, d, 0);
		if (*p == '[')
			return earray(s, p, depth + 1, d);
	}
	/* a value replaced as a whole has no slots inside it */
	p = value(s, p, depth, keep ? jnode : -1);
	if (!p)
		return NULL;
	if (keep)
		return oraw(s, vs, (size_t)(p - vs)) ? NULL : p;
	return replace_value(s, d, vs, p, vo) ? NULL : p;
}

static const uint8_t *earray(struct ps *s, const uint8_t *p, int depth, const wn_jedit_member *d)
{
	const uint8_t *end = s->end;
	uint8_t *hdr = s->o;
	uint32_t count = 0;
	int more;
	wn_jedit_member asked;
	const wn_jedit_member *el;

	if (depth > WN_JSON_MAX_DEPTH)
		return fail(s, WN_E_DEPTH, p, "nesting deeper than %d levels", WN_JSON_MAX_DEPTH);
	el = d->how == WN_JE_EACH ? d : erule(s, d, NULL, EMEMO_ELEMENTS, 0, &asked);
	hdr[0] = 'a';
	s->o = hdr + 5;
	if (oput(s, "[", 1))
		return NULL;
	p = skip_ws(p + 1, end);
	if (p < end && *p == ']')
		goto close;
	for (;;) {
		if (p == end)
			return fail(s, WN_E_PARSE, p, "unterminated array");
		if (count && ocomma(s))
			return NULL;
		p = evalue(s, p, depth, -1, el);
		if (!p)
			return NULL;
		count++;
		if ((more = next_item(s, &p, ']')) < 0)
			return NULL;
		if (!more)
			break;
	}
close:
	put32(hdr + 1, count);
	return oput(s, "]", 1) ? NULL : p + 1;
}


/* The editor's injected member, first in the record: 0, 1 when it is ignored, -1. */
static int inject(struct ps *s, int jnode)
{
	const char *k = s->ed->inject_key, *v = s->ed->inject_val;
	size_t kl = strlen(k), vl = strlen(v), mi, nign = 0;
	struct wn_member *m;
	uint8_t *mo = s->o, *vo;
	unsigned slots, ign;

	if (room(s, 4 + kl + 5 + vl + 16) || !new_member(s, s->buf, &mi))
		return -1;
	memcpy(mo + 4, k, kl);
	m = key_close(s, mi, mo, kl, key_prefix(mo + 4, kl));
	m->at = 0;
	vo = mo + 4 + kl;
	vo[0] = 's';
	put32(vo + 1, (uint32_t)vl);
	memcpy(vo + 5, v, vl);
	s->o = vo + 5 + vl;
	jlookup(s, jnode, mo + 4, kl, m->pfx, &slots, &ign);
	for (; slots; slots &= slots - 1) {
		wn_jslot *sl = &s->res->slot[__builtin_ctz(slots)];
		sl->type = WN_JT_STRING;
		sl->ptr = v;
		sl->len = vl;
	}
	member_close(s, mi, mo, kl, ign, &nign);
	if (oput(s, "\"", 1) || oput(s, k, kl) || oput(s, "\":\"", 3) || oput(s, v, vl) || oput(s, "\"", 1))
		return -1;
	return (int)nign;
}

/* object() for an object the edits reach (d: what they say of it; top: the record). */
static const uint8_t *eobject(struct ps *s, const uint8_t *p, int depth, int jnode, const wn_jedit_member *d, int top)
{
	const uint8_t *end = s->end;
	uint8_t *hdr = s->o;
	size_t base = s->nm, nign = 0, n_out = 0;
	int each = d->how == WN_JE_EACH;

	if (depth > WN_JSON_MAX_DEPTH)
		return fail(s, WN_E_DEPTH, p, "nesting deeper than %d levels", WN_JSON_MAX_DEPTH);
	hdr[0] = 'o';
	s->o = hdr + 5;
	if (oput(s, "{", 1))
		return NULL;
	if (top && s->ed->inject_key) {
		int r = inject(s, jnode);
		if (r < 0)
			return NULL;
		nign += (size_t)r;
		n_out = 1;
	}
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		goto close;
	for (;;) {
		static const wn_jedit_member unlisted = { .node = -1, .how = WN_JE_COPY };
		const wn_jedit_member *mr;
		wn_jedit_member md;
		uint8_t *mo, *vo;
		const uint8_t *ks, *ke, *kc, *vs;
		size_t klen, mi = 0;
		uint64_t pfx;
		int child, more;
		unsigned ign, slots;

		ks = p;
		mo = NULL;
		if (!(p = key_open(s, p, &mi, &mo)))
			return NULL;
		ke = p;
		klen = (size_t)(s->o - mo - 4);
		pfx = key_prefix(mo + 4, klen);
		if (each) {
			mr = d;
		} else if (d->copy_unlisted && !(d->listed & key_bit(pfx, klen))) {
			mr = &unlisted;
		} else {
			mr = erule(s, d, mo + 4, klen, pfx, &md);
			if (mr->rename) {
				s->o = mo + 4;
				if (room(s, mr->rename_len + 16))
					return NULL;
				memcpy(mo + 4, mr->rename, mr->rename_len);
				klen = mr->rename_len;
				s->o = mo + 4 + klen;
				pfx = key_prefix(mo + 4, klen);
			}
		}
		key_close(s, mi, mo, klen, pfx);
		child = -1;
		ign = slots = 0;
		if (!mr->skip)
			child = jlookup(s, jnode, mo + 4, klen, pfx, &slots, &ign);
		if (!(p = key_colon(s, p)))
			return NULL;
		vs = p;
		vo = s->o;
		if (mr->skip) {
			/* parsed (strictly: the caller's second pass decides a fault here), then
			 * forgotten: not written, not counted, no duplicate of anything */
			p = value(s, p, depth, -1);
			if (!p)
				return NULL;
			s->o = mo;
			s->nm = mi;
			goto next;
		}
		if (mr->node < 0 && !each) {
			/* no path reaches it: the member as it stands, key to value's end; most
			 * often right after the input's comma after the input's last bytes */
			int joined = n_out && ks - 1 == s->raw_e && *s->raw_e == ',';
			if (!joined && n_out && ocomma(s))
				return NULL;
			n_out++;
			if (!(p = value(s, p, depth, child)))
				return NULL;
			if (joined)
				s->raw_e = p;
			else if (oraw(s, ks, (size_t)(p - ks)))
				return NULL;
			if (slots)
				set_slots(s, slots, vs, p, vo);
		} else {
			size_t os;
			if (n_out++ && ocomma(s))
				return NULL;
			if (each) {
				kc = skip_ws(ke, end);   /* the ':' */
				if (oraw(s, ks, (size_t)(kc + 1 - ks)))   /* the key as written, through ':' */
					return NULL;
			} else if (mr->rename) {
				if (oput(s, mr->rename_text, mr->rename_text_len))
					return NULL;
			} else if (oraw(s, ks, (size_t)(ke - ks)) || (*ke == ':' ? oraw(s, ke, 1) : oput(s, ":", 1))) {
				return NULL;
			}
			os = slots ? olen(s) : 0;
			p = evalue(s, p, depth, child, mr);
			if (!p)
				return NULL;
			if (slots)
				eset_slots(s, slots, os, olen(s), vo);
		}
		member_close(s, mi, mo, klen, ign, &nign);
next:
		if ((more = next_item(s, &p, '}')) < 0)
			return NULL;
		if (!more)
			break;
	}
close:
	if (finish_object(s, hdr, base, nign))
		return NULL;
	return oput(s, "}", 1) ? NULL : p + 1;
}

/* ---- the interface ---------------------------------------------------------- */

/* Extra canonical room an edited record is given: replacements and renames longer
 * than what they replace use it, and a record that needs more is edited in two passes. */
#define EDIT_ROOM(len) ((len) + 4096)

/* wn_json_record(), editing as e says when e is not NULL. */
static int parse_record(wn_json *j, const char *buf, size_t len, const wn_jedit *e, wn_jresult *res, char *out,
	size_t cap, size_t *outlen)
{
	struct ps s;
	const uint8_t *p, *start;
	XXH128_canonical_t c;
	size_t extra = e ? EDIT_ROOM(len) : 0;
	int k;

	if (!res)
		return WN_E_USAGE;
	memset(res->fp, 0, sizeof res->fp);
	for (k = 0; k < WN_JSON_MAX_SLOTS; k++) {
		res->slot[k].type = WN_JT_NONE;
		res->slot[k].ptr = NULL;
		res->slot[k].len = 0;
	}
	res->canon = NULL;
	res->canon_len = 0;
	res->err_offset = 0;
	res->err[0] = 0;
	if (!j || (!buf && len)) {
		snprintf(res->err, sizeof res->err, "bad argument");
		return WN_E_USAGE;
	}
	if (len >= WN_JSON_MAX_LEN) {
		snprintf(res->err, sizeof res->err, "record longer than %zu bytes", WN_JSON_MAX_LEN - 1);
		return WN_E_TOOLONG;
	}
	if (reserve_bytes(&j->cb, &j->cbcap, 3 * len + CANON_SLACK + extra) ||
	    reserve_bytes(&j->tmp, &j->tmpcap, 3 * len + CANON_SLACK + extra) ||
	    (j->any_slot && reserve_bytes(&j->arena, &j->arenacap, len + 1))) {
		snprintf(res->err, sizeof res->err, "out of memory");
		return WN_E_NOMEM;
	}
	s.buf = (const uint8_t *)(buf ? buf : "");
	s.end = s.buf + len;
	s.cb = s.o = j->cb;
	s.j = j;
	s.res = res;
	s.nm = 0;
	s.alen = 0;
	s.code = 0;
	s.ed = e;
	s.ob = s.oe = (uint8_t *)out;
	s.oc = out ? s.ob + cap : NULL;   /* (NULL + 0 is undefined too) */
	s.cbend = j->cb + (j->cbcap < j->tmpcap ? j->cbcap : j->tmpcap) - CANON_SLACK;
	s.raw_s = s.raw_e = NULL;

	p = skip_ws(s.buf, s.end);
	if (p == s.end) {
		fail(&s, WN_E_PARSE, p, "empty record");
		return s.code;
	}
	start = p;
	if (!e) {
		p = value(&s, p, 0, j->nodes[0].child >= 0 ? 0 : -1);
	} else if (*p == '{') {
		/* the record: rebuilt, whatever the trie says of its members */
		p = eobject(&s, p, 1, j->nodes[0].child >= 0 ? 0 : -1, &e->root, 1);
		if (p && oflush(&s))
			p = NULL;
	} else {
		p = fail(&s, WN_E_NOTOBJECT, start, "record is not a JSON object");
	}
	if (p) {
		p = skip_ws(p, s.end);
		if (p != s.end)
			p = unexpected(&s, p, "trailing data after value");
		else if (*start != '{')
			p = fail(&s, WN_E_NOTOBJECT, start, "record is not a JSON object");
	}
	if (!p) {
		for (k = 0; k < WN_JSON_MAX_SLOTS; k++)
			res->slot[k].type = WN_JT_NONE;
		return s.code;
	}
	if (outlen)
		*outlen = (size_t)(s.oe - s.ob);
	res->canon = j->cb;
	res->canon_len = (size_t)(s.o - j->cb);
	XXH128_canonicalFromHash(&c, XXH3_128bits(res->canon, res->canon_len));
	memcpy(res->fp, c.digest, sizeof res->fp);
	return 0;
}

uint64_t wn_json_key_filter(const char *key, size_t len)
{
	uint8_t b[8] = { 0 };

	memcpy(b, key, len < 8 ? len : 8);
	return key_bit(key_prefix(b, len), len);
}

int wn_json_record(wn_json *j, const char *buf, size_t len, wn_jresult *res)
{
	return parse_record(j, buf, len, NULL, res, NULL, 0, NULL);
}

int wn_json_record_edit(wn_json *j, const char *buf, size_t len, const wn_jedit *e, wn_jresult *res, char *out,
	size_t cap, size_t *outlen)
{
	*outlen = 0;
	return e && out ? parse_record(j, buf, len, e, res, out, cap, outlen) : WN_E_USAGE;
}


/* ---- paths ------------------------------------------------------------------ */

static char *copy_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *c = malloc(n);

	return c ? memcpy(c, s, n) : NULL;
}

/* Check a dotted path: not empty, no empty segment. */
static int path_ok(const char *path)
{
	const char *p;

	if (!path || !*path)
		return 0;
	for (p = path; *p; p++)
		if (*p == '.' && (p == path || p[1] == '.' || p[1] == 0))
			return 0;
	return 1;
}

/* Add `path` to the trie; returns the node of its last segment, or -1. */
static int32_t trie_add(wn_json *j, const char *path)
{
	int32_t cur = 0;
	const char *seg = path;

	for (;;) {
		size_t len = strcspn(seg, ".");
		int32_t c;

		for (c = j->nodes[cur].child; c >= 0; c = j->nodes[c].next)
			if (j->nodes[c].len == len && memcmp(j->nodes[c].seg, seg, len) == 0)
				break;
		if (c < 0) {
			struct wn_pnode *nd;
			if (j->nnodes == j->nodecap) {
				if (!(nd = grow(j->nodes, &j->nodecap, j->nnodes + 1, sizeof *nd)))
					return -1;
				j->nodes = nd;
			}
			c = (int32_t)j->nnodes++;
			nd = &j->nodes[c];
			nd->seg = seg;
			nd->len = (uint32_t)len;
			{
				uint8_t b[8] = { 0 };
				memcpy(b, seg, len < 8 ? len : 8);
				nd->pfx = key_prefix(b, len);
			}
			nd->child = -1;
			nd->ignore = 0;
			nd->slots = 0;
			nd->next = j->nodes[cur].child;
			j->nodes[cur].child = c;
		}
		cur = c;
		if (!seg[len])
			return cur;
		seg += len + 1;
	}
}

/* Rebuild the trie from the slot and ignore paths (rare: only when they change). */
static int trie_build(wn_json *j)
{
	size_t i;
	int32_t n;

	if (!j->nodecap) {
		struct wn_pnode *nd = grow(j->nodes, &j->nodecap, 1, sizeof *nd);
		if (!nd)
			return WN_E_NOMEM;
		j->nodes = nd;
	}
	j->nnodes = 1;
	memset(&j->nodes[0], 0, sizeof j->nodes[0]);
	j->nodes[0].child = -1;
	j->nodes[0].next = -1;
	j->any_slot = 0;
	for (i = 0; i < j->nign; i++) {
		if ((n = trie_add(j, j->ign[i])) < 0)
			return WN_E_NOMEM;
		j->nodes[n].ignore = 1;
	}
	for (i = 0; i < WN_JSON_MAX_SLOTS; i++) {
		if (!j->slot_path[i])
			continue;
		if ((n = trie_add(j, j->slot_path[i])) < 0)
			return WN_E_NOMEM;
		j->nodes[n].slots |= 1u << i;
		j->any_slot = 1;
	}
	/* each node's children by key_slot(), for trie_child() */
	if (j->bybitcap < j->nnodes * 64) {
		int32_t *b = realloc(j->bybit, j->nnodes * 64 * sizeof *b);
		if (!b)
			return WN_E_NOMEM;
		j->bybit = b;
		j->bybitcap = j->nnodes * 64;
	}
	for (i = 0; i < j->nnodes * 64; i++)
		j->bybit[i] = -1;
	for (i = 0; i < j->nnodes; i++) {
		int32_t c;
		for (c = j->nodes[i].child; c >= 0; c = j->nodes[c].next) {
			int32_t *head = &j->bybit[i * 64 + key_slot(j->nodes[c].pfx, j->nodes[c].len)];
			j->nodes[c].nextbit = *head;
			*head = c;
		}
	}
	return 0;
}

wn_json *wn_json_new(void)
{
	wn_json *j = calloc(1, sizeof *j);

	if (j && trie_build(j)) {
		wn_json_free(j);
		return NULL;
	}
	return j;
}

void wn_json_free(wn_json *j)
{
	size_t i;

	if (!j)
		return;
	free(j->cb);
	free(j->tmp);
	free(j->arena);
	free(j->ms);
	free(j->nodes);
	free(j->bybit);
	for (i = 0; i < WN_JSON_MAX_SLOTS; i++)
		free(j->slot_path[i]);
	for (i = 0; i < j->nign; i++)
		free(j->ign[i]);
	free(j->ign);
	free(j);
}

int wn_json_set_slot(wn_json *j, int slot, const char *path)
{
	char *copy = NULL, *old;
	int rc;

	if (!j || slot < 0 || slot >= WN_JSON_MAX_SLOTS || (path && !path_ok(path)))
		return WN_E_USAGE;
	if (path && !(copy = copy_str(path)))
		return WN_E_NOMEM;
	old = j->slot_path[slot];
	j->slot_path[slot] = copy;
	if ((rc = trie_build(j)) != 0) {
		j->slot_path[slot] = old;
		free(copy);
		/* The old trie pointed at old's text; rebuilding it needs no more nodes
		 * than it had, so it cannot fail. */
		trie_build(j);
		return rc;
	}
	free(old);
	return 0;
}

int wn_json_add_ignore(wn_json *j, const char *path)
{
	char *copy;
	int rc;

	if (!j || !path_ok(path))
		return WN_E_USAGE;
	if (j->nign == j->igncap) {
		char **ni = grow(j->ign, &j->igncap, j->nign + 1, sizeof *ni);
		if (!ni)
			return WN_E_NOMEM;
		j->ign = ni;
	}
	if (!(copy = copy_str(path)))
		return WN_E_NOMEM;
	j->ign[j->nign++] = copy;
	if ((rc = trie_build(j)) != 0) {
		free(j->ign[--j->nign]);
		trie_build(j);
		return rc;
	}
	return 0;
}
