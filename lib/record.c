/*
 * record.c - a record's keys: the usable-id rule, the ISRC and its normal form, the
 * hashes the index is keyed by, and the parser set-up that yields them.
 *
 * Why one file: ingest decides kept / duplicate / revision with these keys, and get,
 * export and verify prove what they read against the same keys. Were the rule written
 * twice, a checker could accept what the writer would have refused (or report damage
 * where there is none). Everything here is pure: no catalog, no I/O.
 */
#include "internal.h"
#include "record.h"
#include "profile.h"
#include "jread.h"

#include <stdio.h>
#include <xxhash.h>

/* The parser's slots of id part i (profile.h: id_alts). */
static inline int alts(const wn_profile *p, int i)
{
	return p->id_alts[i] ? p->id_alts[i] : 1;
}

int wn_record_parser(wn_json *j, const wn_profile *p, unsigned what)
{
	int rc = 0, slot = WN_SLOT_ID;
	for (int i = 0; i < p->n_id && !p->id_content && !rc; i++) {
		int n = alts(p, i);
		for (int k = 0; k < n && !rc; k++) {
			char alt[WN_PATH_MAX];
			wn_id_alt(p->id[i], k, alt);
			rc = slot < WN_SLOT_ID + WN_ID_SLOTS ? wn_json_set_slot(j, slot++, alt) : WN_E_USAGE;
		}
	}
	while (slot < WN_SLOT_ID + WN_ID_SLOTS && !rc)
		rc = wn_json_set_slot(j, slot++, NULL);
	for (int i = 0; i < WN_ISRC_PATHS && !rc; i++)
		rc = wn_json_set_slot(j, WN_SLOT_ISRC + i, i < p->n_isrc ? p->isrc[i] : NULL);
	for (int i = 0; i < p->n_ignore && !rc && (what & WN_RECORD_FP); i++)
		rc = wn_json_add_ignore(j, p->ignore[i]);
	int m = (what & WN_RECORD_MATCH) != 0;
	if (!rc)
		rc = wn_json_set_slot(j, WN_SLOT_TITLE, m && p->title[0] ? p->title : NULL);
	if (!rc)
		rc = wn_json_set_slot(j, WN_SLOT_ARTISTS, m && p->artists[0] ? p->artists : NULL);
	if (!rc)
		rc = wn_json_set_slot(j, WN_SLOT_DURATION, m && p->duration[0] ? p->duration : NULL);
	if (!rc)
		rc = wn_json_set_slot(j, WN_SLOT_LINK, m ? WN_LINK_PATH : NULL);
	return rc;
}

/* ---- the fields matching reads ---- */

/* The integer part of a duration: a JSON number literal or a string of digits (a CSV
 * column), with an optional fraction; anything else, or a negative value, is none. */
static uint32_t duration_ms(const wn_jslot *v)
{
	if (v->type != WN_JT_NUMBER && v->type != WN_JT_STRING)
		return WN_NODUR;
	uint64_t ms = 0;
	size_t i = 0;
	for (; i < v->len && v->ptr[i] >= '0' && v->ptr[i] <= '9'; i++)
		if ((ms = ms * 10 + (uint64_t)(v->ptr[i] - '0')) >= WN_NODUR)
			return WN_NODUR;
	if (!i || (i < v->len && v->ptr[i] != '.' && v->ptr[i] != 'e' && v->ptr[i] != 'E'))
		return WN_NODUR;
	if (i < v->len && v->ptr[i] != '.')
		return WN_NODUR;   /* an exponent: not a duration anyone writes */
	for (i++; i < v->len; i++)
		if (v->ptr[i] < '0' || v->ptr[i] > '9')
			return WN_NODUR;
	return (uint32_t)ms;
}

/* One element of a structured artist list: a string, or an object's "name" string (and
 * its "id" string into id, *idlen 0 when there is none or it is too long). */
