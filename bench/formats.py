#!/usr/bin/env python3
"""bench/formats.py - the generator's records in the other input formats, for make bench.

    python3 bench/formats.py csv IN.jsonl OUT.csv OUT.jsonl
        Every line of IN that is a JSON object with a string "id" (the generator's bad
        lines are left out) goes to OUT.jsonl as it is and to OUT.csv as one row: the
        first such line's keys are the header, values as text (null as an empty field),
        quoted per RFC 4180 where needed. So both files hold the same records, in order.
        Prints the number of rows.

    python3 bench/formats.py sqlite DUMP.jsonl API.jsonl OUT.sqlite3
        with  bench/gen --count N --seed S --clean --layout dump >DUMP.jsonl
              bench/gen --count N --seed S --clean --layout api  >API.jsonl
        builds a database in the layout of the 2025 metadata dump. With --clean and the
        same seed, line k of both files is the same track (bench/GEN.md): the dump row
        gives the tracks table, the API object its artists (credit order) and album.
        Tables and columns are the dump's (CREATE TABLE statements as in the real sample),
        with no index, like the dump: tracks, albums, artists, track_artists (rows in track
        order, credit order within a track), artist_genres, available_markets. Values the
        generator does not make (labels, UPCs, follower counts, genres) are derived from
        row numbers, so the same inputs always give the same database. Prints "tracks
        artists albums".

    python3 bench/formats.py discogs N SEED OUT.xml
        N releases in the layout of a Discogs dump (discogs_YYYYMMDD_releases.xml, as in
        ../shared/data/real/discogs): <releases><release id=".." status="Accepted"> with
        images (attributes only), artists and extraartists (nested, empty elements),
        title, labels, formats (attributes and a list of descriptions), genres, styles,
        country, released, notes over several lines with character references,
        data_quality, master_id (an attribute and text), a tracklist (some tracks with
        their own artists), identifiers, videos (attributes, title, description) and
        companies, one release a line; about 3.3 KB a release (the real sample: 4.5).
        Ids are 1..N, so every release is kept. The same N and SEED give the same bytes.
        Prints the byte count.
"""
import csv
import json
import sqlite3
import sys

SCHEMA = """
CREATE TABLE artists (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, fetched_at INTEGER NOT NULL, name TEXT NOT NULL, followers_total INTEGER NOT NULL, popularity INTEGER NOT NULL);
CREATE TABLE albums (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, fetched_at INTEGER NOT NULL, name TEXT NOT NULL, album_type TEXT NOT NULL, available_markets_rowid INTEGER NOT NULL, external_id_upc TEXT, copyright_c TEXT, copyright_p TEXT, label TEXT NOT NULL, popularity INTEGER NOT NULL, release_date TEXT NOT NULL, release_date_precision TEXT NOT NULL, total_tracks INTEGER NOT NULL, external_id_amgid TEXT);
CREATE TABLE tracks (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, fetched_at INTEGER NOT NULL, name TEXT NOT NULL, preview_url TEXT, album_rowid INTEGER NOT NULL, track_number INTEGER NOT NULL, external_id_isrc TEXT, popularity INTEGER NOT NULL, available_markets_rowid INTEGER NOT NULL, disc_number INTEGER NOT NULL, duration_ms INTEGER NOT NULL, explicit INTEGER NOT NULL);
CREATE TABLE track_artists (track_rowid INTEGER NOT NULL, artist_rowid INTEGER NOT NULL);
CREATE TABLE artist_genres (artist_rowid INTEGER NOT NULL, genre TEXT NOT NULL);
CREATE TABLE available_markets (rowid INTEGER PRIMARY KEY, available_markets TEXT NOT NULL);
"""
GENRES = ["pop", "rock", "indie", "hip hop", "trance", "jazz", "k-pop", "latin", "metal", "folk", "house", "soul"]
LABELS = ["Rhino", "Columbia", "Atlantic", "Sub Pop", "Warp", "XL Recordings", "Nonesuch", "Domino"]


def to_csv(src, out_csv, out_jsonl):
    keys, writer, n = None, None, 0
    with open(src, "rb") as f, open(out_csv, "w", newline="", encoding="utf-8") as oc, open(out_jsonl, "wb") as oj:
        for line in f:
            try:
                o = json.loads(line.decode("utf-8"))
            except ValueError:
                continue
            if not isinstance(o, dict) or not isinstance(o.get("id"), str) or not o["id"]:
                continue
            if keys is None:
                keys = list(o)
                writer = csv.writer(oc, lineterminator="\n")
                writer.writerow(keys)
            if set(o) != set(keys):
                continue
            writer.writerow(["" if o[k] is None else o[k] for k in keys])
            oj.write(line)
            n += 1
    print(n)


