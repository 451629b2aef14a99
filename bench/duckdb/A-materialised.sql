-- A-materialised: Today's tests/reference/pipeline.sql (before this change).
-- A formulation of the DuckDB baseline (the whole SPEC §4 pipeline in SQL, straight from the two
-- CSV exports), timed against the others by scripts/bench-duckdb.sh (results in
-- bench/results-duckdb.md). Placeholders and outputs as in tests/reference/pipeline.sql: @BIO@,
-- @RESULTS@, @OUT@ (writes bronze_athlete_bio.parquet, bronze_athlete_event_results.parquet,
-- silver_athlete_bio.parquet, silver_athlete_event_results.parquet, gold_avg_stats.parquet,
-- zstd), @TS_US@. The last statement prints gold sorted by the four keys, nulls first.
--
-- Differs: every layer is a table (CREATE TABLE ... AS, then COPY table TO), macros for the
-- typing and cleaning, insertion order preserved (the default).

CREATE MACRO ath_trim(s) AS trim(s, chr(32) || chr(9) || chr(13) || chr(10));
CREATE MACRO ath_id(s) AS
  CASE WHEN regexp_full_match(ath_trim(s), '[0-9]+') THEN TRY_CAST(ath_trim(s) AS BIGINT) END;
CREATE MACRO ath_num(s) AS
  CASE WHEN regexp_full_match(ath_trim(s), '[0-9]+(\.[0-9]+)?') THEN CAST(ath_trim(s) AS DOUBLE) END;
CREATE MACRO ath_bool(s) AS
  CASE lower(ath_trim(s)) WHEN 'true' THEN true WHEN 'false' THEN false END;
CREATE MACRO ath_clean(s) AS regexp_replace(s, '[^A-Za-z0-9 ,.''"-]', '', 'g');

-- ---- bronze: every column VARCHAR, an empty field NULL ------------------------------------
CREATE TABLE bronze_bio AS SELECT * FROM read_csv('@BIO@', header = true, auto_detect = false,
  strict_mode = true, ignore_errors = true, delim = ',', quote = '"', escape = '"',
  columns = {'athlete_id': 'VARCHAR', 'name': 'VARCHAR', 'sex': 'VARCHAR', 'born': 'VARCHAR',
             'height': 'VARCHAR', 'weight': 'VARCHAR', 'country': 'VARCHAR',
             'country_noc': 'VARCHAR', 'description': 'VARCHAR', 'special_notes': 'VARCHAR'});
CREATE TABLE bronze_results AS SELECT * FROM read_csv('@RESULTS@', header = true,
  auto_detect = false, strict_mode = true, ignore_errors = true, delim = ',', quote = '"',
  escape = '"',
  columns = {'edition': 'VARCHAR', 'edition_id': 'VARCHAR', 'country_noc': 'VARCHAR',
             'sport': 'VARCHAR', 'event': 'VARCHAR', 'result_id': 'VARCHAR',
             'athlete': 'VARCHAR', 'athlete_id': 'VARCHAR', 'pos': 'VARCHAR',
             'medal': 'VARCHAR', 'isTeamSport': 'VARCHAR'});
COPY bronze_bio TO '@OUT@/bronze_athlete_bio.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY bronze_results TO '@OUT@/bronze_athlete_event_results.parquet'
  (FORMAT parquet, COMPRESSION zstd);

-- ---- silver: typed, cleaned, rows without a valid athlete_id out, exact duplicates out ------
CREATE TABLE silver_bio AS SELECT DISTINCT * FROM (
  SELECT ath_id(athlete_id) AS athlete_id, ath_clean(name) AS name, ath_clean(sex) AS sex,
         ath_clean(born) AS born, ath_num(height) AS height, ath_num(weight) AS weight,
         ath_clean(country) AS country, ath_clean(country_noc) AS country_noc,
         ath_clean(description) AS description, ath_clean(special_notes) AS special_notes
  FROM bronze_bio)
WHERE athlete_id IS NOT NULL;
CREATE TABLE silver_results AS SELECT DISTINCT * FROM (
  SELECT ath_clean(edition) AS edition, ath_id(edition_id) AS edition_id,
         ath_clean(country_noc) AS country_noc, ath_clean(sport) AS sport,
         ath_clean(event) AS event, ath_id(result_id) AS result_id,
         ath_clean(athlete) AS athlete, ath_id(athlete_id) AS athlete_id,
         ath_clean(pos) AS pos, ath_clean(medal) AS medal, ath_bool(isTeamSport) AS isTeamSport
  FROM bronze_results)
WHERE athlete_id IS NOT NULL;
COPY silver_bio TO '@OUT@/silver_athlete_bio.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY silver_results TO '@OUT@/silver_athlete_event_results.parquet'
  (FORMAT parquet, COMPRESSION zstd);

-- ---- gold: inner join on athlete_id (every matching pair), grouped, averaged ---------------
CREATE TABLE gold AS
  SELECT r.sport, r.medal, b.sex, b.country_noc,
         avg(b.height) AS avg_height, avg(b.weight) AS avg_weight, count(*) AS n_rows,
         to_timestamp(0) + to_microseconds(@TS_US@) AS "timestamp"
  FROM silver_results r JOIN silver_bio b ON r.athlete_id = b.athlete_id
  GROUP BY r.sport, r.medal, b.sex, b.country_noc
  ORDER BY sport NULLS FIRST, medal NULLS FIRST, sex NULLS FIRST, country_noc NULLS FIRST;
COPY (SELECT * FROM gold ORDER BY sport NULLS FIRST, medal NULLS FIRST, sex NULLS FIRST,
      country_noc NULLS FIRST) TO '@OUT@/gold_avg_stats.parquet' (FORMAT parquet, COMPRESSION zstd);

SELECT * FROM gold
ORDER BY sport NULLS FIRST, medal NULLS FIRST, sex NULLS FIRST, country_noc NULLS FIRST;
