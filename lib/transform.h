/*
 * transform.h - a record profile's transforms applied to records (transform.c).
 */
#ifndef WN_TRANSFORM_H
#define WN_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

struct wn_profile;
typedef struct wn_xform wn_xform;

/* A transformer for profile p (which must outlive it), with the pseudonymisation key
 * when p pseudonymises. NULL when out of memory or the key cannot be set. One per thread. */
wn_xform *wn_xform_new(const struct wn_profile *p, const uint8_t *key, size_t keylen);
void wn_xform_free(wn_xform *x);
/* Inject "contributor":<the pseudonym of name> as the first member of every record the
 * transformer puts out (before the keys and fingerprint are taken). 0, or WN_E_USAGE
 * when the profile has no key (pseudonymises nothing). */
int wn_xform_set_contributor(wn_xform *x, const char *name);   /* NULL is accepted */
/* The pseudonym wn_xform_set_contributor set, as 32 hex digits and a NUL, into out; 0, or
 * -1 if none is set. */
int wn_xform_contributor(const wn_xform *x, char out[33]);

/* The record rec[0..n) transformed: 0 and *out, *outlen (valid until the next call);
 * or WN_E_PARSE with *why (static text) and *err_off (a byte offset in rec) when the
 * record is not JSON this pass can follow, or WN_E_NOMEM. */
int wn_xform_apply(wn_xform *x, const char *rec, size_t n, const char **out, size_t *outlen, const char **why,
	size_t *err_off);

/* The same transforms for json.c's one-pass parse and edit (wn_json_record_edit), which
 * the caller tries first; a record it refuses is then given to wn_xform_apply() and the
 * strict parser, in two passes, which decide. Valid while x lives. */
struct wn_jedit;
const struct wn_jedit *wn_xform_edit(wn_xform *x);

/* The keyed hash of v[0..n) as 32 hex digits and a NUL: the pseudonym function, without
 * the quotes (a private pool's reject entries carry it instead of the line's bytes). Reads
 * only the key's state, so any thread may call it. x must have a key. */
void wn_xform_keyed_hex(const wn_xform *x, const void *v, size_t n, char out[33]);

#endif
