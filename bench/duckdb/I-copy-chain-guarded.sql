-- I-copy-chain-guarded: B with cheaper typing and cleaning tests.
-- A formulation of the DuckDB baseline (the whole SPEC §4 pipeline in SQL, straight from the two
-- CSV exports), timed against the others by scripts/bench-duckdb.sh (results in
-- bench/results-duckdb.md). Placeholders and outputs as in tests/reference/pipeline.sql: @BIO@,
-- @RESULTS@, @OUT@ (writes bronze_athlete_bio.parquet, bronze_athlete_event_results.parquet,
-- silver_athlete_bio.parquet, silver_athlete_event_results.parquet, gold_avg_stats.parquet,
-- zstd), @TS_US@. The last statement prints gold sorted by the four keys, nulls first.
--
-- Differs from B: an id is all digits when it is non-empty and ltrim(s, '0123456789') leaves
-- nothing (no regex); the clean regexp_replace runs only when regexp_matches finds a character
-- outside the class, else the value is kept as it is. Same results, fewer regex calls.

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
    SELECT CASE WHEN athlete_id <> '' AND ltrim(athlete_id, '0123456789') = '' THEN TRY_CAST(athlete_id AS BIGINT) END AS athlete_id,
           CASE WHEN regexp_matches(name, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(name, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE name END AS name,
           CASE WHEN regexp_matches(sex, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(sex, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE sex END AS sex,
           CASE WHEN regexp_matches(born, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(born, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE born END AS born,
           CASE WHEN regexp_full_match(height, '[0-9]+(\.[0-9]+)?') THEN CAST(height AS DOUBLE) END AS height,
           CASE WHEN regexp_full_match(weight, '[0-9]+(\.[0-9]+)?') THEN CAST(weight AS DOUBLE) END AS weight,
           CASE WHEN regexp_matches(country, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(country, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE country END AS country,
           CASE WHEN regexp_matches(country_noc, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(country_noc, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE country_noc END AS country_noc,
           CASE WHEN regexp_matches(description, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(description, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE description END AS description,
           CASE WHEN regexp_matches(special_notes, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(special_notes, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE special_notes END AS special_notes
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
    SELECT CASE WHEN regexp_matches(edition, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(edition, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE edition END AS edition,
           CASE WHEN edition_id <> '' AND ltrim(edition_id, '0123456789') = '' THEN TRY_CAST(edition_id AS BIGINT) END AS edition_id,
           CASE WHEN regexp_matches(country_noc, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(country_noc, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE country_noc END AS country_noc,
           CASE WHEN regexp_matches(sport, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(sport, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE sport END AS sport,
           CASE WHEN regexp_matches(event, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(event, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE event END AS event,
           CASE WHEN result_id <> '' AND ltrim(result_id, '0123456789') = '' THEN TRY_CAST(result_id AS BIGINT) END AS result_id,
           CASE WHEN regexp_matches(athlete, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(athlete, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE athlete END AS athlete,
           CASE WHEN athlete_id <> '' AND ltrim(athlete_id, '0123456789') = '' THEN TRY_CAST(athlete_id AS BIGINT) END AS athlete_id,
           CASE WHEN regexp_matches(pos, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(pos, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE pos END AS pos,
           CASE WHEN regexp_matches(medal, '[^A-Za-z0-9 ,.''"-]') THEN regexp_replace(medal, '[^A-Za-z0-9 ,.''"-]', '', 'g') ELSE medal END AS medal,
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
