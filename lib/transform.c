/*
 * transform.c - a profile's transforms applied to one record: --rename, --drop, --keep,
 * --pseudonymise, in that order (doc/FORMAT.md, "Record profiles"; transform.h).
 *
 * One pass over the record's text with the token reader of jread.c: a member that no
 * path reaches is copied as its bytes stand; one that a path reaches is rebuilt. The
 * result is one JSON object, which the strict parser then reads as any record (so
 * nothing here needs to be the judge of strict JSON: a record this pass accepts and the
 * parser refuses is still rejected, with its reason).
 *
 * Paths: rename's OLD paths are the record's own names; the other lists name members
 * after the renames. "a[].b" reaches member b of every element of array a.
 *
 * Pseudonyms: the lower-case hex of the first 16 bytes of HMAC-SHA256(key, value),
 * where value is a string's unescaped UTF-8 bytes or a number's or literal's text; null
 * stays null; in an array or object every value is replaced so (keys are kept).
 */
#include "internal.h"
#include "profile.h"
#include "transform.h"
#include "jread.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdlib.h>

#define PSEUDO_BYTES 16
#define PATH_BUF 1024

struct wn_xform {
	const wn_profile *p;
	EVP_MAC *mac;
	EVP_MAC_CTX *keyed;        /* the key set; duplicated for every value */
	wn_buf out;
	wn_buf str;                /* an unescaped string */
	size_t nparse;             /* bytes of the record the error is at */
	const char *why;
};

/* the walk's position: the path so far in the record's own names and after renames */
typedef struct walk {
	wn_xform *x;
	wn_jread j;
	const char *base;
	char orig[PATH_BUF], cur[PATH_BUF];
	size_t olen, clen;
} walk;

wn_xform *wn_xform_new(const wn_profile *p, const uint8_t *key, size_t keylen)
{
	wn_xform *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	x->p = p;
	if (p->n_pseudo) {
		OSSL_PARAM params[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			OSSL_PARAM_construct_end() };
		if (!key || !(x->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) || !(x->keyed = EVP_MAC_CTX_new(x->mac)) ||
		    !EVP_MAC_init(x->keyed, key, keylen, params)) {
			wn_xform_free(x);
			return NULL;
		}
	}
	return x;
}

void wn_xform_free(wn_xform *x)
{
	if (!x)
		return;
	EVP_MAC_CTX_free(x->keyed);
	EVP_MAC_free(x->mac);
	wn_buf_free(&x->out);
	wn_buf_free(&x->str);
	free(x);
}

/* ---- paths ---- */

/* Is `path` (n bytes) in the list? */
static int in_list(const wn_path *v, int n, const char *path, size_t len)
{
	for (int i = 0; i < n; i++)
		if (!strncmp(v[i], path, len) && !v[i][len])
			return 1;
	return 0;
}

/* Does a path of the list go below `path` (start with it, then "." or "[]")? */
static int below(const wn_path *v, int n, const char *path, size_t len)
{
	for (int i = 0; i < n; i++)
		if (!strncmp(v[i], path, len) && (v[i][len] == '.' || v[i][len] == '['))
			return 1;
	return 0;
}

/* Does the walk's current place (after renames) matter to any list but rename? */
static int cur_live(const wn_profile *p, const walk *w)
{
	return below(p->drop, p->n_drop, w->cur, w->clen) || below(p->keep, p->n_keep, w->cur, w->clen) ||
		below(p->pseudo, p->n_pseudo, w->cur, w->clen);
}

static int push(char *buf, size_t *len, const char *name, size_t n, int array)
{
	size_t need = *len + 1 + n + 2;
	if (need >= PATH_BUF)
		return -1;
	if (array) {
		memcpy(buf + *len, "[]", 2);
		*len += 2;
	} else {
		if (*len)
			buf[(*len)++] = '.';
		memcpy(buf + *len, name, n);
		*len += n;
	}
	buf[*len] = 0;
	return 0;
}

