/*
 * profile.c - a kind's record profile: the built-in ones, the options that set it, its
 * check against a later run, and its JSON form (profile.h; doc/FORMAT.md, "Record
 * profiles").
 */
#include "internal.h"
#include "profile.h"
#include "jread.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- built-in profiles ---- */

#define WN_LISTEN_ID "contributor|username+ts|endTime+" \
	"spotify_track_uri|spotify_episode_uri|audiobook_chapter_uri|audiobook_uri|trackName+artistName?"

typedef struct builtin {
	const char *name, *kind, *format;   /* format: the first input's, NULL any */
	const char *id, *isrc[WN_ISRC_PATHS], *title, *artists, *duration, *upc;
	const char *drop[4], *pseudo[2];    /* privacy defaults (a pseudonym needs --key-file) */
	const char *exclude;                /* records with true here are not kept */
	const char *time, *tally[WN_TALLY_MAX];   /* contributions: the time part, the released fields */
	const char *ignore[2];              /* left out of the fingerprint */
	const char *family[2];              /* device names generalised to their family */
} builtin;

/* The layouts winnow knows: the Spotify Web API's objects and the 2025 dump's rows
 * (both forms name their fields alike), MusicBrainz's JSON dumps, Discogs's XML dumps
 * as source_xml.c maps them. A kind's entry for the first input's format wins, else its
 * first entry without one. */
