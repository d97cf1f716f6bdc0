/*
 * source.c - what every source shares: the error text a source leaves in its err,
 * closing a source whatever its kind, and a text source's identity for resuming.
 *
 * The sources (source_jsonl.c, _csv.c, _json.c, _sqlite.c), the transcoding source
 * (transcode.c) and the chooser (source_open.c) are all above this file, and it calls
 * none of them: a source is closed through the close() it set when it was made.
 */
#include "source.h"
#include "input.h"

#include <stdarg.h>

int wn_source_fail(wn_source *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	return code;
}

void wn_source_close(wn_source *s)
{
	if (s)
		s->close(s);
}

void wn_source_identity(wn_source *s, const wn_input *in)
{
	s->name = in->name;
	s->size = in->regular ? in->size : 0;
	s->head_hash = in->head_hash;
}
