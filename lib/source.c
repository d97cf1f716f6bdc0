/*
 * source.c - what every source shares: the error text a source leaves in its err, the
 * remarks it makes on its input (wn_source_note), closing a source whatever its kind,
 * and a text source's identity for resuming.
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

void wn_source_note(const wn_ingest_opts *o, const char *name, const char *fmt, ...)
{
	char msg[512];
	if (!o->on_note)
		return;
	int n = snprintf(msg, sizeof msg, "%s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	o->on_note(msg, o->note_ud);
}

void wn_source_close(wn_source *s)
{
	if (s)
		s->close(s);
}

void wn_source_identity(wn_source *s, const wn_input *in)
{
	s->name = in->name;
	s->regular = in->regular;
	s->size = in->regular ? in->size : 0;
	s->dev = in->regular ? in->dev : 0;
	s->ino = in->regular ? in->ino : 0;
	s->head_hash = in->head_hash;
}
