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

#include <stdio.h>
#include <xxhash.h>

/* The ISRC fields tried, in order, when the catalog names none: the Web API's track
 * object and the dump's flattened tracks table. */
static const char *const auto_isrc[2] = { "external_ids.isrc", "external_id_isrc" };

const char *wn_record_default_id(int kind)
{
	(void)kind;
	return "id";
}

const char *wn_record_id_field(const wn_catopts *o, int kind)
{
	return kind >= 0 && kind < WN_NBUILTIN_KINDS && *o->id_field[kind] ? o->id_field[kind] : wn_record_default_id(kind);
}

int wn_record_parser(wn_json *j, const wn_catopts *o, int kind, unsigned what)
{
	int rc = wn_json_set_slot(j, WN_SLOT_ID, wn_record_id_field(o, kind));
	if (!rc && kind == WN_KIND_TRACK) {
		if (*o->isrc_field)
			rc = wn_json_set_slot(j, WN_SLOT_ISRC, o->isrc_field);
		else if (!(rc = wn_json_set_slot(j, WN_SLOT_ISRC, auto_isrc[0])))
			rc = wn_json_set_slot(j, WN_SLOT_ISRC2, auto_isrc[1]);
	}
	for (int i = 0; i < o->n_ignore && !rc && (what & WN_RECORD_FP); i++)
		rc = wn_json_add_ignore(j, o->ignore[i]);
	return rc;
}

const wn_jslot *wn_record_isrc(const wn_jresult *jr)
{
	for (int s = WN_SLOT_ISRC; s <= WN_SLOT_ISRC2; s++)
		if (jr->slot[s].type == WN_JT_STRING)
			return &jr->slot[s];
	return NULL;
}

int wn_record_keys(const wn_jresult *jr, int kind, const char *id_field, wn_keys *k, char *why, size_t whylen)
{
	const wn_jslot *id = &jr->slot[WN_SLOT_ID];
	const char *bad = NULL;
	if (id->type == WN_JT_NONE)
		bad = "missing id (no \"%s\" field)";
	else if (id->type != WN_JT_STRING && id->type != WN_JT_NUMBER)
		bad = "missing id (\"%s\" is not a string or number)";
	else if (!id->len)
		bad = "missing id (\"%s\" is an empty string)";
	if (bad || id->len > WN_MAX_ID) {
		if (why && bad)
			snprintf(why, whylen, bad, id_field);
		else if (why)
			snprintf(why, whylen, "id of %zu bytes is longer than %d", id->len, WN_MAX_ID);
		return WN_E_NOID;
	}
	k->id = id->ptr;
	k->id_len = id->len;
	wn_id_hash(id->ptr, id->len, &k->hash, &k->check);
	memcpy(k->fp, jr->fp, 16);
	k->has_isrc = 0;
	if (kind == WN_KIND_TRACK) {
		const wn_jslot *is = wn_record_isrc(jr);
		if (is && is->len) {
			k->isrc_hash = wn_isrc_hash(is->ptr, is->len);
			k->has_isrc = 1;
		}
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
