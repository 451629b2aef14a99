-- J-all-in-memory-unordered: Every layer a temp table, built-ins inline.
-- A formulation of the DuckDB baseline (the whole SPEC §4 pipeline in SQL, straight from the two
-- CSV exports), timed against the others by scripts/bench-duckdb.sh (results in
-- bench/results-duckdb.md). Placeholders and outputs as in tests/reference/pipeline.sql: @BIO@,
-- @RESULTS@, @OUT@ (writes bronze_athlete_bio.parquet, bronze_athlete_event_results.parquet,
-- silver_athlete_bio.parquet, silver_athlete_event_results.parquet, gold_avg_stats.parquet,
-- zstd), @TS_US@. The last statement prints gold sorted by the four keys, nulls first.
--
-- Differs from B: bronze and silver are TEMP tables (each COPY'd to its file), gold is
-- computed from the silver tables; built-ins inline; preserve_insertion_order = false.

SET preserve_insertion_order = false;

-- ---- bronze: every column VARCHAR, an empty field NULL ------------------------------------
CREATE TEMP TABLE bronze_bio AS SELECT * FROM read_csv('@BIO@', header = true, auto_detect = false, strict_mode = true,
    ignore_errors = true, delim = ',', quote = '"', escape = '"',
    columns = {'athlete_id': 'VARCHAR', 'name': 'VARCHAR', 'sex': 'VARCHAR', 'born': 'VARCHAR',
               'height': 'VARCHAR', 'weight': 'VARCHAR', 'country': 'VARCHAR',
               'country_noc': 'VARCHAR', 'description': 'VARCHAR', 'special_notes': 'VARCHAR'});
CREATE TEMP TABLE bronze_results AS SELECT * FROM read_csv('@RESULTS@', header = true, auto_detect = false, strict_mode = true,
    ignore_errors = true, delim = ',', quote = '"', escape = '"',
    columns = {'edition': 'VARCHAR', 'edition_id': 'VARCHAR', 'country_noc': 'VARCHAR',
               'sport': 'VARCHAR', 'event': 'VARCHAR', 'result_id': 'VARCHAR',
               'athlete': 'VARCHAR', 'athlete_id': 'VARCHAR', 'pos': 'VARCHAR',
               'medal': 'VARCHAR', 'isTeamSport': 'VARCHAR'});
COPY bronze_bio TO '@OUT@/bronze_athlete_bio.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY bronze_results TO '@OUT@/bronze_athlete_event_results.parquet' (FORMAT parquet, COMPRESSION zstd);

-- ---- silver: typed, cleaned, rows without a valid athlete_id out, exact duplicates out
CREATE TEMP TABLE silver_bio AS
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
        FROM bronze_bio))
WHERE athlete_id IS NOT NULL;
CREATE TEMP TABLE silver_results AS
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
        FROM bronze_results))
WHERE athlete_id IS NOT NULL;
COPY silver_bio TO '@OUT@/silver_athlete_bio.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY silver_results TO '@OUT@/silver_athlete_event_results.parquet' (FORMAT parquet, COMPRESSION zstd);

-- ---- gold: inner join on athlete_id (every matching pair), grouped, averaged --------------
COPY (
  SELECT r.sport, r.medal, b.sex, b.country_noc,
           avg(b.height) AS avg_height, avg(b.weight) AS avg_weight, count(*) AS n_rows,
           to_timestamp(0) + to_microseconds(@TS_US@) AS "timestamp"
    FROM silver_results r
    JOIN silver_bio b ON r.athlete_id = b.athlete_id
    GROUP BY r.sport, r.medal, b.sex, b.country_noc
    ORDER BY sport NULLS FIRST, medal NULLS FIRST, sex NULLS FIRST, country_noc NULLS FIRST
) TO '@OUT@/gold_avg_stats.parquet' (FORMAT parquet, COMPRESSION zstd);

SELECT * FROM read_parquet('@OUT@/gold_avg_stats.parquet')
ORDER BY sport NULLS FIRST, medal NULLS FIRST, sex NULLS FIRST, country_noc NULLS FIRST;
