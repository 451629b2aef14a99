// Checks a Parquet file written by tests/tools/pq_roundtrip against the expectations it wrote,
// with two independent readers: DuckDB (@duckdb/node-api) and hyparquet (+ compressors).
//   node parquet_check.mjs FILE EXPECT.tsv META.tsv CODEC(ZSTD|SNAPPY|UNCOMPRESSED)
// Values are compared exactly in canonical form (see pq_roundtrip.c): strings as hex of their
// UTF-8 bytes, doubles as the hex of their 64 bits, timestamps as epoch microseconds.
// Prints "ok <rows> rows" or the first differences, exit status 1 on any difference.
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { readFileSync } from 'node:fs';

const [file, expectPath, metaPath, codec] = process.argv.slice(2);
const NULL = '\\N';
let failures = 0;
const fail = (msg) => {
  if (failures++ < 20) console.error('MISMATCH ' + (msg.length > 400 ? msg.slice(0, 400) + '...' : msg));
};

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const doubleBits = (x) => {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return dv.getBigUint64(0, true).toString(16).padStart(16, '0');
};
// Canonical text of one JS value read back; kind is the Parquet physical/logical kind.
const canon = (v, kind) => {
  if (v === null || v === undefined) return NULL;
  switch (kind) {
    case 'string': return 's:' + (typeof v === 'string' ? Buffer.from(v, 'utf8').toString('hex') : hex(v));
    case 'double': return doubleBits(v);
    case 'bool': return v ? 'true' : 'false';
    default: return BigInt(v).toString();
  }
};

