-- The whole athlete pipeline (SPEC §4) in DuckDB SQL, straight from the two CSV exports: the
-- independent reference the tests compare gold and silver against, and the DuckDB side of
-- scripts/bench.sh (issue 5), so it is the real pipeline: bronze, silver and gold are all
-- written as zstd Parquet.
--
-- It is bench/duckdb/B-copy-chain.sql, the fastest of the formulations timed by
-- scripts/bench-duckdb.sh (bench/results-duckdb.md): each layer is one COPY (SELECT ...) TO
-- file, reading the previous layer's file (bronze from read_csv, silver from bronze's Parquet,
-- which holds exactly what read_csv produced: VARCHAR round-trips, nulls stay null; gold from
-- silver's), with built-in trim / regexp_full_match / regexp_replace and
-- preserve_insertion_order = false. It takes about half the time of materialising every layer
-- as a table (the earlier version, bench/duckdb/A-materialised.sql) and writes the same rows.
-- Row order inside the bronze and silver files is therefore not the CSV's (SPEC §4 fixes only
-- gold's order, and the tests compare silver as a set); gold's order comes from its ORDER BY,
-- which DuckDB keeps in the file.
--
-- Placeholders, substituted by the caller (sed) before running it with
--   node tests/duck.mjs -f pipeline.sql
--   @BIO@      path of athlete_bio.csv
--   @RESULTS@  path of athlete_event_results.csv
--   @OUT@      an existing output folder; written: bronze_athlete_bio.parquet,
--              bronze_athlete_event_results.parquet, silver_athlete_bio.parquet,
--              silver_athlete_event_results.parquet, gold_avg_stats.parquet (flat files, so
--              no folders need creating)
--   @TS_US@    the run timestamp in microseconds since the epoch (SOURCE_DATE_EPOCH * 1e6)
-- The last statement prints gold (sport, medal, sex, country_noc, avg_height, avg_weight,
-- n_rows, timestamp), read back from its file, sorted by the four keys, nulls first, in byte
-- order.
--
-- Typing and cleaning (SPEC §4): ids, height, weight and isTeamSport are trimmed of space, tab,
-- CR and LF first; an id is BIGINT when all ASCII digits ([0-9]+, TRY_CAST: null on overflow),
-- height/weight DOUBLE when [0-9]+(\.[0-9]+)?, isTeamSport true/false in any case; every other
-- column keeps only [A-Za-z0-9 ,.'"-] (any non-ASCII character goes). DISTINCT after typing.
--
-- Where DuckDB's CSV reading can differ from athlete's bronze (libcsv with SPEC §3 rules):
--  * columns: DuckDB maps them by position (auto_detect=false needs the column list); athlete
--    finds them by header name. Both agree for the exports' fixed column order only.
--  * a quoted empty field ("") is NULL here, as is an unquoted empty one; SPEC §3 makes every
--    empty field null in bronze too, but this is the first place to look on a mismatch.
--  * a stray quote inside an unquoted field (called "Flash" by fans) is kept literally by both;
--    a quote that opens a field but never closes makes DuckDB's strict mode drop the rest of
--    the file as one bad row (ignore_errors=true skips it), while athlete rejects one broken
--    record to rejects/: counts differ after an unterminated quote.
--  * wrong field counts and invalid UTF-8: both drop the record (athlete logs it to rejects/).
--  * spaces and tabs around unquoted fields are data for both (no trimming at read time).
--  * avg: DuckDB sums doubles in floating point; athlete sums exactly and rounds once, so the
--    averages may differ in the last bit or so (compare with a relative tolerance, ~1e-12);
--    keys and n_rows must match exactly.

SET preserve_insertion_order = false;

-- ---- bronze: every column VARCHAR, an empty field NULL ------------------------------------
COPY (
  SELECT * FROM read_csv('@BIO@', header = true, auto_detect = false, strict_mode = true,
      ignore_errors = true, delim = ',', quote = '"', escape = '"',
      columns = {'athlete_id': 'VARCHAR', 'name': 'VARCHAR', 'sex': 'VARCHAR', 'born': 'VARCHAR',
                 'height': 'VARCHAR', 'weight': 'VARCHAR', 'country': 'VARCHAR',
                 'country_noc': 'VARCHAR', 'description': 'VARCHAR', 'special_notes': 'VARCHAR'})
) TO '@OUT@/bronze_athlete_bio.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY (
  SELECT * FROM read_csv('@RESULTS@', header = true, auto_detect = false, strict_mode = true,
      ignore_errors = true, delim = ',', quote = '"', escape = '"',
      columns = {'edition': 'VARCHAR', 'edition_id': 'VARCHAR', 'country_noc': 'VARCHAR',
                 'sport': 'VARCHAR', 'event': 'VARCHAR', 'result_id': 'VARCHAR',
                 'athlete': 'VARCHAR', 'athlete_id': 'VARCHAR', 'pos': 'VARCHAR',
                 'medal': 'VARCHAR', 'isTeamSport': 'VARCHAR'})
) TO '@OUT@/bronze_athlete_event_results.parquet' (FORMAT parquet, COMPRESSION zstd);

