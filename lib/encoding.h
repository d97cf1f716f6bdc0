/*
 * encoding.h - the text encodings winnow reads, and UTF-8 checks (internal; see encoding.c).
 */
#ifndef WN_ENCODING_H
#define WN_ENCODING_H

#include <stddef.h>
#include <stdint.h>

enum { WN_ENC_UTF8, WN_ENC_CP1252, WN_ENC_LATIN1 };
/* "utf-8"/"utf8" (also NULL), "cp1252"/"windows-1252", "latin1"/"iso-8859-1": WN_ENC_*, or -1 */
int wn_encoding_parse(const char *name);

/* Windows-1252 80..9f as code points; 0 = unassigned */
extern const uint16_t wn_cp1252_hi[32];

/* The UTF-8 form of byte c >= 0x80 of encoding enc, written at o (2 or 3 bytes): its
 * length, or 0 when the byte has no character in enc (cp1252 81 8d 8f 90 9d). Inline:
 * CSV and the transcoding source call it for every byte above ASCII. */
static inline size_t wn_enc_byte(int enc, uint8_t c, char *o)
{
	unsigned cp = c;
	if (enc == WN_ENC_CP1252 && c < 0xa0 && !(cp = wn_cp1252_hi[c - 0x80]))
		return 0;
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	o[0] = (char)(0xe0 | cp >> 12);
	o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF) at p (p[0] >= 0x80, n bytes readable), or 0; then wn_utf8_why()
 * says why ("invalid utf-8 byte 0xe9"). The one UTF-8 check: the JSON parser calls it for
 * every sequence in a string, CSV and XML for their fields, hence inline. */
static inline size_t wn_utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;          /* below: overlong */
		else if (c == 0xed)
			hi = 0x9f;          /* above: a surrogate */
		return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;          /* below: overlong */
		else if (c == 0xf4)
			hi = 0x8f;          /* above: past U+10FFFF */
		return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
		       (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}
void wn_utf8_why(const uint8_t *p, size_t n, char *out, size_t cap);

#endif