WORDS = ("Stockholm Persuader Globe Studio Vasastaden Kungsholmen Södermalm Norrmalm Gamla Stan Deep House Techno "
         "Minimal Vinyl Remix Dub Original Mix Night Day Love Sound System Electric Blue Red Black White Dream "
         "Machine Groove Motion City Lights Dance Floor Radio Edit Live Session Sunrise Tokyo Berlin Detroit Łódź "
         "Zürich Ørsted Ça Va Naïve Café").split()
ROLES = ["Music By [All Tracks By]", "Producer", "Mastered By", "Written-By", "Design", "Photography By [Photos]",
         "Mixed By", "Engineer", "Lacquer Cut By", "Vocals"]
FORMATS = [("Vinyl", ['12"', "33 &#8531; RPM"]), ("CD", ["Album"]), ("Vinyl", ['7"', "45 RPM", "Single"]),
           ("File", ["MP3", "320 kbps"]), ("Cassette", ["Album", "Stereo"])]
GENRES_D = ["Electronic", "Rock", "Jazz", "Hip Hop", "Funk / Soul", "Pop", "Classical", "Reggae"]
STYLES = ["Deep House", "Techno", "Minimal", "Ambient", "Tech House", "Downtempo", "Disco", "Breakbeat", "Dub"]
COUNTRIES = ["Sweden", "Germany", "UK", "US", "France", "Japan", "Netherlands", "Italy", "Belgium"]
QUALITY = ["Needs Vote", "Correct", "Complete and Correct", "Needs Minor Changes"]