static int list_name(wn_jread *j, char *out, size_t *len, char *id, size_t *idlen)
{
	*idlen = 0;
	if (wn_jread_peek(j) == '"')
		return wn_jread_str(j, out, WN_MAX_NAME, len) ? -1 : 1;
	if (wn_jread_peek(j) != '{')
		return wn_jread_skip(j, 1) ? -1 : 0;
	int found = 0, found_id = 0;
	wn_jread_eat(j, '{');
	while (wn_jread_peek(j) == '"') {
		char key[8];
		size_t kl;
		if (wn_jread_str(j, key, sizeof key, &kl) || !wn_jread_eat(j, ':'))
			return -1;
		if (!found && kl == 4 && !memcmp(key, "name", 4) && wn_jread_peek(j) == '"') {
			if (wn_jread_str(j, out, WN_MAX_NAME, len))
				return -1;
			found = 1;
		} else if (!found_id && kl == 2 && !memcmp(key, "id", 2) && wn_jread_peek(j) == '"') {
			if (wn_jread_str(j, id, WN_MAX_AID, idlen))
				return -1;
			if (*idlen > WN_MAX_AID - 1)
				*idlen = 0;
			found_id = 1;
		} else if (wn_jread_skip(j, 2)) {
			return -1;
		}
		wn_jread_eat(j, ',');
	}
	return wn_jread_eat(j, '}') ? found : -1;
}

void wn_record_fields(const wn_jresult *jr, wn_fields *f)
{
	const wn_jslot *t = &jr->slot[WN_SLOT_TITLE], *a = &jr->slot[WN_SLOT_ARTISTS];
	const wn_jslot *l = &jr->slot[WN_SLOT_LINK];
	f->title = t->type == WN_JT_STRING ? t->ptr : NULL;
	f->title_len = f->title ? t->len : 0;
	f->nnames = 0;
	f->credit = a->type == WN_JT_STRING ? a->ptr : NULL;
	f->credit_len = f->credit ? a->len : 0;
	if (a->type == WN_JT_ARRAY) {
		/* raw text the parser has checked: each element a name, in credit order */
		wn_jread j = { a->ptr, a->ptr + a->len };
		wn_jread_eat(&j, '[');
		while (wn_jread_peek(&j) >= 0 && wn_jread_peek(&j) != ']' && f->nnames < WN_MAX_NAMES) {
			char *dst = f->buf + (size_t)f->nnames * WN_MAX_NAME;
			char *idst = f->aidbuf + (size_t)f->nnames * WN_MAX_AID;
			size_t len = 0, idlen = 0;
			int got = list_name(&j, dst, &len, idst, &idlen);
			if (got < 0)
				break;
			if (got && len) {
				f->aid[f->nnames] = idst;
				f->aid_len[f->nnames] = idlen;
				f->name[f->nnames] = dst;
				f->name_len[f->nnames++] = len < WN_MAX_NAME ? len : WN_MAX_NAME - 1;
			}
			wn_jread_eat(&j, ',');
		}
	}
	f->dur_ms = duration_ms(&jr->slot[WN_SLOT_DURATION]);
	f->link = (l->type == WN_JT_STRING || l->type == WN_JT_NUMBER) && l->len ? l->ptr : NULL;
	f->link_len = f->link ? l->len : 0;
}

void wn_record_isrcs(const wn_jresult *jr, wn_isrcs *out)
{
	out->n = out->over = 0;
	for (int s = WN_SLOT_ISRC; s <= WN_SLOT_ISRC2; s++) {
		const wn_jslot *v = &jr->slot[s];
		if (v->type == WN_JT_STRING) {
			if (v->len) {
				out->p[0] = v->ptr;
				out->len[0] = v->len;
				out->n = 1;
			}
			return;
		}
		if (v->type != WN_JT_ARRAY)
			continue;
		/* the array's raw text, which the parser has checked: its strings, in order */
		wn_jread j = { v->ptr, v->ptr + v->len };
		size_t used = 0;
		wn_jread_eat(&j, '[');
		while (wn_jread_peek(&j) >= 0 && wn_jread_peek(&j) != ']') {
			size_t len;
			if (wn_jread_peek(&j) == '"' && out->n < WN_MAX_ISRCS) {
				char *dst = out->buf + used;
				if (wn_jread_str(&j, dst, WN_MAX_ISRC, &len))
					break;
				if (len > WN_MAX_ISRC - 1)
					len = WN_MAX_ISRC - 1;   /* the normal form reads at most WN_MAX_ISRC bytes */
				if (len) {
					out->p[out->n] = dst;
					out->len[out->n++] = len;
					used += WN_MAX_ISRC;
				}
			} else {
				if (wn_jread_peek(&j) == '"')
					out->over = 1;
				if (wn_jread_skip(&j, 1))
					break;
			}
			wn_jread_eat(&j, ',');
		}
		return;
	}
}

