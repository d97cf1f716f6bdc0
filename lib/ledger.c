/*
 * ledger.c - the two kinds of entry a catalog keeps beside its records (doc/FORMAT.md
 * sections 5 and 6): the ledger entry, one per input record that was a duplicate or a
 * revision, and the reject entry, one per input line with no record in it.
 *
 * Each format has this one codec: ingest writes entries with the encoders, and whoever
 * reads them back (verify; later reindex, merge, dups) uses the decoders, so a change to
 * the format is made here once. An entry is one line of JSON with its keys in a fixed
 * order and no spaces, which lets the decoders read it as a scan of literals instead of
 * parsing it: ledgers are long, and verify reads every entry. The ledger's encoder is on
 * ingest's hot path too (most of a re-run's records are duplicates), hence no printf.
 */
#include "internal.h"
#include "jread.h"
#include "ledger.h"

/* ---- encoding ---- */

static int put_input(wn_buf *b, const char *json, size_t jl, const char *name, size_t nl)
{
	return json ? wn_buf_put(b, json, jl) : wn_buf_json_bytes(b, name, nl);
}

int wn_ledger_encode(const wn_ledger_entry *e, wn_buf *b)
{
	char hex[33];
	int rc = wn_buf_puts(b, "{\"input\":");
	rc |= put_input(b, e->input_json, e->input_json_len, e->input, e->input_len);
	rc |= wn_buf_puts(b, ",\"line\":");
	rc |= wn_buf_put_u64(b, e->line);
	rc |= wn_buf_puts(b, e->revision ? ",\"match\":\"revision\",\"id\":" : ",\"match\":\"duplicate\",\"id\":");
	rc |= wn_buf_json_str(b, e->id, e->id_len);
	rc |= wn_buf_puts(b, ",\"survivor\":");
	rc |= wn_buf_put_u64(b, e->survivor);
	wn_hex(hex, e->fp, 16);
	rc |= wn_buf_puts(b, ",\"fingerprint\":\"");
	rc |= wn_buf_put(b, hex, 32);
	rc |= wn_buf_puts(b, "\"");
	if (e->superseded >= 0) {
		rc |= wn_buf_puts(b, ",\"superseded\":");
		rc |= wn_buf_put_u64(b, (uint64_t)e->superseded);
	}
	if (e->record) {
		rc |= wn_buf_puts(b, ",\"record\":");
		rc |= wn_buf_put(b, e->record, e->record_len);
	}
	rc |= wn_buf_puts(b, "}");
	return rc ? WN_E_NOMEM : 0;
}

/* the reason codes of FORMAT.md section 6, by the error that causes them */
static const struct { int code; const char *name; } reasons[] = {
	{ WN_E_PARSE, "malformed_json" }, { WN_E_UTF8, "invalid_utf8" }, { WN_E_DEPTH, "too_deep" },
	{ WN_E_DUPKEY, "duplicate_key" }, { WN_E_NOTOBJECT, "not_an_object" }, { WN_E_NOID, "missing_id" },
	{ WN_E_TOOLONG, "line_too_long" }, { WN_E_EMPTY, "empty_line" }, { WN_E_ROW, "bad_row" },
	{ WN_E_EXCLUDED, "excluded" },
};
#define NREASONS (sizeof reasons / sizeof reasons[0])

