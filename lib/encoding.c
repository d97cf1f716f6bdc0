/*
 * encoding.c - the text encodings of the input: their names, the Windows-1252 table,
 * and the checks of UTF-8 text.
 *
 * Records must be UTF-8 (RFC 3629). Input in Windows-1252 or ISO-8859-1 is transcoded
 * to UTF-8 before it is parsed: both are single-byte supersets of ASCII, so transcoding
 * byte by byte while a parser walks the text is the same as transcoding the whole text
 * first. Latin-1 maps byte b to U+00bb; Windows-1252 differs in 80..9f, where it has the
 * typographic characters (€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ). Its five
 * unassigned bytes (81 8d 8f 90 9d) are not guessed at: the record holding one is
 * rejected, and the message says that --encoding latin1 takes them as U+0081 etc.
 *
 * Two places transcode, both with wn_enc_byte(): CSV while it makes a row's JSON text
 * (source_csv.c), and for JSONL and JSON documents a source that wraps the one that
 * cuts the records (transcode.c). This file holds no state and calls nothing else in the
 * library, so that every source can use it.
 */
#include "encoding.h"

#include <stdio.h>
#include <strings.h>

/* Windows-1252 80..9f; 0 = unassigned (wn_enc_byte() in encoding.h reads it) */
const uint16_t wn_cp1252_hi[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

int wn_encoding_parse(const char *name)
{
	if (!name || !strcasecmp(name, "utf-8") || !strcasecmp(name, "utf8"))
		return WN_ENC_UTF8;
	if (!strcasecmp(name, "cp1252") || !strcasecmp(name, "windows-1252"))
		return WN_ENC_CP1252;
	if (!strcasecmp(name, "latin1") || !strcasecmp(name, "iso-8859-1") || !strcasecmp(name, "latin-1"))
		return WN_ENC_LATIN1;
	return -1;
}

/* Why the bytes at p are not UTF-8 (wn_utf8_seq() returned 0), in the words the JSON
 * parser has always used. */
void wn_utf8_why(const uint8_t *p, size_t n, char *out, size_t cap)
{
	uint8_t c = p[0];

	if (c >= 0x80 && c <= 0xbf)
		snprintf(out, cap, "unexpected utf-8 continuation byte 0x%02x", c);
	else if (c == 0xc0 || c == 0xc1)
		snprintf(out, cap, "overlong utf-8 sequence");
	else if (c >= 0xf5)
		snprintf(out, cap, "invalid utf-8 byte 0x%02x", c);
	else if (n < 2 || (p[1] & 0xc0) != 0x80)
		snprintf(out, cap, "truncated utf-8 sequence");
	else if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xf0 && p[1] < 0x90))
		snprintf(out, cap, "overlong utf-8 sequence");
	else if (c == 0xed && p[1] >= 0xa0)
		snprintf(out, cap, "utf-8 encoded surrogate u+%04x",
		         0xd000u | ((p[1] & 0x3fu) << 6) | (n >= 3 ? p[2] & 0x3fu : 0));
	else if (c == 0xf4 && p[1] >= 0x90)
		snprintf(out, cap, "utf-8 code point above u+10ffff");
	else
		snprintf(out, cap, "truncated utf-8 sequence");  /* a later byte */
}