/* A part of an id: its text (a string's bytes, a number's literal), or why not. */
static const char *id_part(const wn_jslot *v)
{
	if (v->type == WN_JT_NONE)
		return "missing id (no \"%s\" field)";
	if (v->type != WN_JT_STRING && v->type != WN_JT_NUMBER)
		return "missing id (\"%s\" is not a string or number)";
	if (!v->len)
		return "missing id (\"%s\" is an empty string)";
	return NULL;
}

/* The first slot of id part i (its alternatives follow). */
static int part_slot(const wn_profile *p, int i)
{
	int slot = WN_SLOT_ID;
	for (int k = 0; k < i; k++)
		slot += alts(p, k);
	return slot;
}

/* The value of part i, which starts at slot s: a part of one path is its slot, absent or
 * not (id_part judges it); of several, the first that holds a non-empty string or a
 * number, else NULL. */
static const wn_jslot *part_value(const wn_jresult *jr, const wn_profile *p, int i, int s)
{
	int n = alts(p, i);
	if (n == 1)
		return &jr->slot[s];
	for (int k = 0; k < n; k++) {
		const wn_jslot *v = &jr->slot[s + k];
		if ((v->type == WN_JT_STRING && v->len) || v->type == WN_JT_NUMBER)
			return v;
	}
	return NULL;
}

void wn_record_id_values(const wn_jresult *jr, const wn_profile *p, const wn_jslot *out[WN_ID_PARTS])
{
	int slot = WN_SLOT_ID;
	for (int i = 0; i < WN_ID_PARTS; i++) {
		const wn_jslot *v = NULL;
		if (i < p->n_id && !p->id_content) {
			v = part_value(jr, p, i, slot);
			slot += alts(p, i);
			if (v && !((v->type == WN_JT_STRING && v->len) || v->type == WN_JT_NUMBER))
				v = NULL;
		}
		out[i] = v;
	}
}

const wn_jslot *wn_record_id_part(const wn_jresult *jr, const wn_profile *p, int i)
{
	if (p->id_content || i < 0 || i >= p->n_id)
		return NULL;
	const wn_jslot *v = part_value(jr, p, i, part_slot(p, i));
	return v && ((v->type == WN_JT_STRING && v->len) || v->type == WN_JT_NUMBER) ? v : NULL;
}

/* Why part `part` has no value, into why: the one path, or all its alternatives. */
static void part_missing(char *why, size_t whylen, const char *part)
{
	if (wn_id_alts(part) == 1) {
		char alt[WN_PATH_MAX];
		wn_id_alt(part, 0, alt);
		snprintf(why, whylen, "missing id (no \"%s\" field)", alt);
		return;
	}
	size_t o = (size_t)snprintf(why, whylen, "missing id (none of");
	for (int k = 0, n = wn_id_alts(part); k < n && o < whylen; k++) {
		char alt[WN_PATH_MAX];
		wn_id_alt(part, k, alt);
		o += (size_t)snprintf(why + o, whylen - o, "%s \"%s\"", k ? "," : "", alt);
	}
	if (o < whylen)
		snprintf(why + o, whylen - o, " has a value)");
}

