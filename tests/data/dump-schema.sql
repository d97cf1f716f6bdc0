-- The 2025 Spotify metadata dump's tables, as in its published CREATE TABLE statements
-- (those the tests use): t0620, t0845 and tests/fuzz/seeds.sh make databases with them.
CREATE TABLE artists (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, fetched_at INTEGER NOT NULL, name TEXT NOT NULL, followers_total INTEGER NOT NULL, popularity INTEGER NOT NULL);
CREATE TABLE albums (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, fetched_at INTEGER NOT NULL, name TEXT NOT NULL, album_type TEXT NOT NULL, available_markets_rowid INTEGER NOT NULL, external_id_upc TEXT, copyright_c TEXT, copyright_p TEXT, label TEXT NOT NULL, popularity INTEGER NOT NULL, release_date TEXT NOT NULL, release_date_precision TEXT NOT NULL, total_tracks INTEGER NOT NULL, external_id_amgid TEXT);
CREATE TABLE tracks (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, fetched_at INTEGER NOT NULL, name TEXT NOT NULL, preview_url TEXT, album_rowid INTEGER NOT NULL, track_number INTEGER NOT NULL, external_id_isrc TEXT, popularity INTEGER NOT NULL, available_markets_rowid INTEGER NOT NULL, disc_number INTEGER NOT NULL, duration_ms INTEGER NOT NULL, explicit INTEGER NOT NULL);
CREATE TABLE track_artists (track_rowid INTEGER NOT NULL, artist_rowid INTEGER NOT NULL);
CREATE TABLE artist_genres (artist_rowid INTEGER NOT NULL, genre TEXT NOT NULL);
CREATE TABLE available_markets (rowid INTEGER PRIMARY KEY, available_markets TEXT NOT NULL);