-- ---- silver: typed, cleaned, rows without a valid athlete_id out, exact duplicates out
COPY (
  SELECT DISTINCT * FROM (
    SELECT CASE WHEN regexp_full_match(athlete_id, '[0-9]+') THEN TRY_CAST(athlete_id AS BIGINT) END AS athlete_id,
           regexp_replace(name, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS name,
           regexp_replace(sex, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS sex,
           regexp_replace(born, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS born,
           CASE WHEN regexp_full_match(height, '[0-9]+(\.[0-9]+)?') THEN CAST(height AS DOUBLE) END AS height,
           CASE WHEN regexp_full_match(weight, '[0-9]+(\.[0-9]+)?') THEN CAST(weight AS DOUBLE) END AS weight,
           regexp_replace(country, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS country,
           regexp_replace(country_noc, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS country_noc,
           regexp_replace(description, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS description,
           regexp_replace(special_notes, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS special_notes
    FROM (SELECT trim(athlete_id, ' ' || chr(9) || chr(13) || chr(10)) AS athlete_id,
                  name,
                  sex,
                  born,
                  trim(height, ' ' || chr(9) || chr(13) || chr(10)) AS height,
                  trim(weight, ' ' || chr(9) || chr(13) || chr(10)) AS weight,
                  country,
                  country_noc,
                  description,
                  special_notes
          FROM read_parquet('@OUT@/bronze_athlete_bio.parquet')))
  WHERE athlete_id IS NOT NULL
) TO '@OUT@/silver_athlete_bio.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY (
  SELECT DISTINCT * FROM (
    SELECT regexp_replace(edition, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS edition,
           CASE WHEN regexp_full_match(edition_id, '[0-9]+') THEN TRY_CAST(edition_id AS BIGINT) END AS edition_id,
           regexp_replace(country_noc, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS country_noc,
           regexp_replace(sport, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS sport,
           regexp_replace(event, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS event,
           CASE WHEN regexp_full_match(result_id, '[0-9]+') THEN TRY_CAST(result_id AS BIGINT) END AS result_id,
           regexp_replace(athlete, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS athlete,
           CASE WHEN regexp_full_match(athlete_id, '[0-9]+') THEN TRY_CAST(athlete_id AS BIGINT) END AS athlete_id,
           regexp_replace(pos, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS pos,
           regexp_replace(medal, '[^A-Za-z0-9 ,.''"-]', '', 'g') AS medal,
           CASE lower(isTeamSport) WHEN 'true' THEN true WHEN 'false' THEN false END AS isTeamSport
    FROM (SELECT edition,
                  trim(edition_id, ' ' || chr(9) || chr(13) || chr(10)) AS edition_id,
                  country_noc,
                  sport,
                  event,
                  trim(result_id, ' ' || chr(9) || chr(13) || chr(10)) AS result_id,
                  athlete,
                  trim(athlete_id, ' ' || chr(9) || chr(13) || chr(10)) AS athlete_id,
                  pos,
                  medal,
                  trim(isTeamSport, ' ' || chr(9) || chr(13) || chr(10)) AS isTeamSport
          FROM read_parquet('@OUT@/bronze_athlete_event_results.parquet')))
  WHERE athlete_id IS NOT NULL
) TO '@OUT@/silver_athlete_event_results.parquet' (FORMAT parquet, COMPRESSION zstd);

-- ---- gold: inner join on athlete_id (every matching pair), grouped, averaged --------------
COPY (
  SELECT r.sport, r.medal, b.sex, b.country_noc,
           avg(b.height) AS avg_height, avg(b.weight) AS avg_weight, count(*) AS n_rows,
           to_timestamp(0) + to_microseconds(@TS_US@) AS "timestamp"
    FROM read_parquet('@OUT@/silver_athlete_event_results.parquet') r
    JOIN read_parquet('@OUT@/silver_athlete_bio.parquet') b ON r.athlete_id = b.athlete_id
    GROUP BY r.sport, r.medal, b.sex, b.country_noc
    ORDER BY sport NULLS FIRST, medal NULLS FIRST, sex NULLS FIRST, country_noc NULLS FIRST
) TO '@OUT@/gold_avg_stats.parquet' (FORMAT parquet, COMPRESSION zstd);

SELECT * FROM read_parquet('@OUT@/gold_avg_stats.parquet')
ORDER BY sport NULLS FIRST, medal NULLS FIRST, sex NULLS FIRST, country_noc NULLS FIRST;
