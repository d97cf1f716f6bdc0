/*
 * fuzz_transform.c - libFuzzer target for lib/transform.c (a profile's transforms).
 *
 * The first byte picks a profile (renames, drops, a projection, pseudonyms, paths
 * through arrays); the rest is the record. Whatever the input, the pass must not crash,
 * and when the strict parser accepts the record:
 * - the pass accepts it too, and its output is a record the strict parser accepts (but
 *   for a key made twice by a rename);
 * - a dropped member is not in the output, a pseudonymised string is 32 hex digits;
 * - the output is never longer than the input by more than the renames and pseudonyms add;
 * - json.c's one-pass edit (wn_json_record_edit, what ingest tries first), whenever it
 *   succeeds, gives the text, fingerprint and slots of the two passes (this pass, then the
 *   strict parser), which must then succeed too.
 *
 * Build: make fuzz; run: build-fuzz/fuzz_transform tests/fuzz/corpus/fuzz_transform
 */
#include "fuzz.h"
#include "internal.h"
#include "profile.h"
#include "transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_json *strict, *check, *one;
	static char obuf[1 << 20];
	static const uint8_t key[32] = { 7 };
	if (!size)
		return 0;
	if (!strict) {
		strict = wn_json_new();
		check = wn_json_new();
		one = wn_json_new();
		FUZZ_ASSERT(strict && check && one);
		FUZZ_ASSERT(!wn_json_set_slot(check, 0, "ip") && !wn_json_set_slot(check, 1, "user"));
		FUZZ_ASSERT(!wn_json_set_slot(one, 0, "ip") && !wn_json_set_slot(one, 1, "user"));
		FUZZ_ASSERT(!wn_json_set_slot(check, 2, "name") && !wn_json_set_slot(one, 2, "name"));
		FUZZ_ASSERT(!wn_json_set_slot(check, 3, "a") && !wn_json_set_slot(one, 3, "a"));
	}
	int variant = data[0] % 3;
	data++;
	size--;
	const char *ren[] = { "track_id=id", "a[].n=name" }, *drop[] = { "ip", "a[].secret" },
		*keep[] = { "id", "user", "a[].x" }, *ps[] = { "user", "a[].p" };
	wn_ingest_opts o;
	wn_ingest_opts_init(&o);
	o.rename = ren;
	o.n_rename = variant == 2 ? 0 : 2;
	o.drop = drop;
	o.n_drop = 2;
	o.keep = keep;
	o.n_keep = variant == 1 ? 3 : 0;
	o.pseudonymise = ps;
	o.n_pseudonymise = 2;
	o.key = key;
	o.key_len = sizeof key;
	wn_profile p;
	char why[200];
	wn_profile_default(&p, "track", NULL);
	FUZZ_ASSERT(!wn_profile_apply(&p, &o, why, sizeof why));
	wn_xform *x = wn_xform_new(&p, key, sizeof key);
	FUZZ_ASSERT(x);
	char *rec = fuzz_copy(data, size);
	const char *out, *bad;
	size_t olen, at;
	int rc = wn_xform_apply(x, rec, size, &out, &olen, &bad, &at);
	wn_jresult jr;
	int valid = wn_json_record(strict, rec, size, &jr) == 0;
	if (rc) {
		FUZZ_ASSERT(rc == WN_E_PARSE && bad && *bad && at <= size);
		FUZZ_ASSERT(!valid);
	} else {
		char *copy = fuzz_copy(out, olen);
		int orc = wn_json_record(check, copy, olen, &jr);
		if (valid)
			FUZZ_ASSERT(orc == 0 || orc == WN_E_DUPKEY);
		if (orc == 0) {
			FUZZ_ASSERT(jr.slot[0].type == WN_JT_NONE);
			if (jr.slot[1].type == WN_JT_STRING) {
				FUZZ_ASSERT(jr.slot[1].len == 32);
				for (size_t i = 0; i < 32; i++)
					FUZZ_ASSERT(wn_hexval(jr.slot[1].ptr[i]) >= 0);
			}
		}
		free(copy);
	}
	{
		wn_jresult j1, j2;
		size_t l1;
		if (!wn_json_record_edit(one, rec, size, wn_xform_edit(x), &j1, obuf, sizeof obuf, &l1)) {
			const char *o2, *bad2;
			size_t l2, at2;
			FUZZ_ASSERT(!wn_xform_apply(x, rec, size, &o2, &l2, &bad2, &at2));
			FUZZ_ASSERT(l1 == l2 && !memcmp(obuf, o2, l1));
			char *copy = fuzz_copy(o2, l2);
			FUZZ_ASSERT(!wn_json_record(check, copy, l2, &j2));
			FUZZ_ASSERT(!memcmp(j1.fp, j2.fp, 16));
			for (int k = 0; k < 4; k++)
				FUZZ_ASSERT(j1.slot[k].type == j2.slot[k].type && j1.slot[k].len == j2.slot[k].len &&
				            (!j1.slot[k].len || !memcmp(j1.slot[k].ptr, j2.slot[k].ptr, j1.slot[k].len)));
			free(copy);
		}
	}
	free(rec);
	wn_xform_free(x);
	return 0;
}