static const builtin builtins[] = {
	{ "spotify-track", "track", NULL, "id", { "external_ids.isrc", "external_id_isrc" }, "name", "artists", "duration_ms", NULL, { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "spotify-artist", "artist", NULL, "id", { NULL }, "name", NULL, NULL, NULL, { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "spotify-album", "album", NULL, "id", { NULL }, "name", "artists", NULL, "external_ids.upc", { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "discogs-release", "release", "xml", "id", { NULL }, "title", "artists", NULL, NULL, { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "discogs-master", "master", "xml", "id", { NULL }, "title", "artists", NULL, NULL, { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "discogs-artist", "artist", "xml", "id", { NULL }, "name", NULL, NULL, NULL, { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "discogs-label", "label", "xml", "id", { NULL }, "name", NULL, NULL, NULL, { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "musicbrainz-recording", "recording", NULL, "id", { "isrcs" }, "title", "artist-credit", "length", NULL, { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "musicbrainz-artist", "artist", "json", "id", { NULL }, "name", NULL, NULL, NULL, { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	{ "musicbrainz-release", "release", NULL, "id", { NULL }, "title", "artist-credit", NULL, "barcode", { NULL }, { NULL }, NULL, NULL, { NULL }, { NULL }, { NULL } },
	/* Spotify's streaming histories: the extended one (endsong_N.json, generation 1, and
	 * Streaming_History_Audio_*.json, generation 2) and the basic account export
	 * (StreamingHistory*.json: endTime, trackName, artistName). A play is its contributor's
	 * (--contributor, else the account's username), its time and its item: the URI of the
	 * track, episode or audiobook chapter, or for the basic export its track and artist
	 * names. Network addresses and user agents are never stored, the account name only as
	 * its pseudonym (so the kind needs a key). The contributor member is left out of the
	 * fingerprint: the id holds it, and a play read with --contributor is the same as
	 * the one read without, whose username stood for it. doc/FORMAT.md 15. */
	{ "spotify-listen", "listen", NULL, WN_LISTEN_ID, { NULL }, "master_metadata_track_name",
		"master_metadata_album_artist_name", "ms_played", NULL,
		{ "ip_addr", "ip_addr_decrypted", "user_agent_decrypted" }, { "username" }, "incognito_mode",
		"ts|endTime", { "conn_country", "platform" }, { "contributor" }, { "platform" } },
};
#define NBUILTIN (sizeof builtins / sizeof builtins[0])

int wn_profile_contributor_part(const wn_profile *p)
{
	char alt[WN_PATH_MAX];
	for (int i = 0; i < p->n_id && !p->id_content; i++) {
		wn_id_alt(p->id[i], 0, alt);
		if (!strcmp(alt, "contributor"))
			return i;
	}
	return -1;
}

static int split_id(const char *spec, wn_path parts[WN_ID_PARTS]);
static void derive_alts(wn_profile *p);

static void put_path(wn_path dst, const char *s)
{
	snprintf(dst, WN_PATH_MAX, "%s", s ? s : "");
}

static void set_from(wn_profile *p, const builtin *b)
{
	memset(p, 0, sizeof *p);
	snprintf(p->builtin, sizeof p->builtin, "%s", b->name);
	p->n_id = split_id(b->id, p->id);
	derive_alts(p);
	for (int i = 0; i < 4 && b->drop[i]; i++)
		put_path(p->drop[p->n_drop++], b->drop[i]);
	for (int i = 0; i < 2 && b->pseudo[i]; i++)
		put_path(p->pseudo[p->n_pseudo++], b->pseudo[i]);
	for (int i = 0; i < WN_ISRC_PATHS && b->isrc[i]; i++)
		put_path(p->isrc[p->n_isrc++], b->isrc[i]);
	put_path(p->title, b->title);
	put_path(p->artists, b->artists);
	put_path(p->duration, b->duration);
	put_path(p->upc, b->upc);
	put_path(p->exclude, b->exclude);
	put_path(p->time, b->time);
	for (int i = 0; i < 2 && b->ignore[i]; i++)
		put_path(p->ignore[p->n_ignore++], b->ignore[i]);
	for (int i = 0; i < 2 && b->family[i]; i++)
		put_path(p->family[p->n_family++], b->family[i]);
	for (int i = 0; i < WN_TALLY_MAX && b->tally[i]; i++)
		put_path(p->tally[p->n_tally++], b->tally[i]);
}

const char *wn_profile_builtin(const char *kind, const char *format)
{
	/* one made for the input's format first (Discogs's artists are XML), then the kind's own */
	for (size_t i = 0; i < NBUILTIN && format; i++)
		if (!strcmp(builtins[i].kind, kind) && builtins[i].format && !strcmp(builtins[i].format, format))
			return builtins[i].name;
	for (size_t i = 0; i < NBUILTIN; i++)
		if (!strcmp(builtins[i].kind, kind) && !builtins[i].format)
			return builtins[i].name;
	return NULL;
}

int wn_profile_set_builtin(wn_profile *p, const char *name)
{
	for (size_t i = 0; i < NBUILTIN; i++)
		if (!strcmp(builtins[i].name, name)) {
			set_from(p, &builtins[i]);
			return 0;
		}
	return WN_E_USAGE;
}

void wn_profile_default(wn_profile *p, const char *kind, const char *format)
{
	const char *b = wn_profile_builtin(kind, format);
	if (b) {
		wn_profile_set_builtin(p, b);
		return;
	}
	memset(p, 0, sizeof *p);
	p->n_id = 1;
	put_path(p->id[0], "id");
}

const char *wn_profile_names(void)
{
	static char names[512];
	if (!*names) {
		size_t o = 0;
		for (size_t i = 0; i < NBUILTIN && o < sizeof names; i++)
			o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "", builtins[i].name);
	}
	return names;
}

/* ---- paths ---- */

/* A field path: dotted names, each possibly followed by "[]" (every element of an
 * array), no empty name; `plain`: no "[]" (the paths the parser extracts). */
static int path_ok(const char *s, int plain)
{
	if (!s || !*s || strlen(s) >= WN_PATH_MAX)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.' && (p == s || p[1] == '.' || !p[1] || p[-1] == '.'))
			return 0;
		if (*p == '[') {
			if (plain || p == s || p[-1] == '.' || p[1] != ']' || (p[2] && p[2] != '.'))
				return 0;
			p++;
		} else if (*p == ']') {
			return 0;
		}
	}
	return 1;
}

static void derive_alts(wn_profile *p)
{
	for (int i = 0; i < WN_ID_PARTS; i++)
		p->id_alts[i] = (uint8_t)(i < p->n_id && !p->id_content ? wn_id_alts(p->id[i]) : 0);
}

int wn_id_alts(const char *part)
{
	int n = 1;
	for (const char *p = part; (p = strchr(p, '|')); p++)
		n++;
	return n;
}

void wn_id_alt(const char *part, int k, char out[WN_PATH_MAX])
{
	const char *p = part;
	for (; k > 0 && p; k--)
		if ((p = strchr(p, '|')))
			p++;
	size_t len = 0;
	if (p) {
		const char *e = strchr(p, '|');
		len = e ? (size_t)(e - p) : strlen(p);
		if (!e && len && p[len - 1] == '?')
			len--;
		if (len >= WN_PATH_MAX)
			len = WN_PATH_MAX - 1;
		memcpy(out, p, len);
	}
	out[len] = 0;
}

/* Is part an id part: a plain path, or alternatives a|b|c, each a plain path, with an
 * optional '?' at the end? `*slots` counts the paths. */
static int part_ok(const char *part, int *slots)
{
	int n = wn_id_alts(part);
	char alt[WN_PATH_MAX];
	for (int k = 0; k < n; k++) {
		wn_id_alt(part, k, alt);
		if (!path_ok(alt, 1))
			return 0;
	}
	*slots += n;
	return 1;
}

/* Split "A+B|C+D?" into parts: the count, or -1 (a bad path; more than WN_ID_PARTS
 * parts or WN_ID_SLOTS paths in all). */
static int split_id(const char *spec, wn_path parts[WN_ID_PARTS])
{
	int n = 0, slots = 0;
	const char *p = spec;
	for (;;) {
		const char *e = strchr(p, '+');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (n == WN_ID_PARTS || !len || len >= WN_PATH_MAX)
			return -1;
		memcpy(parts[n], p, len);
		parts[n][len] = 0;
		if (!part_ok(parts[n], &slots) || slots > WN_ID_SLOTS)
			return -1;
		n++;
		if (!e)
			return n;
		p = e + 1;
	}
}

static int set_list(wn_path *dst, int *n, const char *const *src, size_t k, int plain, const char *opt, char *why, size_t wl)
{
	if (k > WN_NPATHS)
		return snprintf(why, wl, "at most %d %s paths", WN_NPATHS, opt), WN_E_USAGE;
	for (size_t i = 0; i < k; i++) {
		if (!path_ok(src[i], plain))
			return snprintf(why, wl, "bad %s path \"%s\" (dotted names, e.g. album.name%s)", opt, src[i],
				plain ? "" : ", or artists[].name"), WN_E_USAGE;
		put_path(dst[i], src[i]);
	}
	*n = (int)k;
	return 0;
}

int wn_profile_apply(wn_profile *p, const wn_ingest_opts *o, char *why, size_t wl)
{
	int rc;
	if (o->profile && wn_profile_set_builtin(p, o->profile))
		return snprintf(why, wl, "unknown profile \"%s\" (built in: %s)", o->profile, wn_profile_names()), WN_E_USAGE;
	if (o->id_field) {
		if (!strcmp(o->id_field, "content")) {
			p->id_content = 1;
			p->n_id = 0;
		} else {
			wn_path parts[WN_ID_PARTS];
			int n = split_id(o->id_field, parts);
			if (n < 0)
				return snprintf(why, wl, "bad --id \"%s\" (a path, PATH+PATH+... of at most %d, each maybe "
					"PATH|PATH... of %d paths in all, or content)", o->id_field, WN_ID_PARTS, WN_ID_SLOTS), WN_E_USAGE;
			p->id_content = 0;
			p->n_id = n;
			memcpy(p->id, parts, sizeof parts[0] * (size_t)n);
			derive_alts(p);
		}
	}
	if (o->isrc_field) {
		if (!path_ok(o->isrc_field, 1))
			return snprintf(why, wl, "bad --isrc path \"%s\"", o->isrc_field), WN_E_USAGE;
		p->n_isrc = 1;
		put_path(p->isrc[0], o->isrc_field);
	}
	const struct { const char *v; char *dst; const char *opt; } desc[] = {
		{ o->title_field, p->title, "--map title=" }, { o->artist_field, p->artists, "--map artist=" },
		{ o->duration_field, p->duration, "--map duration=" } };
	for (size_t i = 0; i < sizeof desc / sizeof desc[0]; i++) {
		if (!desc[i].v)
			continue;
		if (!path_ok(desc[i].v, 0))
			return snprintf(why, wl, "bad %s path \"%s\"", desc[i].opt, desc[i].v), WN_E_USAGE;
		put_path(desc[i].dst, desc[i].v);
	}
	if (o->n_ignore && (rc = set_list(p->ignore, &p->n_ignore, o->ignore, o->n_ignore, 1, "--ignore-field", why, wl)))
		return rc;
	if (o->n_rename) {
		if (o->n_rename > WN_NPATHS)
			return snprintf(why, wl, "at most %d --rename", WN_NPATHS), WN_E_USAGE;
		for (size_t i = 0; i < o->n_rename; i++) {
			const char *r = o->rename[i], *eq = strchr(r, '=');
			size_t fl = eq ? (size_t)(eq - r) : 0;
			if (!eq || !fl || fl >= WN_PATH_MAX || !eq[1] || strchr(eq + 1, '.') || strchr(eq + 1, '[') ||
			    strlen(eq + 1) >= WN_PATH_MAX)
				return snprintf(why, wl, "bad --rename \"%s\" (OLD=NEW: a path and the new name of its last "
					"member, e.g. track_id=id)", r), WN_E_USAGE;
			memcpy(p->rename_from[i], r, fl);
			p->rename_from[i][fl] = 0;
			if (!path_ok(p->rename_from[i], 0))
				return snprintf(why, wl, "bad --rename path \"%s\"", p->rename_from[i]), WN_E_USAGE;
			put_path(p->rename_to[i], eq + 1);
		}
		p->n_rename = (int)o->n_rename;
	}
	if (o->n_drop && (rc = set_list(p->drop, &p->n_drop, o->drop, o->n_drop, 0, "--drop", why, wl)))
		return rc;
	if (o->n_keep && (rc = set_list(p->keep, &p->n_keep, o->keep, o->n_keep, 0, "--keep", why, wl)))
		return rc;
	if (o->n_pseudonymise &&
	    (rc = set_list(p->pseudo, &p->n_pseudo, o->pseudonymise, o->n_pseudonymise, 0, "--pseudonymise", why, wl)))
		return rc;
	if (o->key)
		wn_key_id(o->key, o->key_len, p->key_id);
	if (p->n_pseudo && !*p->key_id)
		return snprintf(why, wl, "%s needs the key: --key-file FILE", o->n_pseudonymise ? "--pseudonymise" :
			"the profile pseudonymises its records' personal fields and"), WN_E_USAGE;
	if (o->csv_types) {
		if (strlen(o->csv_types) >= sizeof p->types)
			return snprintf(why, wl, "--types is too long"), WN_E_USAGE;
		snprintf(p->types, sizeof p->types, "%s", o->csv_types);
	}
	if (o->encoding) {
		if (strlen(o->encoding) >= sizeof p->encoding)
			return snprintf(why, wl, "unknown encoding \"%s\" (utf-8, cp1252 or latin1)", o->encoding), WN_E_USAGE;
		snprintf(p->encoding, sizeof p->encoding, "%s", o->encoding);
	}
	if (o->csv_delimiter)
		snprintf(p->delimiter, sizeof p->delimiter, "%s", o->csv_delimiter);
	p->empty_null |= o->csv_empty_null != 0;
	p->csv_unwrap |= o->csv_unwrap != 0;
	p->sqlite_join |= o->sqlite_join != 0;
	return 0;
}

/* ---- a later run against the fixed profile ---- */

static int same_set(const wn_path *a, int na, const wn_path *b, int nb)
{
	if (na != nb)
		return 0;
	for (int i = 0; i < na; i++) {
		int found = 0;
		for (int j = 0; j < nb && !found; j++)
			found = !strcmp(a[i], b[j]);
		if (!found)
			return 0;
	}
	return 1;
}

static void list_text(char *out, size_t cap, const char *opt, const wn_path *v, int n)
{
	size_t o = 0;
	*out = 0;
	for (int i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s %s", i ? " " : "", opt, v[i]);
	if (!n)
		snprintf(out, cap, "no %s", opt);
}

void wn_profile_id_spec(const wn_profile *p, char *out, size_t cap)
{
	size_t o = 0;
	*out = 0;
	if (p->id_content) {
		snprintf(out, cap, "content");
		return;
	}
	for (int i = 0; i < p->n_id && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "+" : "", p->id[i]);
}

/* The run names its own path `run` for what the profile has at `fixed`: the same place
 * under another name is a rename of the run's inputs (run -> fixed's last name). 0, or
 * -1 when it is not (another parent, or no room). */
static int map_rename(wn_profile *eff, const char *run, const char *fixed)
{
	if (!strcmp(run, fixed))
		return 0;
	const char *rd = strrchr(run, '.'), *fd = strrchr(fixed, '.');
	size_t rp = rd ? (size_t)(rd - run) : 0, fp = fd ? (size_t)(fd - fixed) : 0;
	if (rp != fp || memcmp(run, fixed, rp) || eff->n_rename >= WN_NPATHS)
		return -1;
	for (int i = 0; i < eff->n_rename; i++)
		if (!strcmp(eff->rename_from[i], run))
			return strcmp(eff->rename_to[i], fd ? fd + 1 : fixed) ? -1 : 0;
	put_path(eff->rename_from[eff->n_rename], run);
	put_path(eff->rename_to[eff->n_rename], fd ? fd + 1 : fixed);
	eff->n_rename++;
	return 0;
}

int wn_profile_check(const wn_profile *p, const wn_ingest_opts *o, const char *kind, wn_profile *eff, char *why,
	size_t wl)
{
	wn_profile run = *p;
	char a[WN_NPATHS * WN_PATH_MAX], b[WN_NPATHS * WN_PATH_MAX];
	int rc = wn_profile_apply(&run, o, why, wl);
	if (rc)
		return rc;
#define MISMATCH(...) (snprintf(why, wl, __VA_ARGS__), WN_E_MISMATCH)
	/* what this run uses: the fixed profile, with the run's own renames (or the stored
	 * ones) and the renames its --map names imply */
	*eff = *p;
	if (o->n_rename) {
		eff->n_rename = run.n_rename;
		memcpy(eff->rename_from, run.rename_from, sizeof run.rename_from);
		memcpy(eff->rename_to, run.rename_to, sizeof run.rename_to);
	}
	if (o->profile && strcmp(run.builtin, p->builtin))
		return MISMATCH("the catalog's %s records use profile %s, not %s", kind, *p->builtin ? p->builtin : "(none)",
			o->profile);
	if (!same_set(run.ignore, run.n_ignore, p->ignore, p->n_ignore)) {
		list_text(a, sizeof a, "--ignore-field", p->ignore, p->n_ignore);
		return MISMATCH("the catalog's %s fingerprints were made with %s; use the same --ignore-field set", kind, a);
	}
	const struct { const char *opt; const wn_path *x, *y; int nx, ny; } lists[] = {
		{ "--drop", p->drop, run.drop, p->n_drop, run.n_drop },
		{ "--keep", p->keep, run.keep, p->n_keep, run.n_keep },
		{ "--pseudonymise", p->pseudo, run.pseudo, p->n_pseudo, run.n_pseudo },
		{ "family", p->family, run.family, p->n_family, run.n_family } };
	for (size_t i = 0; i < 4; i++)
		if (!same_set(lists[i].x, lists[i].nx, lists[i].y, lists[i].ny)) {
			list_text(a, sizeof a, lists[i].opt, lists[i].x, lists[i].nx);
			list_text(b, sizeof b, lists[i].opt, lists[i].y, lists[i].ny);
			return MISMATCH("the catalog's %s records are stored with %s (this run: %s); the transforms "
				"that change what is stored are fixed", kind, a, b);
		}
	if (p->n_pseudo && !o->key)
		return MISMATCH("the catalog's %s records are pseudonymised with key %s: give that key with --key-file",
			kind, p->key_id);
	if (strcmp(run.key_id, p->key_id))
		return MISMATCH("the catalog's %s records are pseudonymised with key %s, not with this key (%s)", kind,
			*p->key_id ? p->key_id : "(none)", run.key_id);
	const struct { const char *opt; const char *x, *y; } strs[] = {
		{ "--types", p->types, run.types }, { "--encoding", p->encoding, run.encoding },
		{ "--delimiter", p->delimiter, run.delimiter } };
	for (size_t i = 0; i < 3; i++)
		if (strcmp(strs[i].x, strs[i].y))
			return MISMATCH("the catalog's %s records were read with %s %s, not %s (it changes their "
				"fingerprints; leave it out to use the stored value)", kind, strs[i].opt,
				*strs[i].x ? strs[i].x : "(default)", *strs[i].y ? strs[i].y : "(default)");
	if (run.sqlite_join != p->sqlite_join)
		return MISMATCH("the catalog's %s records were read from SQLite with%s --sqlite-join", kind,
			p->sqlite_join ? "" : "out");
	if (run.empty_null != p->empty_null || run.csv_unwrap != p->csv_unwrap)
		return MISMATCH("the catalog's %s records were read with%s%s", kind,
			p->empty_null ? " --empty-null" : " no --empty-null", p->csv_unwrap ? " --csv-unwrap" : " no --csv-unwrap");
	int same_id = run.id_content == p->id_content && run.n_id == p->n_id;
	for (int i = 0; same_id && i < run.n_id; i++)
		same_id = !map_rename(eff, run.id[i], p->id[i]);
	if (!same_id) {
		wn_profile_id_spec(p, a, sizeof a);
		wn_profile_id_spec(&run, b, sizeof b);
		return MISMATCH("the catalog's %s records are identified by --id %s, not %s (a run may name the same "
			"field under another name of its own, in the same place)", kind, a, b);
	}
	if (o->isrc_field && (p->n_isrc != 1 || map_rename(eff, run.isrc[0], p->isrc[0])))
		return MISMATCH("the catalog's %s records have their ISRC at %s, not %s", kind,
			p->n_isrc ? p->isrc[0] : "(nowhere)", o->isrc_field);
	const struct { const char *opt, *v; const char *x; } desc[] = {
		{ "title", o->title_field, p->title }, { "artist", o->artist_field, p->artists },
		{ "duration", o->duration_field, p->duration } };
	for (size_t i = 0; i < 3; i++)
		if (desc[i].v && *desc[i].x && map_rename(eff, desc[i].v, desc[i].x))
			return MISMATCH("the catalog's %s records have their %s at %s, not %s", kind, desc[i].opt, desc[i].x,
				desc[i].v);
	return 0;
#undef MISMATCH
}

/* ---- JSON ---- */

static int put_list(wn_buf *b, const char *name, const wn_path *v, int n)
{
	int rc = wn_buf_printf(b, ",\"%s\":[", name);
	for (int i = 0; i < n; i++) {
		if (i)
			rc |= wn_buf_puts(b, ",");
		rc |= wn_buf_json_str(b, v[i], strlen(v[i]));
	}
	return rc | wn_buf_puts(b, "]");
}

static int put_str(wn_buf *b, const char *name, const char *v)
{
	int rc = wn_buf_printf(b, ",\"%s\":", name);
	return rc | (*v ? wn_buf_json_str(b, v, strlen(v)) : wn_buf_puts(b, "null"));
}

int wn_profile_encode(const wn_profile *p, wn_buf *b)
{
	int rc = wn_buf_printf(b, "{\"version\":%d", WN_PROFILE_VERSION);
	rc |= put_str(b, "builtin", p->builtin);
	if (p->id_content)
		rc |= wn_buf_puts(b, ",\"id\":\"content\"");
	else
		rc |= put_list(b, "id", p->id, p->n_id);
	rc |= put_list(b, "isrc", p->isrc, p->n_isrc);
	rc |= put_str(b, "title", p->title);
	rc |= put_str(b, "artists", p->artists);
	rc |= put_str(b, "duration", p->duration);
	rc |= put_str(b, "upc", p->upc);
	rc |= put_list(b, "ignore", p->ignore, p->n_ignore);
	rc |= wn_buf_puts(b, ",\"rename\":[");
	for (int i = 0; i < p->n_rename; i++) {
		rc |= wn_buf_puts(b, i ? ",[" : "[");
		rc |= wn_buf_json_str(b, p->rename_from[i], strlen(p->rename_from[i]));
		rc |= wn_buf_puts(b, ",");
		rc |= wn_buf_json_str(b, p->rename_to[i], strlen(p->rename_to[i]));
		rc |= wn_buf_puts(b, "]");
	}
	rc |= wn_buf_puts(b, "]");
	rc |= put_list(b, "drop", p->drop, p->n_drop);
	rc |= put_list(b, "keep", p->keep, p->n_keep);
	rc |= put_list(b, "pseudonymise", p->pseudo, p->n_pseudo);
	rc |= put_list(b, "family", p->family, p->n_family);
	rc |= put_str(b, "key_id", p->key_id);
	rc |= put_str(b, "exclude", p->exclude);
	rc |= put_str(b, "time", p->time);
	rc |= put_list(b, "tally", p->tally, p->n_tally);
	rc |= put_str(b, "types", p->types);
	rc |= put_str(b, "encoding", p->encoding);
	rc |= put_str(b, "delimiter", p->delimiter);
	rc |= wn_buf_printf(b, ",\"empty_null\":%s,\"csv_unwrap\":%s,\"sqlite_join\":%s}", p->empty_null ? "true" : "false",
		p->csv_unwrap ? "true" : "false", p->sqlite_join ? "true" : "false");
	return rc ? WN_E_NOMEM : 0;
}

/* A string or null into out (cap bytes): 0, or -1 (not one, or too long). */
static int get_str(wn_jread *j, char *out, size_t cap)
{
	size_t len;
	if (wn_jread_peek(j) == 'n') {
		*out = 0;
		return wn_jread_skip(j, 1);
	}
	return wn_jread_str(j, out, cap, &len) || len >= cap || strlen(out) != len ? -1 : 0;
}

static int get_list(wn_jread *j, wn_path *v, int *n, int max)
{
	*n = 0;
	if (!wn_jread_eat(j, '['))
		return -1;
	if (wn_jread_eat(j, ']'))
		return 0;
	do {
		if (*n >= max || get_str(j, v[*n], WN_PATH_MAX) || !*v[*n])
			return -1;
		(*n)++;
	} while (wn_jread_eat(j, ','));
	return wn_jread_eat(j, ']') ? 0 : -1;
}

static int get_bool(wn_jread *j, int *v)
{
	int ch = wn_jread_peek(j);
	if (ch != 't' && ch != 'f')
		return -1;
	*v = ch == 't';
	return wn_jread_skip(j, 1);
}

int wn_profile_decode(wn_profile *p, const char *s, size_t n, char *why, size_t wl)
{
	wn_jread j = { s, s + n };
	char key[32];
	uint64_t version = 0;
	memset(p, 0, sizeof *p);
	if (!wn_jread_eat(&j, '{'))
		goto bad;
	do {
		int rc = 0;
		if (wn_jread_str(&j, key, sizeof key, NULL) || !wn_jread_eat(&j, ':'))
			goto bad;
		if (!strcmp(key, "version"))
			rc = wn_jread_num(&j, &version) == 1 ? 0 : -1;
		else if (!strcmp(key, "builtin"))
			rc = get_str(&j, p->builtin, sizeof p->builtin);
		else if (!strcmp(key, "id") && wn_jread_peek(&j) == '"') {
			char v[16];
			rc = get_str(&j, v, sizeof v) || strcmp(v, "content") ? -1 : 0;
			p->id_content = 1;
		} else if (!strcmp(key, "id")) {
			rc = get_list(&j, p->id, &p->n_id, WN_ID_PARTS) || !p->n_id ? -1 : 0;
			for (int i = 0, slots = 0; !rc && i < p->n_id; i++)
				rc = part_ok(p->id[i], &slots) && slots <= WN_ID_SLOTS ? 0 : -1;
		} else if (!strcmp(key, "isrc"))
			rc = get_list(&j, p->isrc, &p->n_isrc, WN_ISRC_PATHS);
		else if (!strcmp(key, "title"))
			rc = get_str(&j, p->title, WN_PATH_MAX);
		else if (!strcmp(key, "artists"))
			rc = get_str(&j, p->artists, WN_PATH_MAX);
		else if (!strcmp(key, "duration"))
			rc = get_str(&j, p->duration, WN_PATH_MAX);
		else if (!strcmp(key, "upc"))
			rc = get_str(&j, p->upc, WN_PATH_MAX);
		else if (!strcmp(key, "ignore"))
			rc = get_list(&j, p->ignore, &p->n_ignore, WN_NPATHS);
		else if (!strcmp(key, "rename")) {
			if (!wn_jread_eat(&j, '['))
				goto bad;
			if (!wn_jread_eat(&j, ']')) {
				do {
					if (p->n_rename >= WN_NPATHS || !wn_jread_eat(&j, '[') ||
					    get_str(&j, p->rename_from[p->n_rename], WN_PATH_MAX) || !wn_jread_eat(&j, ',') ||
					    get_str(&j, p->rename_to[p->n_rename], WN_PATH_MAX) || !wn_jread_eat(&j, ']') ||
					    !*p->rename_from[p->n_rename] || !*p->rename_to[p->n_rename])
						goto bad;
					p->n_rename++;
				} while (wn_jread_eat(&j, ','));
				rc = wn_jread_eat(&j, ']') ? 0 : -1;
			}
		} else if (!strcmp(key, "drop"))
			rc = get_list(&j, p->drop, &p->n_drop, WN_NPATHS);
		else if (!strcmp(key, "keep"))
			rc = get_list(&j, p->keep, &p->n_keep, WN_NPATHS);
		else if (!strcmp(key, "pseudonymise"))
			rc = get_list(&j, p->pseudo, &p->n_pseudo, WN_NPATHS);
		else if (!strcmp(key, "family"))
			rc = get_list(&j, p->family, &p->n_family, WN_FAMILY_MAX);
		else if (!strcmp(key, "key_id"))
			rc = get_str(&j, p->key_id, sizeof p->key_id);
		else if (!strcmp(key, "exclude"))
			rc = get_str(&j, p->exclude, WN_PATH_MAX);
		else if (!strcmp(key, "time"))
			rc = get_str(&j, p->time, WN_PATH_MAX);
		else if (!strcmp(key, "tally")) {
			rc = get_list(&j, p->tally, &p->n_tally, WN_TALLY_MAX);
			for (int i = 0; !rc && i < p->n_tally; i++)
				rc = path_ok(p->tally[i], 1) ? 0 : -1;
		}
		else if (!strcmp(key, "types"))
			rc = get_str(&j, p->types, sizeof p->types);
		else if (!strcmp(key, "encoding"))
			rc = get_str(&j, p->encoding, sizeof p->encoding);
		else if (!strcmp(key, "delimiter"))
			rc = get_str(&j, p->delimiter, sizeof p->delimiter);
		else if (!strcmp(key, "empty_null"))
			rc = get_bool(&j, &p->empty_null);
		else if (!strcmp(key, "csv_unwrap"))
			rc = get_bool(&j, &p->csv_unwrap);
		else if (!strcmp(key, "sqlite_join"))
			rc = get_bool(&j, &p->sqlite_join);
		else
			rc = wn_jread_skip(&j, 2);
		if (rc) {
			snprintf(why, wl, "profile member \"%s\" is malformed", key);
			return -1;
		}
	} while (wn_jread_eat(&j, ','));
	if (!wn_jread_eat(&j, '}'))
		goto bad;
	if (version != WN_PROFILE_VERSION) {
		snprintf(why, wl, "profile version %llu (this winnow reads %d)", (unsigned long long)version, WN_PROFILE_VERSION);
		return -1;
	}
	if (!p->id_content && !p->n_id) {
		snprintf(why, wl, "profile has no id");
		return -1;
	}
	derive_alts(p);
	return 0;
bad:
	snprintf(why, wl, "profile is not JSON of its form at byte %zu", (size_t)(j.p - s));
	return -1;
}

/* ---- keys ---- */

void wn_key_id(const uint8_t *key, size_t n, char out[WN_KEY_ID_HEX + 1])
{
	static const char label[] = "winnow key id 1";
	uint8_t mac[32];
	unsigned len = sizeof mac;
	HMAC(EVP_sha256(), key, (int)n, (const uint8_t *)label, sizeof label - 1, mac, &len);
	wn_hex(out, mac, WN_KEY_ID_HEX / 2);
}

void wn_tombstone_id(const char *pseudonym, char out[33])
{
	static const char label[] = "winnow tombstone 1\n";
	uint8_t md[32];
	unsigned len = sizeof md;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	if (h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) && EVP_DigestUpdate(h, label, sizeof label - 1) &&
	    EVP_DigestUpdate(h, pseudonym, strlen(pseudonym)) && EVP_DigestFinal_ex(h, md, &len))
		wn_hex(out, md, 16);
	else
		memset(out, '0', 32), out[32] = 0;
	EVP_MD_CTX_free(h);
}

int wn_profiles_decode(const char *s, size_t n, int (*fn)(void *ud, const char *kind, const wn_profile *p), void *ud,
	char *why, size_t wl)
{
	wn_jread j = { s, s + n };
	char kind[64];
	wn_profile p;
	if (wn_jread_peek(&j) == 'n')
		return 0;
	if (!wn_jread_eat(&j, '{'))
		goto bad;
	if (wn_jread_eat(&j, '}'))
		return 0;
	do {
		if (wn_jread_str(&j, kind, sizeof kind, NULL) || !wn_jread_eat(&j, ':'))
			goto bad;
		wn_jread_ws(&j);
		const char *st = j.p;
		if (wn_jread_skip(&j, 1))
			goto bad;
		char w[160];
		if (wn_profile_decode(&p, st, (size_t)(j.p - st), w, sizeof w)) {
			snprintf(why, wl, "profile of %s: %s", kind, w);
			return -1;
		}
		int rc = fn(ud, kind, &p);
		if (rc)
			return rc;
	} while (wn_jread_eat(&j, ','));
	if (wn_jread_eat(&j, '}'))
		return 0;
bad:
	snprintf(why, wl, "profiles are not JSON of their form at byte %zu", (size_t)(j.p - s));
	return -1;
}
