#!/usr/bin/env python3
"""gen-listen.py - deterministic Spotify extended streaming history exports (generation 2,
Streaming_History_Audio_*.json: JSON arrays) for members of a pool, for tests and benches.

usage: gen-listen.py --members M --plays N [--seed S] [--repeat R] [--bad B] -o DIR
Writes DIR/member-<i>.json for i in 0..M-1, each with N plays (sessions of consecutive
plays a few minutes apart), every R-th play a repeat of an earlier row (Spotify's own
exports repeat rows: duplicates), every B-th element not an object (rejected); ip_addr
and conn_country set so that privacy rules have something to drop. Same options, same bytes.
"""
import argparse, json, os, random

ap = argparse.ArgumentParser()
ap.add_argument("--members", type=int, default=3)
ap.add_argument("--plays", type=int, default=100)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--repeat", type=int, default=50)
ap.add_argument("--bad", type=int, default=0)
ap.add_argument("-o", "--out", required=True)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
tracks = ["spotify:track:%022d" % i for i in range(5000)]
for m in range(a.members):
    rnd = random.Random(a.seed * 1000003 + m)
    t = 1577836800 + rnd.randrange(86400 * 365)
    rows = []
    for i in range(a.plays):
        if a.repeat and i and i % a.repeat == 0:
            rows.append(rows[rnd.randrange(len(rows))])
            continue
        if a.bad and i and i % a.bad == 0:
            rows.append("not a play")
            continue
        t += rnd.choice((150, 180, 200, 240, 3600 * 5))
        tr = rnd.randrange(len(tracks))
        rows.append('{"ts":"%s","platform":"android","ms_played":%d,"conn_country":"DE","ip_addr":"10.%d.%d.%d",'
                    '"master_metadata_track_name":"Song %d","master_metadata_album_artist_name":"Artist %d",'
                    '"master_metadata_album_album_name":"Album %d","spotify_track_uri":"%s","episode_name":null,'
                    '"episode_show_name":null,"spotify_episode_uri":null,"reason_start":"trackdone",'
                    '"reason_end":"trackdone","shuffle":false,"skipped":false,"offline":false,'
                    '"offline_timestamp":null,"incognito_mode":false}' % (
                        __import__("time").strftime("%Y-%m-%dT%H:%M:%SZ", __import__("time").gmtime(t)),
                        rnd.randrange(1000, 300000), m // 65536 % 256, m // 256 % 256, m % 256, tr, tr % 700,
                        tr % 1500, tracks[tr]))
    with open(os.path.join(a.out, "member-%d.json" % m), "w") as f:
        f.write("[" + ",\n".join(r if r.startswith("{") else json.dumps(r) for r in rows) + "]\n")