const char *wn_reject_reason(int code)
{
	for (size_t i = 0; i < NREASONS; i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return "other";
}

static int reason_code(const char *s, size_t n)
{
	for (size_t i = 0; i < NREASONS; i++)
		if (strlen(reasons[i].name) == n && !memcmp(reasons[i].name, s, n))
			return reasons[i].code;
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* p[0..n) as a quoted base64 string (RFC 4648, with padding). */
static int put_base64(wn_buf *b, const uint8_t *p, size_t n)
{
	if (wn_buf_reserve(b, (n + 2) / 3 * 4 + 3))
		return WN_E_NOMEM;
	char *o = b->p + b->len;
	*o++ = '"';
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64[v >> 18]; *o++ = b64[(v >> 12) & 63]; *o++ = b64[(v >> 6) & 63]; *o++ = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = b64[v >> 18]; *o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	return 0;
}

int wn_reject_encode(const wn_reject_entry *e, wn_buf *b)
{
	int rc = wn_buf_puts(b, "{\"input\":");
	rc |= put_input(b, e->input_json, e->input_json_len, e->input, e->input_len);
	if (e->contributor) {
		rc |= wn_buf_puts(b, ",\"contributor\":");
		rc |= wn_buf_json_str(b, e->contributor, e->contributor_len);
	}
	rc |= wn_buf_puts(b, ",\"line\":");
	rc |= wn_buf_put_u64(b, e->line);
	rc |= wn_buf_puts(b, ",\"offset\":");
	rc |= wn_buf_put_u64(b, e->offset);
	rc |= wn_buf_puts(b, ",\"reason\":\"");
	rc |= wn_buf_puts(b, wn_reject_reason(e->code));
	rc |= wn_buf_puts(b, "\",\"detail\":");
	rc |= wn_buf_json_bytes(b, e->detail, e->detail_len);
	if (e->has_error_offset) {
		rc |= wn_buf_puts(b, ",\"error_offset\":");
		rc |= wn_buf_put_u64(b, e->error_offset);
	}
	if (e->truncated) {
		rc |= wn_buf_puts(b, ",\"length\":");
		rc |= wn_buf_put_u64(b, e->length);
		rc |= wn_buf_puts(b, ",\"raw_truncated\":true");
	}
	if (e->withheld)
		rc |= wn_buf_puts(b, ",\"raw_withheld\":true");
	if (e->withheld && e->raw_hmac) {
		rc |= wn_buf_puts(b, ",\"raw_hmac\":");
		rc |= wn_buf_json_str(b, e->raw_hmac, e->raw_hmac_len);
	}
	rc |= wn_buf_puts(b, ",\"raw\":");
	if (wn_utf8_valid(e->raw, e->raw_len)) {
		rc |= wn_buf_json_str(b, e->raw, e->raw_len);
	} else {
		/* readable text, and the exact bytes beside it */
		rc |= wn_buf_json_bytes(b, e->raw, e->raw_len);
		rc |= wn_buf_puts(b, ",\"raw_base64\":");
		rc |= put_base64(b, (const uint8_t *)e->raw, e->raw_len);
	}
	rc |= wn_buf_puts(b, "}");
	return rc ? WN_E_NOMEM : 0;
}

/* ---- decoding: a scan over the literals between the values ---- */

typedef struct cur {
	const char *p, *e;
} cur;

static int lit(cur *c, const char *s, size_t n)
{
	if ((size_t)(c->e - c->p) < n || memcmp(c->p, s, n))
		return 0;
	c->p += n;
	return 1;
}
#define LIT(c, s) lit(c, s, sizeof s - 1)

/* A JSON string, passed over: its text, quotes included, in *s and *n. */
static int string(cur *c, const char **s, size_t *n)
{
	const char *q = c->p;
	if (q >= c->e || *q++ != '"')
		return 0;
	for (;;) {
		while (q < c->e && *q != '"' && *q != '\\')
			q++;
		if (q >= c->e)
			return 0;
		if (*q == '"')
			break;
		q += 2;
	}
	*s = c->p;
	*n = (size_t)(q + 1 - c->p);
	c->p = q + 1;
	return 1;
}

/* A non-negative integer of at most 19 digits (so that it fits). */
static int digits(cur *c, uint64_t *v)
{
	const char *q = c->p;
	uint64_t x = 0;
	while (q < c->e && *q >= '0' && *q <= '9' && q - c->p < 19)
		x = x * 10 + (uint64_t)(*q++ - '0');
	if (q == c->p)
		return 0;
	*v = x;
	c->p = q;
	return 1;
}

/* The value of the JSON string s[0..n) (quotes included), appended to scratch; its
 * offset there in *at and length in *len. 0, -1 or WN_E_NOMEM. */
static int unquote(const char *s, size_t n, wn_buf *scratch, size_t *at, size_t *len)
{
	/* winnow writes its strings as UTF-8 (other bytes as \u00XX escapes): raw bytes
	 * that are not are no entry of winnow's, and would not survive a rewrite */
	if (!wn_utf8_valid(s, n))
		return -1;
	wn_jread j = { s, s + n };
	*at = scratch->len;
	int rc = wn_jread_str_buf(&j, scratch);
	*len = scratch->len - *at;
	return rc;
}

static int unb64(int ch)
{
	const char *q = ch ? strchr(b64, ch) : NULL;
	return q ? (int)(q - b64) : -1;
}

/* The bytes of the quoted base64 string s[0..n), appended to scratch. 0, -1, WN_E_NOMEM. */
static int unbase64(const char *s, size_t n, wn_buf *scratch, size_t *at, size_t *len)
{
	s++, n -= 2;   /* the quotes */
	if (n % 4 || wn_buf_reserve(scratch, n / 4 * 3 + 1))
		return n % 4 ? -1 : WN_E_NOMEM;
	*at = scratch->len;
	uint8_t *o = (uint8_t *)scratch->p + scratch->len;
	for (size_t i = 0; i < n; i += 4) {
		int pad = (s[i + 3] == '=') + (s[i + 2] == '=' && s[i + 3] == '=');
		if (pad && i + 4 < n)
			return -1;
		uint32_t v = 0;
		for (int k = 0; k < 4; k++) {
			int d = k >= 4 - pad ? 0 : unb64((unsigned char)s[i + k]);
			if (d < 0)
				return -1;
			v = v << 6 | (uint32_t)d;
		}
		*o++ = (uint8_t)(v >> 16);
		if (pad < 2)
			*o++ = (uint8_t)(v >> 8);
		if (!pad)
			*o++ = (uint8_t)v;
	}
	*len = (size_t)(o - (uint8_t *)scratch->p) - *at;
	scratch->len += *len;
	return 0;
}

/* {"input":S,"line":N,"match":"duplicate"|"revision","id":S,"survivor":N */
static int ledger_head(cur *c, wn_ledger_entry *e)
{
	if (!LIT(c, "{\"input\":") || !string(c, &e->input_json, &e->input_json_len) || !LIT(c, ",\"line\":") ||
	    !digits(c, &e->line) || !LIT(c, ",\"match\":\""))
		return -1;
	if (LIT(c, "duplicate\""))
		e->revision = 0;
	else if (LIT(c, "revision\""))
		e->revision = 1;
	else
		return -1;
	if (!LIT(c, ",\"id\":") || !string(c, &e->id_json, &e->id_json_len) || !LIT(c, ",\"survivor\":") ||
	    !digits(c, &e->survivor))
		return -1;
	return 0;
}

/* ,"fingerprint":"HEX"[,"superseded":N][,"record":{...}]} to the end of the line */
static int ledger_tail(cur *c, wn_ledger_entry *e)
{
	uint64_t v;
	if (!LIT(c, ",\"fingerprint\":\"") || c->e - c->p < 33 || wn_unhex(e->fp, c->p, 16) || c->p[32] != '"')
		return -1;
	c->p += 33;
	if (LIT(c, ",\"superseded\":")) {
		if (!digits(c, &v))
			return -1;
		e->superseded = (int64_t)v;
	}
	if (LIT(c, ",\"record\":")) {
		/* the record is the last value: it runs to the entry's closing brace */
		if (c->e - c->p < 3)   /* "{}" and the entry's brace, at least */
			return -1;
		e->record = c->p;
		e->record_len = (size_t)(c->e - c->p) - 1;
		if (c->p[0] != '{' || c->e[-2] != '}')
			return -1;
		c->p = c->e - 1;
	}
	return LIT(c, "}") && c->p == c->e ? 0 : -1;
}

int wn_ledger_decode(const char *line, size_t n, int what, wn_ledger_entry *e, wn_buf *scratch)
{
	cur c = { line, line + n };
	memset(e, 0, sizeof *e);
	e->superseded = -1;
	if (ledger_head(&c, e))
		return -1;
	if (what == WN_LEDGER_HEAD)
		return 0;
	size_t in_at, id_at;
	int rc;
	if (ledger_tail(&c, e))
		return -1;
	scratch->len = 0;
	if ((rc = unquote(e->input_json, e->input_json_len, scratch, &in_at, &e->input_len)) ||
	    (rc = unquote(e->id_json, e->id_json_len, scratch, &id_at, &e->id_len)))
		return rc;
	e->input = scratch->p + in_at;
	e->id = scratch->p + id_at;
	return 0;
}

/* The optional members of a reject entry, between "detail" and "raw". */
static int reject_middle(cur *c, wn_reject_entry *e)
{
	if (LIT(c, ",\"error_offset\":")) {
		if (!digits(c, &e->error_offset))
			return -1;
		e->has_error_offset = 1;
	}
	if (LIT(c, ",\"length\":")) {
		if (!digits(c, &e->length) || !LIT(c, ",\"raw_truncated\":true"))
			return -1;
		e->truncated = 1;
	}
	if (LIT(c, ",\"raw_withheld\":true"))
		e->withheld = 1;
	if (e->withheld && LIT(c, ",\"raw_hmac\":") && !string(c, &e->raw_hmac, &e->raw_hmac_len))
		return -1;
	return 0;
}

int wn_reject_decode(const char *line, size_t n, wn_reject_entry *e, wn_buf *scratch)
{
	cur c = { line, line + n };
	const char *det, *raw, *b = NULL;
	size_t detl, rawl, bl = 0, in_at, det_at, raw_at;
	int rc;
	memset(e, 0, sizeof *e);
	if (!LIT(&c, "{\"input\":") || !string(&c, &e->input_json, &e->input_json_len) ||
	    (LIT(&c, ",\"contributor\":") && !string(&c, &e->contributor, &e->contributor_len)) || !LIT(&c, ",\"line\":") ||
	    !digits(&c, &e->line) || !LIT(&c, ",\"offset\":") || !digits(&c, &e->offset) || !LIT(&c, ",\"reason\":") ||
	    !string(&c, &e->reason, &e->reason_len) || !LIT(&c, ",\"detail\":") || !string(&c, &det, &detl) ||
	    reject_middle(&c, e) || !LIT(&c, ",\"raw\":") || !string(&c, &raw, &rawl) ||
	    (LIT(&c, ",\"raw_base64\":") && !string(&c, &b, &bl)) || !LIT(&c, "}") || c.p != c.e)
		return -1;
	e->reason++;
	e->reason_len -= 2;
	if (memchr(e->reason, '\\', e->reason_len))
		return -1;
	if (e->contributor) {
		e->contributor++;
		e->contributor_len -= 2;
	}
	e->code = reason_code(e->reason, e->reason_len);
	scratch->len = 0;
	if ((rc = unquote(e->input_json, e->input_json_len, scratch, &in_at, &e->input_len)) ||
	    (rc = unquote(det, detl, scratch, &det_at, &e->detail_len)) ||
	    (rc = b ? unbase64(b, bl, scratch, &raw_at, &e->raw_len) : unquote(raw, rawl, scratch, &raw_at, &e->raw_len)))
		return rc;
	e->input = scratch->p + in_at;
	e->detail = scratch->p + det_at;
	e->raw = scratch->p + raw_at;
	return 0;
}
