// Runs SQL through DuckDB (the independent reader the tests and the benchmark use) and prints
// the result as tab-separated rows, one row per line, NULL as \N.
//   node tests/duck.mjs "SELECT ..."          one statement (or several separated by ';')
//   node tests/duck.mjs -f script.sql        a script file; the last statement's rows print
//   --threads N                              limit DuckDB's threads
//   --header                                 print column names first
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let sql = null, threads = null, header = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '-f') sql = readFileSync(args[++i], 'utf8');
  else if (args[i] === '--threads') threads = args[++i];
  else if (args[i] === '--header') header = true;
  else sql = args[i];
}
if (sql === null) {
  console.error('usage: duck.mjs [--threads N] [--header] (SQL | -f FILE)');
  process.exit(2);
}
const fmt = (v) => {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(1) : String(v);
  return String(v);
};
try {
  const db = await DuckDBInstance.create(':memory:', threads ? { threads: String(threads) } : {});
  const con = await db.connect();
  const stmts = sql.split(/;\s*\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  let last = null;
  for (const s of stmts) last = await con.runAndReadAll(s);
  if (last) {
    if (header) console.log(last.columnNames().join('\t'));
    const out = [];
    for (const row of last.getRowsJS()) out.push(row.map(fmt).join('\t'));
    if (out.length) process.stdout.write(out.join('\n') + '\n');
  }
} catch (e) {
  console.error('duckdb: ' + e.message);
  process.exit(1);
}
