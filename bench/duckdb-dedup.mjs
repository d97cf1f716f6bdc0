// bench/duckdb-dedup.mjs - the DuckDB peer of `make bench`: one row per id from a JSONL
// file, written as zstd-compressed JSONL. Usage: node duckdb-dedup.mjs IN OUT [THREADS]
// Prints {"seconds":S,"rows":N}. Needs @duckdb/node-api (bench/run.sh installs it).
import { DuckDBInstance } from '@duckdb/node-api';

const [, , input, output, threads] = process.argv;
const db = await DuckDBInstance.create(':memory:', { threads: threads || '2' });
const con = await db.connect();
const t0 = Date.now();
const q = (s) => s.replaceAll("'", "''");
await con.run(`COPY (SELECT * FROM read_json('${q(input)}', format = 'newline_delimited', union_by_name = true)
               QUALIFY row_number() OVER (PARTITION BY id) = 1)
               TO '${q(output)}' (FORMAT json, COMPRESSION zstd)`);
const seconds = (Date.now() - t0) / 1000;
const r = await con.runAndReadAll(`SELECT count(*) FROM read_json('${q(output)}', format = 'newline_delimited')`);
console.log(JSON.stringify({ seconds, rows: Number(r.getRows()[0][0]) }));
