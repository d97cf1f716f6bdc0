/*
 * fuzz_manifest_json.c - libFuzzer target for MANIFEST.json and catalog.json as
 * lib/manifest.c reads them (wn_mjson_read, on text the strict parser accepted, as
 * verify does).
 *
 * The first byte picks MANIFEST.json (files[] read) or catalog.json. Whatever the
 * document, the read must not crash; every file it reports has a NUL-terminated path
 * of the length given, and the fields it says it has are in range; a layout problem
 * is reported with a position inside the text.
 */
#include "fuzz.h"
#include "internal.h"
#include "manifest.h"

static int on_file(void *ud, size_t idx, const char *path, size_t plen, int have_path, const wn_mfile *m)
{
	(void)idx;
	size_t *files = ud;
	++*files;
	if (have_path)
		FUZZ_ASSERT(path && strlen(path) == plen && plen < 4096);
	FUZZ_ASSERT(m->role >= -1 && m->kind >= -1 && m->kind < WN_KINDS_MAX);
	return 0;
}

static void on_version(void *ud, const char *key)
{
	(void)ud;
	FUZZ_ASSERT(!strcmp(key, "format_version") || !strcmp(key, "fingerprint_version"));
}

static void on_field(void *ud, unsigned line, const char *field, const char *why)
{
	(void)ud;
	FUZZ_ASSERT(line >= 1 && field && *field && why && *why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_json *js;
	if (!size)
		return 0;
	if (!js)
		FUZZ_ASSERT((js = wn_json_new()));
	size_t n = size - 1;
	char *text = fuzz_copy(data + 1, n);   /* alone in its block: reading past it is seen */
	wn_jresult jr;
	if (!wn_json_record(js, text, n, &jr)) {
		size_t files = 0;
		wn_mjson_cb cb = { .file = data[0] & 1 ? NULL : on_file, .version = on_version, .field = on_field,
		                   .catalog = data[0] & 1, .ud = &files };
		wn_mjson m;
		int rc = wn_mjson_read(text, n, &cb, &m);
		FUZZ_ASSERT(rc >= 0);
		if (m.bad)
			FUZZ_ASSERT(m.bad_at <= n);
		FUZZ_ASSERT(m.interrupted >= -1 && m.interrupted <= 1);
	}
	free(text);
	return 0;
}