const expectRows = readFileSync(expectPath, 'utf8').split('\n').filter((l) => l.length > 0);
const metaLines = readFileSync(metaPath, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
const schema = metaLines.filter((m) => m[0] === 'schema');
const chunks = metaLines.filter((m) => m[0] !== 'schema');
const checkChunks = chunks.length > 0 || expectRows.length === 0; // none: row groups cut by bytes
const kindOf = {};
for (const [, name, phys, , conv] of schema)
  kindOf[name] = conv === 'UTF8' ? 'string' : conv === 'TIMESTAMP_MICROS' ? 'ts'
    : phys === 'DOUBLE' ? 'double' : phys === 'BOOLEAN' ? 'bool' : 'int';
const names = schema.map((s) => s[1]);

function compareRows(reader, rows) {
  if (rows.length !== expectRows.length) fail(`${reader}: ${rows.length} rows, expected ${expectRows.length}`);
  for (let i = 0; i < Math.min(rows.length, expectRows.length); i++)
    if (rows[i] !== expectRows[i]) {
      const got = rows[i].split('\t'), want = expectRows[i].split('\t');
      const c = got.findIndex((g, k) => g !== want[k]);
      fail(`${reader}: row ${i} column ${names[c]}: got ${got[c]} want ${want[c]}`);
    }
}

// DuckDB's text rendering of a statistic -> canonical form.
function duckStat(text, kind) {
  if (text === null) return NULL;
  if (kind === 'string') return 's:' + Buffer.from(text, 'utf8').toString('hex');
  if (kind === 'double') return doubleBits(Number(text));
  if (kind === 'ts') {
    const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\+00$/.exec(text);
    if (!m) return 'unparsed:' + text;
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    return (BigInt(ms) * 1000n + BigInt((m[7] || '0').padEnd(6, '0'))).toString();
  }
  return String(text);
}

async function duckdb() {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const lit = `'${file.replace(/'/g, "''")}'`;
  const sel = names.map((n) => (kindOf[n] === 'ts' ? `epoch_us("${n}")` : `"${n}"`)).join(', ');
  const res = await con.runAndReadAll(
    `SELECT ${sel} FROM read_parquet(${lit}, file_row_number=true) ORDER BY file_row_number`);
  compareRows('duckdb', res.getRowsJS().map((r) => r.map((v, k) => canon(v, kindOf[names[k]])).join('\t')));

  const sch = (await con.runAndReadAll(
    `SELECT name, type, repetition_type, converted_type, logical_type FROM parquet_schema(${lit})`)).getRowsJS();
  if (sch[0][1] !== null || sch[0][2] !== null) fail(`duckdb: root schema element has a type or repetition`);
  for (const [, name, phys, rep, conv] of schema) {
    const row = sch.find((r) => r[0] === name);
    if (!row) { fail(`duckdb: no schema element ${name}`); continue; }
    const want = [phys, rep, conv === NULL ? null : conv];
    if (row[1] !== want[0] || row[2] !== want[1] || row[3] !== want[2])
      fail(`duckdb schema ${name}: got ${row.slice(1, 4)} want ${want}`);
    const lt = row[4] || '';
    if (conv === 'UTF8' && lt !== 'StringType()') fail(`duckdb schema ${name}: logical type ${lt}`);
    if (conv === 'TIMESTAMP_MICROS' && !/isAdjustedToUTC=1.*MICROS=MicroSeconds\(\)/.test(lt))
      fail(`duckdb schema ${name}: logical type ${lt}`);
  }

  const [fm] = (await con.runAndReadAll(
    `SELECT created_by, num_rows, num_row_groups, column_orders FROM parquet_file_metadata(${lit})`)).getRowsJS();
  if (!/^athlete version /.test(fm[0])) fail(`duckdb: created_by ${fm[0]}`);
  if (BigInt(fm[1]) !== BigInt(expectRows.length)) fail(`duckdb: num_rows ${fm[1]}`);
  const nrg = new Set(chunks.map((c) => c[0])).size;
  if (checkChunks && BigInt(fm[2]) !== BigInt(nrg)) fail(`duckdb: ${fm[2]} row groups, expected ${nrg}`);
  const orders = String(fm[3]).split('),ColumnOrder(');
  if (orders.length !== names.length || !orders.every((o) => o.includes('TYPE_ORDER=TypeDefinedOrder()')))
    fail(`duckdb: column_orders ${fm[3]}`);

  const md = (await con.runAndReadAll(
    `SELECT row_group_id, path_in_schema, stats_null_count, stats_min_value, stats_max_value, compression, encodings
     FROM parquet_metadata(${lit})`)).getRowsJS();
  if (checkChunks && md.length !== chunks.length) fail(`duckdb: ${md.length} column chunks, expected ${chunks.length}`);
  for (const [rg, name, nulls, min, max, enc] of chunks) {
    const row = md.find((r) => String(r[0]) === rg && r[1] === name);
    if (!row) { fail(`duckdb: no chunk rg ${rg} ${name}`); continue; }
    const kind = kindOf[name];
    if (String(row[2]) !== nulls) fail(`duckdb rg ${rg} ${name}: null_count ${row[2]} want ${nulls}`);
    const gmin = duckStat(row[3], kind), gmax = duckStat(row[4], kind);
    // DuckDB leaves out infinite double statistics when it renders them; hyparquet checks those.
    const inf = (w) => w === 'fff0000000000000' || w === '7ff0000000000000';
    if (gmin !== min && !(kind === 'double' && row[3] === null && (inf(min) || inf(max))))
      fail(`duckdb rg ${rg} ${name}: min ${gmin} want ${min}`);
    if (gmax !== max && !(kind === 'double' && row[4] === null && (inf(min) || inf(max))))
      fail(`duckdb rg ${rg} ${name}: max ${gmax} want ${max}`);
    if (row[5] !== codec) fail(`duckdb rg ${rg} ${name}: compression ${row[5]} want ${codec}`);
    const encs = String(row[6]);
    if (enc === 'dict' && !encs.includes('RLE_DICTIONARY')) fail(`duckdb rg ${rg} ${name}: encodings ${encs} want dictionary`);
    if (enc === 'plain' && encs.includes('DICTIONARY')) fail(`duckdb rg ${rg} ${name}: encodings ${encs} want PLAIN`);
  }
}

async function hyparquet() {
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const parsers = { timestampFromMicroseconds: (v) => v, stringFromBytes: (b) => b };
  const rows = await parquetReadObjects({ file: ab, compressors, parsers });
  compareRows('hyparquet', rows.map((r) => names.map((n) => canon(r[n], kindOf[n])).join('\t')));

  const meta = parquetMetadata(ab, { parsers });
  if (BigInt(meta.num_rows) !== BigInt(expectRows.length)) fail(`hyparquet: num_rows ${meta.num_rows}`);
  if (!/^athlete version /.test(meta.created_by || '')) fail(`hyparquet: created_by ${meta.created_by}`);
  for (const [rg, name, nulls, min, max] of chunks) {
    const col = meta.row_groups[+rg]?.columns.find((c) => c.meta_data.path_in_schema[0] === name);
    if (!col) { fail(`hyparquet: no chunk rg ${rg} ${name}`); continue; }
    const md = col.meta_data, st = md.statistics || {};
    if (md.codec !== codec) fail(`hyparquet rg ${rg} ${name}: codec ${md.codec}`);
    if (String(st.null_count) !== nulls) fail(`hyparquet rg ${rg} ${name}: null_count ${st.null_count} want ${nulls}`);
    const gmin = canon(st.min_value, kindOf[name]), gmax = canon(st.max_value, kindOf[name]);
    if (gmin !== min || gmax !== max) fail(`hyparquet rg ${rg} ${name}: min/max ${gmin} ${gmax} want ${min} ${max}`);
    if (st.min !== undefined || st.max !== undefined) fail(`hyparquet rg ${rg} ${name}: deprecated min/max written`);
    if (BigInt(md.num_values) !== BigInt(meta.row_groups[+rg].num_rows))
      fail(`hyparquet rg ${rg} ${name}: num_values ${md.num_values} (nulls count too)`);
    const es = md.encoding_stats || [];
    const dictPages = es.filter((e) => e.page_type === 'DICTIONARY_PAGE');
    const dataEnc = new Set(es.filter((e) => e.page_type === 'DATA_PAGE').map((e) => e.encoding));
    const isDict = md.dictionary_page_offset !== undefined;
    if (isDict !== (dictPages.length === 1) || dataEnc.size !== 1 ||
        !dataEnc.has(isDict ? 'RLE_DICTIONARY' : 'PLAIN'))
      fail(`hyparquet rg ${rg} ${name}: encoding_stats ${JSON.stringify(es)}`);
    if (isDict && !(md.dictionary_page_offset < md.data_page_offset))
      fail(`hyparquet rg ${rg} ${name}: dictionary page not before the data pages`);
  }
}

try {
  await duckdb();
  await hyparquet();
} catch (e) {
  fail('reader error: ' + (e && e.stack ? e.stack : e));
}
if (failures) {
  console.error(`${failures} mismatches in ${file}`);
  process.exit(1);
}
console.log(`ok ${expectRows.length} rows`);
