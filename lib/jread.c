/*
 * jread.c - reading winnow's own JSON files back: MANIFEST.json and catalog.json
 * (manifest.c), the ledger and reject entries (ledger.c), one token at a time.
 *
 * These texts are written by winnow and, where they could have been damaged, first
 * checked as a whole with the strict parser (json.c's wn_json_record); so this reader
 * only has to be exact about what it takes (strings, escapes, integers) and careful
 * about bounds, and can let a caller walk an object key by key, taking what it knows
 * and passing over the rest ("readers must ignore keys they do not know", FORMAT.md 7).
 * Record input is not read here: that is json.c's and the sources' work.
 */
#include "internal.h"
#include "jread.h"

void wn_jread_ws(wn_jread *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

int wn_jread_eat(wn_jread *j, char ch)
{
	wn_jread_ws(j);
	if (j->p < j->e && *j->p == ch) {
		j->p++;
		return 1;
	}
	return 0;
}

int wn_jread_peek(wn_jread *j)
{
	wn_jread_ws(j);
	return j->p < j->e ? (unsigned char)*j->p : -1;
}

/* Four hex digits at p: the value, or -1. */
static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int d = wn_hexval((unsigned char)p[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* The escape after a backslash (j->p is past it) into tmp: bytes written, or 0 if it is
 * not a JSON escape. A high surrogate followed by a low one is one code point; any other
 * surrogate stands alone, as json.c decodes it. */
static size_t unescape(wn_jread *j, char tmp[4])
{
	char ch = *j->p++;
	switch (ch) {
	case '"': case '\\': case '/': tmp[0] = ch; return 1;
	case 'b': tmp[0] = '\b'; return 1;
	case 'f': tmp[0] = '\f'; return 1;
	case 'n': tmp[0] = '\n'; return 1;
	case 'r': tmp[0] = '\r'; return 1;
	case 't': tmp[0] = '\t'; return 1;
	case 'u': break;
	default: return 0;
	}
	int cp = j->e - j->p >= 4 ? hex4(j->p) : -1;
	if (cp < 0)
		return 0;
	j->p += 4;
	if (cp >= 0xD800 && cp < 0xDC00 && j->e - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
		int lo = hex4(j->p + 2);
		if (lo >= 0xDC00 && lo < 0xE000) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			j->p += 6;
		}
	}
	return wn_utf8_put(tmp, (uint32_t)cp);
}

int wn_jread_str(wn_jread *j, char *out, size_t cap, size_t *len)
{
	if (!wn_jread_eat(j, '"'))
		return -1;
	size_t o = 0;
	while (j->p < j->e && *j->p != '"') {
		char tmp[4];
		size_t tl = 1;
		if ((unsigned char)*j->p < 0x20)
			return -1;
		if (*j->p == '\\') {
			j->p++;
			if (j->p >= j->e || !(tl = unescape(j, tmp)))
				return -1;
		} else {
			tmp[0] = *j->p++;
		}
		for (size_t i = 0; i < tl; i++, o++)
			if (out && o + 1 < cap)
				out[o] = tmp[i];
	}
	if (j->p >= j->e)
		return -1;
	j->p++;
	if (out && cap)
		out[o < cap ? o : cap - 1] = 0;
	if (len)
		*len = o;
	return 0;
}

int wn_jread_str_buf(wn_jread *j, wn_buf *b)
{
	/* unescaping never makes a string longer: the rest of the text is room enough */
	size_t room = (size_t)(j->e - j->p) + 1, len;
	if (wn_buf_reserve(b, room))
		return WN_E_NOMEM;
	if (wn_jread_str(j, b->p + b->len, room, &len))
		return -1;
	b->len += len;
	return 0;
}

/* Past the bytes a number may hold; where it started. */
static const char *num_span(wn_jread *j)
{
	wn_jread_ws(j);
	const char *s = j->p;
	while (j->p < j->e && *j->p && strchr("0123456789+-.eE", *j->p))
		j->p++;
	return s;
}

/* The digits s..e as an integer: NULL, or why they are not one that fits 64 bits. */
static const char *digits_u64(const char *s, const char *e, uint64_t *v)
{
	uint64_t x = 0;
	if (*s == '-')
		return "is negative";
	for (const char *q = s; q < e; q++) {
		if (*q < '0' || *q > '9')
			return "is not an integer (it has a fraction or an exponent)";
		unsigned d = (unsigned)(*q - '0');
		if (x > (UINT64_MAX - d) / 10)
			return "is larger than 2^64-1";
		x = x * 10 + d;
	}
	*v = x;
	return NULL;
}

int wn_jread_num(wn_jread *j, uint64_t *v)
{
	const char *s = num_span(j);
	if (j->p == s)
		return -1;
	return digits_u64(s, j->p, v) ? 0 : 1;
}

int wn_jread_u64(wn_jread *j, uint64_t *v, const char **why)
{
	static const struct { char ch; const char *why; } other[] = {
		{ '"', "is a string, not an integer" }, { '{', "is an object, not an integer" },
		{ '[', "is an array, not an integer" }, { 't', "is a boolean, not an integer" },
		{ 'f', "is a boolean, not an integer" }, { 'n', "is null, not an integer" },
	};
	int ch = wn_jread_peek(j);
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		if (ch == other[i].ch) {
			*why = other[i].why;
			return wn_jread_skip(j, 1);
		}
	const char *s = num_span(j);
	if (j->p == s)
		return -1;
	*why = digits_u64(s, j->p, v);
	return 0;
}

int wn_jread_skip(wn_jread *j, int depth)
{
	int ch = wn_jread_peek(j);
	if (depth > 64 || ch < 0)
		return -1;
	if (ch == '"')
		return wn_jread_str(j, NULL, 0, NULL);
	if (ch == '{' || ch == '[') {
		char close = ch == '{' ? '}' : ']';
		j->p++;
		if (wn_jread_eat(j, close))
			return 0;
		for (;;) {
			if (ch == '{' && (wn_jread_str(j, NULL, 0, NULL) || !wn_jread_eat(j, ':')))
				return -1;
			if (wn_jread_skip(j, depth + 1))
				return -1;
			if (wn_jread_eat(j, ','))
				continue;
			return wn_jread_eat(j, close) ? 0 : -1;
		}
	}
	while (j->p < j->e && !strchr(",]} \t\r\n", *j->p))
		j->p++;
	return 0;
}
