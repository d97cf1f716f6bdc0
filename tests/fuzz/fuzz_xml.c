/*
 * fuzz_xml.c - libFuzzer target for lib/source_xml.c (the elements of an XML document,
 * parsed by libxml2's SAX2 push parser, made into JSON records).
 *
 * The first byte picks the encoding (UTF-8 or cp1252); the rest is the document.
 * Whatever the document, the source must not crash, reach no file or network (no
 * external entity is loaded: a document naming one must not make the process open it),
 * and every record it hands out is a JSON object the strict parser accepts, on one line.
 */
#include "fuzz.h"

static void check(const wn_srec *r, const wn_jresult *jr, void *ud)
{
	(void)ud;
	/* the XML source makes its records itself: they must always be valid JSON */
	FUZZ_ASSERT(jr);
	FUZZ_ASSERT(r->len >= 2 && r->rec[0] == '{');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_json *js;
	char path[64];
	if (!size)
		return 0;
	if (!js)
		FUZZ_ASSERT((js = wn_json_new()));
	uint8_t flags = data[0];
	int fd = fuzz_file(data + 1, size - 1, path);
	wn_ingest_opts o;
	wn_ingest_opts_init(&o);
	o.format = "xml";
	o.encoding = flags & 1 ? "cp1252" : NULL;
	o.max_line = 4096;
	wn_source *s;
	if (!wn_source_open(&s, path, &o))
		fuzz_drain(s, js, check, NULL);
	else if (s)
		FUZZ_ASSERT(*s->err);
	wn_source_close(s);
	close(fd);
	return 0;
}