/* ---- the walk ---- */

static int bad(walk *w, const char *why)
{
	w->x->why = why;
	w->x->nparse = (size_t)(w->j.p - w->base);
	return WN_E_PARSE;
}

static int put(walk *w, const char *p, size_t n)
{
	return wn_buf_put(&w->x->out, p, n) ? WN_E_NOMEM : 0;
}

/* Copy one value as it stands. */
static int copy_value(walk *w, int depth)
{
	wn_jread_ws(&w->j);
	const char *s = w->j.p;
	if (wn_jread_skip(&w->j, depth))
		return bad(w, "malformed value");
	return put(w, s, (size_t)(w->j.p - s));
}

/* Replace one value (and everything in it) by its pseudonym. */
static int pseudo_value(walk *w, int depth)
{
	wn_xform *x = w->x;
	int ch = wn_jread_peek(&w->j);
	if (depth > WN_JSON_MAX_DEPTH)
		return bad(w, "nested too deep");
	if (ch == '{' || ch == '[') {
		char close = ch == '{' ? '}' : ']';
		w->j.p++;
		int rc = put(w, ch == '{' ? "{" : "[", 1);
		for (int first = 1; !rc && !wn_jread_eat(&w->j, close); first = 0) {
			if (!first && !wn_jread_eat(&w->j, ','))
				return bad(w, ch == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
			if (!first)
				rc = put(w, ",", 1);
			if (!rc && ch == '{') {
				wn_jread_ws(&w->j);
				const char *ks = w->j.p;
				if (wn_jread_str(&w->j, NULL, 0, NULL) || !wn_jread_eat(&w->j, ':'))
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
		wn_jread_ws(&w->j);
		const char *s = w->j.p;
		if (wn_jread_skip(&w->j, depth))
			return bad(w, "malformed value");
		v = (const uint8_t *)s;
		n = (size_t)(w->j.p - s);
	}
	uint8_t mac[32];
	size_t ml = 0;
	EVP_MAC_CTX *m = EVP_MAC_CTX_dup(x->keyed);
	int ok = m && EVP_MAC_update(m, v, n) && EVP_MAC_final(m, mac, &ml, sizeof mac);
	EVP_MAC_CTX_free(m);
	if (!ok)
		return WN_E_NOMEM;
	char hex[2 * PSEUDO_BYTES + 3];
	hex[0] = '"';
	wn_hex(hex + 1, mac, PSEUDO_BYTES);
	hex[2 * PSEUDO_BYTES + 1] = '"';
	return put(w, hex, 2 * PSEUDO_BYTES + 2);
}

static int rebuild(walk *w, int depth);

/* The value at the walk's place: pseudonymised, copied, or rebuilt (something below
 * it is reached by a path). */
static int member_value(walk *w, int depth)
{
	const wn_profile *p = w->x->p;
	if (in_list(p->pseudo, p->n_pseudo, w->cur, w->clen))
		return pseudo_value(w, depth);
	int ch = wn_jread_peek(&w->j);
	if ((ch == '{' || ch == '[') &&
	    (cur_live(p, w) || below(p->rename_from, p->n_rename, w->orig, w->olen)))
		return rebuild(w, depth);
	return copy_value(w, depth);
}

/* An object or array some path reaches into, rebuilt member by member. */
static int rebuild(walk *w, int depth)
{
	const wn_profile *p = w->x->p;
	wn_xform *x = w->x;
	if (depth > WN_JSON_MAX_DEPTH)
		return bad(w, "nested too deep");
	int ch = wn_jread_peek(&w->j);
	size_t olen = w->olen, clen = w->clen;
	int rc;
	if (ch == '[') {
		w->j.p++;
		if ((rc = put(w, "[", 1)))
			return rc;
		if (push(w->orig, &w->olen, NULL, 0, 1) || push(w->cur, &w->clen, NULL, 0, 1))
			return bad(w, "path too long");
		for (int first = 1; !wn_jread_eat(&w->j, ']'); first = 0) {
			if (!first && (!wn_jread_eat(&w->j, ',') || (rc = put(w, ",", 1))))
				return rc ? rc : bad(w, "expected ',' or ']'");
			if ((rc = member_value(w, depth + 1)))
				return rc;
		}
		w->olen = olen, w->orig[olen] = 0, w->clen = clen, w->cur[clen] = 0;
		return put(w, "]", 1);
	}
	if (!wn_jread_eat(&w->j, '{'))
		return bad(w, depth ? "malformed value" : "not an object");
	if ((rc = put(w, "{", 1)))
		return rc;
	int n_out = 0;
	for (int first = 1; !wn_jread_eat(&w->j, '}'); first = 0) {
		if (!first && !wn_jread_eat(&w->j, ','))
			return bad(w, "expected ',' or '}'");
		wn_jread_ws(&w->j);
		const char *ks = w->j.p;
		x->str.len = 0;
		if ((rc = wn_jread_str_buf(&w->j, &x->str)))
			return rc == WN_E_NOMEM ? rc : bad(w, "malformed key");
		const char *ke = w->j.p;
		if (!wn_jread_eat(&w->j, ':'))
			return bad(w, "expected ':' after key");
		/* the member's place, in the record's names and after renames */
		if (push(w->orig, &w->olen, x->str.p, x->str.len, 0))
			return bad(w, "path too long");
		const char *newkey = NULL;
		for (int i = 0; i < p->n_rename && !newkey; i++)
			if (!strcmp(p->rename_from[i], w->orig))
				newkey = p->rename_to[i];
		if (push(w->cur, &w->clen, newkey ? newkey : x->str.p, newkey ? strlen(newkey) : x->str.len, 0))
			return bad(w, "path too long");
		int skip = in_list(p->drop, p->n_drop, w->cur, w->clen);
		int kept = 1;
		if (!skip && p->n_keep) {
			kept = 0;
			for (int i = 0; i < p->n_keep && !kept; i++) {
				size_t kl = strlen(p->keep[i]);
				/* the member is a kept path, below one, or above one */
				kept = (kl <= w->clen && !memcmp(p->keep[i], w->cur, kl) &&
					(w->cur[kl] == 0 || w->cur[kl] == '.' || w->cur[kl] == '[')) ||
				       (kl > w->clen && !memcmp(p->keep[i], w->cur, w->clen) &&
					(p->keep[i][w->clen] == '.' || p->keep[i][w->clen] == '['));
			}
			skip = !kept;
		}
		if (skip) {
			if (wn_jread_skip(&w->j, depth + 1))
				return bad(w, "malformed value");
		} else {
			if (n_out++ && (rc = put(w, ",", 1)))
				return rc;
			if (newkey) {
				rc = wn_buf_json_str(&x->out, newkey, strlen(newkey)) ? WN_E_NOMEM : put(w, ":", 1);
			} else {
				rc = put(w, ks, (size_t)(ke - ks));
				rc = rc ? rc : put(w, ":", 1);
			}
			if (rc || (rc = member_value(w, depth + 1)))
				return rc;
		}
		w->olen = olen, w->orig[olen] = 0, w->clen = clen, w->cur[clen] = 0;
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
	w.olen = w.clen = 0;
	w.orig[0] = w.cur[0] = 0;
	x->out.len = 0;
	x->why = NULL;
	int rc = rebuild(&w, 0);
	if (!rc && wn_jread_peek(&w.j) != -1)
		rc = bad(&w, "trailing data after the record");
	if (rc) {
		*why = x->why ? x->why : wn_strerror(rc);
		*err_off = x->nparse;
		return rc;
	}
	*out = x->out.p;
	*outlen = x->out.len;
	return 0;
}