def esc(t):
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def discogs(n, seed, out):
    import random
    rnd = random.Random(int(seed))
    words = lambda k: " ".join(rnd.choice(WORDS) for _ in range(k))

    def artist(name_id):
        anv = "<anv>%s</anv>" % esc(words(1)) if rnd.random() < 0.2 else "<anv/>"
        role = "<role>%s</role>" % esc(rnd.choice(ROLES)) if rnd.random() < 0.5 else "<role/>"
        return "<artist><id>%d</id><name>%s</name>%s<join/>%s<tracks/></artist>" % (name_id, esc(words(2)), anv, role)

    total = 0
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("<releases>\n")
        for rid in range(1, int(n) + 1):
            p = ['<release id="%d" status="Accepted">' % rid, "<images>"]
            for k in range(rnd.randint(1, 5)):
                p.append('<image type="%s" uri="" uri150="" width="600" height="%d"/>' %
                         ("primary" if k == 0 else "secondary", rnd.randint(300, 900)))
            p.append("</images><artists>")
            p += [artist(rnd.randint(1, 5000000)) for _ in range(rnd.randint(1, 2))]
            p.append("</artists><title>%s</title><labels>" % esc(words(rnd.randint(1, 4))))
            for _ in range(rnd.randint(1, 2)):
                p.append('<label name="%s" catno="%s %03d" id="%d"/>' % (esc(words(2)), words(1)[:3].upper(),
                         rnd.randint(1, 999), rnd.randint(1, 900000)))
            p.append("</labels><extraartists>")
            p += [artist(rnd.randint(1, 5000000)) for _ in range(rnd.randint(0, 4))]
            fmt, desc = rnd.choice(FORMATS)
            p.append('</extraartists><formats><format name="%s" qty="%d" text=""><descriptions>%s</descriptions>'
                     '</format></formats>' % (fmt, rnd.randint(1, 3), "".join("<description>%s</description>" % d
                                                                        for d in desc)))
            p.append("<genres>%s</genres>" % "".join("<genre>%s</genre>" % esc(g) for g in
                                                     rnd.sample(GENRES_D, rnd.randint(1, 2))))
            p.append("<styles>%s</styles>" % "".join("<style>%s</style>" % s for s in
                                                     rnd.sample(STYLES, rnd.randint(1, 3))))
            p.append("<country>%s</country><released>%d-%02d-00</released>" % (rnd.choice(COUNTRIES),
                     rnd.randint(1960, 2020), rnd.randint(1, 12)))
            p.append("<notes>%s.\n\nRecorded at %s &amp; %s, %s\n\nFAX: +46 8 %03d 64 53&#13;\n%s</notes>" % (
                esc(words(8)), esc(words(2)), esc(words(2)), esc(words(1)), rnd.randint(100, 999), esc(words(6))))
            p.append("<data_quality>%s</data_quality>" % rnd.choice(QUALITY))
            p.append('<master_id is_main_release="%s">%d</master_id><tracklist>' %
                     (rnd.choice(["true", "false"]), rnd.randint(1, 2000000)))
            for t in range(rnd.randint(3, 12)):
                p.append("<track><position>%s%d</position><title>%s</title><duration>%d:%02d</duration>" % (
                    "ABCD"[t // 3 % 4], t % 3 + 1, esc(words(rnd.randint(1, 3))), rnd.randint(2, 9),
                    rnd.randint(0, 59)))
                if rnd.random() < 0.25:
                    p.append("<artists>%s</artists>" % artist(rnd.randint(1, 5000000)))
                p.append("</track>")
            p.append("</tracklist><identifiers>")
            for _ in range(rnd.randint(1, 4)):
                p.append('<identifier type="Matrix / Runout" description="%s" value="%s %d"/>' % (
                    esc(words(2)), esc(words(2)).upper(), rnd.randint(1, 99)))
            p.append("</identifiers><videos>")
            for _ in range(rnd.randint(0, 3)):
                p.append('<video src="https://www.youtube.com/watch?v=%011x" duration="%d" embed="true"><title>%s'
                         '</title><description>%s&#13;\n%s</description></video>' % (
                             rnd.getrandbits(44), rnd.randint(60, 600), esc(words(4)), esc(words(5)), esc(words(3))))
            p.append("</videos><companies>")
            for _ in range(rnd.randint(0, 3)):
                p.append("<company><id>%d</id><name>%s</name><catno/><entity_type>%d</entity_type><entity_type_name>"
                         "%s</entity_type_name><resource_url>https://api.discogs.com/labels/%d</resource_url>"
                         "</company>" % (rnd.randint(1, 900000), esc(words(2)), rnd.randint(1, 30),
                                         esc(words(2)), rnd.randint(1, 900000)))
            p.append("</companies></release>\n")
            line = "".join(p)
            f.write(line)
            total += len(line.encode("utf-8"))
        f.write("</releases>\n")
    print(total + len("<releases>\n</releases>\n"))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "csv":
        return to_csv(*sys.argv[2:])
    if len(sys.argv) == 5 and sys.argv[1] == "discogs":
        return discogs(*sys.argv[2:])
    if len(sys.argv) != 5 or sys.argv[1] != "sqlite":
        sys.exit("usage: formats.py csv IN.jsonl OUT.csv OUT.jsonl | formats.py sqlite DUMP.jsonl API.jsonl OUT.sqlite3 | "
                 "formats.py discogs N SEED OUT.xml")
    del sys.argv[1]
    db = sqlite3.connect(sys.argv[3])
    db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + SCHEMA)
    db.execute("INSERT INTO available_markets VALUES (1, 'unavailable'), (3, 'AR,AU,AT,BE,BO,BR,BG,CA,CL,CO')")
    artist_rowid = {}
    albums_done = set()
    tracks, links, albums, artists, genres = [], [], [], [], []
    ntracks = 0

    def flush():
        db.executemany("INSERT INTO tracks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", tracks)
        db.executemany("INSERT INTO track_artists VALUES (?,?)", links)
        db.executemany("INSERT INTO albums VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", albums)
        db.executemany("INSERT INTO artists VALUES (?,?,?,?,?,?)", artists)
        db.executemany("INSERT INTO artist_genres VALUES (?,?)", genres)
        for lst in (tracks, links, albums, artists, genres):
            lst.clear()

    with open(sys.argv[1], encoding="utf-8") as fd, open(sys.argv[2], encoding="utf-8") as fa:
        for ld, la in zip(fd, fa):
            d, a = json.loads(ld), json.loads(la)
            if d["id"] != a["id"]:
                sys.exit("formats.py: the two inputs do not line up (same --count, --seed and --clean?)")
            ntracks += 1
            tracks.append((d["rowid"], d["id"], d["fetched_at"], d["name"], d["preview_url"], d["album_rowid"],
                           d["track_number"], d["external_id_isrc"], d["popularity"], d["available_markets_rowid"],
                           d["disc_number"], d["duration_ms"], d["explicit"]))
            for ar in a["artists"]:
                r = artist_rowid.get(ar["id"])
                if r is None:
                    r = artist_rowid[ar["id"]] = len(artist_rowid) + 1
                    artists.append((r, ar["id"], d["fetched_at"], ar["name"], (r * 7919) % 5000000, r % 90 + 5))
                    for g in range(r % 3):
                        genres.append((r, GENRES[(r + g * 5) % len(GENRES)]))
                links.append((d["rowid"], r))
            al = a["album"]
            if d["album_rowid"] not in albums_done:
                albums_done.add(d["album_rowid"])
                ar_ = d["album_rowid"]
                albums.append((ar_, al["id"], d["fetched_at"], al["name"], al["album_type"], d["available_markets_rowid"],
                               "%012d" % (ar_ * 37 % 10**12), None, None, LABELS[ar_ % len(LABELS)], ar_ % 100,
                               al["release_date"], "day" if len(al["release_date"]) == 10 else "year",
                               al["total_tracks"], None))
            if len(tracks) >= 50000:
                flush()
    flush()
    db.commit()
    db.close()
    print(ntracks, len(artist_rowid), len(albums_done))


if __name__ == "__main__":
    main()