int wn_record_keys(const wn_jresult *jr, const wn_profile *p, wn_keys *k, char *buf, char *why, size_t whylen)
{
	if (p->id_content) {
		wn_hex(buf, jr->fp, 16);
		k->id = buf;
		k->id_len = 32;
	} else if (p->n_id == 1) {
		const wn_jslot *id = part_value(jr, p, 0, WN_SLOT_ID);
		const char *bad = id ? id_part(id) : "";
		if (bad || id->len > WN_MAX_ID) {
			if (why && bad && !*bad)
				part_missing(why, whylen, p->id[0]);
			else if (why && bad)
				snprintf(why, whylen, bad, p->id[0]);
			else if (why)
				snprintf(why, whylen, "id of %zu bytes is longer than %d", id->len, WN_MAX_ID);
			return WN_E_NOID;
		}
		k->id = id->ptr;
		k->id_len = id->len;
	} else {
		/* ["part","part",...]: JSON strings, so no two lists of parts give one id */
		size_t o = 0;
		int slot = WN_SLOT_ID, put = 0;
		buf[o++] = '[';
		for (int i = 0; i < p->n_id; i++) {
			const wn_jslot *v = part_value(jr, p, i, slot);
			slot += alts(p, i);
			/* an empty string is a value here (a chart's global rows have no country) */
			const char *bad = !v ? "" : v->type == WN_JT_STRING ? NULL : id_part(v);
			if (bad && wn_id_optional(p->id[i]))
				continue;   /* left out */
			if (bad) {
				if (why && !*bad)
					part_missing(why, whylen, p->id[i]);
				else if (why)
					snprintf(why, whylen, bad, p->id[i]);
				return WN_E_NOID;
			}
			/* quoted, the part takes at most 6 bytes a byte, and 2 more */
			if (o + 6 * v->len + 4 > WN_MAX_ID) {
				if (why)
					snprintf(why, whylen, "id (%s) is longer than %d bytes", p->id[i], WN_MAX_ID);
				return WN_E_NOID;
			}
			if (put++)
				buf[o++] = ',';
			o += wn_json_quote(buf + o, v->ptr, v->len);
		}
		buf[o++] = ']';
		buf[o] = 0;
		k->id = buf;
		k->id_len = o;
	}
	wn_id_hash(k->id, k->id_len, &k->hash, &k->check);
	memcpy(k->fp, jr->fp, 16);
	wn_isrcs is;
	wn_record_isrcs(jr, &is);
	k->n_isrc = 0;
	k->isrc_over = is.over;
	for (int i = 0; i < is.n; i++) {
		uint64_t h = wn_isrc_hash(is.p[i], is.len[i]);
		int seen = 0;
		for (int j = 0; j < k->n_isrc && !seen; j++)
			seen = k->isrc_hash[j] == h;
		if (!seen)
			k->isrc_hash[k->n_isrc++] = h;
	}
	return 0;
}

/* ---- the hashes ---- */

void wn_id_hash(const char *id, size_t n, uint64_t *hash, uint16_t *check)
{
	XXH128_hash_t h = XXH3_128bits(id, n);
	*hash = h.high64;
	*check = (uint16_t)h.low64;
}

size_t wn_isrc_norm(char *out, const char *isrc, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = isrc[i];
		if (ch >= 'a' && ch <= 'z')
			out[o++] = (char)(ch - 32);
		else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
			out[o++] = ch;
	}
	return o;
}

uint64_t wn_isrc_valid(const char *isrc, size_t n)
{
	char buf[WN_MAX_ISRC];
	size_t l = wn_isrc_norm(buf, isrc, n < sizeof buf ? n : sizeof buf);
	if (l != 12 || (buf[0] == 'T' && buf[1] == 'C'))
		return 0;
	uint64_t v = 0;
	for (size_t i = 0; i < 12; i++) {
		int digit = buf[i] >= '0' && buf[i] <= '9';
		if ((i < 2 && digit) || (i >= 5 && !digit))
			return 0;
		v = v * 36 + (uint64_t)(digit ? buf[i] - '0' : buf[i] - 'A' + 10);
	}
	return v;   /* the first character is a letter (>= 10): never 0 */
}

uint64_t wn_isrc_hash(const char *isrc, size_t n)
{
	char buf[WN_MAX_ISRC];
	if (n > sizeof buf)
		n = sizeof buf;
	size_t l = wn_isrc_norm(buf, isrc, n);
	return XXH3_64bits(buf, l);
}

uint64_t wn_fp_key(const uint8_t fp[16])
{
	return wn_get_be64(fp);
}
