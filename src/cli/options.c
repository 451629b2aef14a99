#include "cli/options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum opt_id {
  O_HELP,
  O_QUIET,
  O_LAKE,
  O_SOURCE,
  O_FORMATS,
  O_COMPRESSION,
  O_ZSTD_LEVEL,
  O_HDF5_IO,
  O_MAX_REJECT,
  O_PROGRESS,
  O_METRICS,
  O_KEEP_CHARS,
  O_SHUFFLE_MB,
  O_SCALE,
  O_SEED,
  O_OUT,
  O_LIMIT,
  O_BROKERS,
  O_PROP,
  O_PROP_FILE,
  O_TIMEOUT,
  O_TOPIC,
  O_TABLE,
  O_TRANSACTION_MS,
  O_PARTITIONS,
  O_REPLICATION,
  O_CONFIG,
  O_IF_NOT_EXISTS,
  O_IF_EXISTS,
  O_JSON,
  O_EXCLUDE_INTERNAL,
  O_MOCK_BROKERS,
  O_MOCK_TOPIC,
  O_BOOTSTRAP_FILE,
  O_CONTROL,
  O_GROUP,
  O_BATCH_ROWS,
  O_BATCH_MS,
  O_UNTIL_IDLE,
  O_MAX_MESSAGE_BYTES,
  O_TABLES,
  O_OUT_TOPIC,
  O_SHOW_FORMAT,
  O_REPORT_OUT,
} opt_id;

typedef struct opt_spec {
  opt_id id;
  const char *name;
  char short_name;
  const char *arg; /* NULL: a flag */
  unsigned groups;
  const char *help;
} opt_spec;

/* Where one name means two things (--brokers, --topic), the commands that take each meaning
 * never take the other: the first spec in a command's groups wins. */
static const opt_spec options[] = {
    {O_SOURCE, "source", 0, "DIR|URL", OPTS_SOURCE,
     "folder or URL holding athlete_bio.csv and athlete_event_results.csv (a URL is downloaded "
     "once, by rank 0, into LAKE/landing/)"},
    {O_LAKE, "lake", 0, "DIR", OPTS_LAKE,
     "lake root (default ./lake; produce writes only its rejects there, and only when given)"},
    {O_BROKERS, "brokers", 'b', "LIST", OPTS_KAFKA,
     "bootstrap brokers host:port,... (default $ATHLETE_BROKERS, else localhost:9092)"},
    {O_PROP, "property", 'X', "KEY=VALUE", OPTS_KAFKA,
     "a librdkafka property (security.protocol, sasl.*, ssl.*, ...); repeatable; -X list "
     "lists them"},
    {O_PROP_FILE, "properties-file", 'F', "FILE", OPTS_KAFKA,
     "librdkafka properties, one key=value a line (# comments); -X overrides it"},
    {O_TIMEOUT, "timeout", 0, "S", OPTS_KAFKA,
     "seconds to reach the cluster, for each request and for each message's delivery "
     "(default 30)"},
    {O_TOPIC, "topic", 't', "NAME", OPTS_TOPIC, "the topic (topics: repeatable)"},
    {O_TABLE, "table", 0, "NAME", OPTS_PRODUCE | OPTS_INGEST,
     "the table: athlete_event_results (default) or athlete_bio"},
    {O_GROUP, "group", 'G', "ID", OPTS_INGEST, "the consumer group (required)"},
    {O_OUT_TOPIC, "out-topic", 0, "NAME", OPTS_STATS,
     "the topic the changed gold rows go to (required; created beforehand)"},
    {O_BATCH_ROWS, "batch-rows", 0, "N", OPTS_INGEST,
     "commit a batch after this many messages (default 100000)"},
    {O_BATCH_MS, "batch-ms", 0, "MS", OPTS_INGEST,
     "... or this many milliseconds after its first message (default: ingest 5000, "
     "stream-stats 1000)"},
    {O_UNTIL_IDLE, "until-idle", 0, "S", OPTS_INGEST,
     "exit 0 when no message arrived for S seconds and the topic is drained (default: run "
     "until SIGTERM/SIGINT)"},
    {O_MAX_MESSAGE_BYTES, "max-message-bytes", 0, "B", OPTS_INGEST,
     "larger messages are rejects (default 1048576)"},
    {O_TRANSACTION_MS, "transaction-ms", 0, "MS", OPTS_PRODUCE,
     "each rank commits a Kafka transaction this often (default 1000; 0: idempotent producer "
     "without transactions)"},
    {O_PARTITIONS, "partitions", 0, "N", OPTS_TOPICS, "create: partitions (default: the broker's)"},
    {O_REPLICATION, "replication-factor", 0, "N", OPTS_TOPICS,
     "create: replicas per partition (default: the broker's)"},
    {O_CONFIG, "config", 0, "KEY=VALUE", OPTS_TOPICS, "create: a topic config; repeatable"},
    {O_IF_NOT_EXISTS, "if-not-exists", 0, NULL, OPTS_TOPICS,
     "create: a topic that exists already is not an error"},
    {O_IF_EXISTS, "if-exists", 0, NULL, OPTS_TOPICS,
     "delete: a topic that does not exist is not an error"},
    {O_JSON, "json", 0, NULL, OPTS_TOPICS, "list, describe: print JSON"},
    {O_EXCLUDE_INTERNAL, "exclude-internal", 0, NULL, OPTS_TOPICS,
     "list, describe: leave out internal topics (names starting with __)"},
    {O_MOCK_BROKERS, "brokers", 0, "N", OPTS_MOCK, "brokers in the cluster (default 3)"},
    {O_MOCK_TOPIC, "topic", 't', "NAME[:PARTITIONS]", OPTS_MOCK,
     "create a topic at start (default 1 partition; replicas: min(3, brokers)); repeatable"},
    {O_BOOTSTRAP_FILE, "bootstrap-file", 0, "FILE", OPTS_MOCK,
     "write the bootstrap list to FILE (removed at exit)"},
    {O_CONTROL, "control", 0, "FIFO", OPTS_MOCK,
     "also read control commands from this FIFO (created if missing, removed at exit)"},
    {O_TABLES, "tables", 0, "LIST", OPTS_TABLES,
     "land only these tables, comma-separated (default athlete_bio,athlete_event_results)"},
    {O_FORMATS, "formats", 0, "LIST", OPTS_WRITE,
     "output formats, comma-separated: parquet,hdf5 (default both; the stage commands read the "
     "previous layer's hdf5 file, or its parquet parts when it has none)"},
    {O_COMPRESSION, "parquet-compression", 0, "CODEC", OPTS_WRITE,
     "zstd (default), snappy or none"},
    {O_ZSTD_LEVEL, "zstd-level", 0, "N", OPTS_WRITE, "zstd level, 1..22 (default 1: fast)"},
    {O_HDF5_IO, "hdf5-io", 0, "MODE", OPTS_WRITE,
     "direct (default: large HDF5 writes bypass the page cache where the file system allows "
     "O_DIRECT) or buffered"},
    {O_MAX_REJECT, "max-reject-fraction", 0, "F", OPTS_REJECTS,
     "fail with exit code 3 when more than this fraction of a file's records is rejected "
     "(default 0.05)"},
    {O_KEEP_CHARS, "keep-chars", 0, "SET", OPTS_TRANSFORM,
     "characters silver cleaning keeps in text columns (default: letters, digits, space and "
     ",.'\"-)"},
    {O_SHUFFLE_MB, "shuffle-round-mb", 0, "MB", OPTS_TRANSFORM,
     "bytes a rank sends per shuffle round, in MiB (default 64)"},
    {O_PROGRESS, "progress", 0, "WHEN", OPTS_REPORT,
     "auto|bar|always|never: on rank 0's stderr, a live bar (auto: when it is a terminal) "
     "or a line per step (always; auto otherwise)"},
    {O_METRICS, "metrics", 0, "FILE", OPTS_REPORT, "write timings and counts as JSON to FILE"},
    {O_SCALE, "scale", 0, "K", OPTS_GEN, "1 = the real exports' size (default 1)"},
    {O_SEED, "seed", 0, "S", OPTS_GEN, "random seed (default 42)"},
    {O_OUT, "out", 'o', "DIR", OPTS_GEN, "output folder (created if missing)"},
    {O_REPORT_OUT, "out", 'o', "FILE", OPTS_HTML,
     "the HTML file to write (default report.html; replaced if it exists)"},
    {O_LIMIT, "limit", 'n', "N", OPTS_SHOW, "rows to print (default 10)"},
    {O_SHOW_FORMAT, "format", 0, "FMT", OPTS_SHOW,
     "table (default: schema, count, tab-separated rows), csv (RFC 4180, a header, null as an "
     "empty field) or json (an array of objects, null as null)"},
    {O_QUIET, "quiet", 'q', NULL, OPTS_COMMON, "no progress and no summary"},
    {O_HELP, "help", 'h', NULL, OPTS_COMMON, "show this help"},
};
#define NOPTIONS (int)(sizeof options / sizeof *options)

/* The option `arg` names ("--name", or "-c" / "-cVALUE" for a short one), or NULL. */
static const opt_spec *find_option(const char *arg, unsigned groups) {
  for (int i = 0; i < NOPTIONS; i++) {
    const opt_spec *o = &options[i];
    if (!(o->groups & (groups | OPTS_COMMON))) continue;
    if (arg[1] == '-' && strcmp(arg + 2, o->name) == 0) return o;
    if (arg[1] != '-' && o->short_name && arg[1] == o->short_name && (arg[2] == '\0' || o->arg))
      return o;
  }
  return NULL;
}

/* Appends v to a repeatable option's list. */
static int add_to_list(const char **list, int *n, const char *opt, const char *v, ath_error *err) {
  if (*n == CLI_MAX_LIST)
    return ath_fail(err, ATH_EUSAGE, "--%s: at most %d times", opt, CLI_MAX_LIST);
  list[(*n)++] = v;
  return ATH_OK;
}

static int parse_double(const char *opt, const char *v, double lo, double hi, double *out,
                        ath_error *err) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end || !isfinite(d) || d < lo || d > hi)
    return ath_fail(err, ATH_EUSAGE, "--%s: '%s' is not a number in [%g, %g]", opt, v, lo, hi);
  *out = d;
  return ATH_OK;
}

static int parse_int(const char *opt, const char *v, long long lo, long long hi, long long *out,
                     ath_error *err) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end || x < lo || x > hi)
    return ath_fail(err, ATH_EUSAGE, "--%s: '%s' is not a whole number in [%lld, %lld]", opt, v, lo,
                    hi);
  *out = x;
  return ATH_OK;
}

static int parse_formats(const char *v, pipeline_opts *p, ath_error *err) {
  p->parquet = p->hdf5 = false;
  char buf[128];
  snprintf(buf, sizeof buf, "%s", v);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (strcmp(t, "parquet") == 0)
      p->parquet = true;
    else if (strcmp(t, "hdf5") == 0 || strcmp(t, "h5") == 0)
      p->hdf5 = true;
    else
      return ath_fail(err, ATH_EUSAGE, "--formats: unknown format '%s' (parquet, hdf5)", t);
  }
  if (!p->parquet && !p->hdf5) return ath_fail(err, ATH_EUSAGE, "--formats: name at least one");
  return ATH_OK;
}

static int parse_tables(const char *v, pipeline_opts *p, ath_error *err) {
  p->tables = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", v);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int i = 0;
    while (i < NTABLES && strcmp(pipeline_tables[i], t) != 0)
      i++;
    if (i == NTABLES)
      return ath_fail(err, ATH_EUSAGE, "--tables: unknown table '%s' (%s, %s)", t,
                      pipeline_tables[0], pipeline_tables[1]);
    p->tables |= 1u << i;
  }
  if (!p->tables) return ath_fail(err, ATH_EUSAGE, "--tables: name at least one table");
  return ATH_OK;
}

/* Applies one option with its value. */
static int apply(const opt_spec *o, const char *v, cli_args *a, ath_error *err) {
  pipeline_opts *p = &a->pipe;
  long long n = 0;
  int rc = ATH_OK;
  switch (o->id) {
  case O_HELP:
    a->help = true;
    break;
  case O_QUIET:
    p->quiet = true;
    break;
  case O_LAKE:
    p->lake = v;
    a->lake_given = true;
    break;
  case O_SOURCE:
    p->source = v;
    break;
  case O_FORMATS:
    rc = parse_formats(v, p, err);
    break;
  case O_COMPRESSION:
    rc = pq_codec_parse(v, &p->pq.codec, err);
    break;
  case O_ZSTD_LEVEL:
    if ((rc = parse_int(o->name, v, 1, 22, &n, err)) == ATH_OK) p->pq.zstd_level = (int)n;
    break;
  case O_HDF5_IO:
    if (strcmp(v, "direct") == 0 || strcmp(v, "buffered") == 0)
      p->hdf5_buffered = v[0] == 'b';
    else
      rc = ath_fail(err, ATH_EUSAGE, "--hdf5-io: '%s' is not direct or buffered", v);
    break;
  case O_MAX_REJECT:
    rc = parse_double(o->name, v, 0, 1, &p->max_reject_fraction, err);
    break;
  case O_KEEP_CHARS:
    rc = silver_parse_keep_chars(v, &p->silver, err);
    break;
  case O_SHUFFLE_MB:
    if ((rc = parse_int(o->name, v, 1, 1024, &n, err)) == ATH_OK) p->round_bytes = (size_t)n << 20;
    break;
  case O_PROGRESS:
    if (strcmp(v, "auto") == 0)
      p->progress = PROGRESS_AUTO;
    else if (strcmp(v, "always") == 0)
      p->progress = PROGRESS_ALWAYS;
    else if (strcmp(v, "never") == 0)
      p->progress = PROGRESS_NEVER;
    else if (strcmp(v, "bar") == 0)
      p->progress = PROGRESS_BAR;
    else
      rc = ath_fail(err, ATH_EUSAGE, "--progress: '%s' is not auto, bar, always or never", v);
    break;
  case O_METRICS:
    p->metrics_path = v;
    break;
  case O_SCALE:
    rc = parse_double(o->name, v, 1e-6, 1000, &a->scale, err);
    break;
  case O_SEED:
    if ((rc = parse_int(o->name, v, 0, INT64_MAX, &n, err)) == ATH_OK) a->seed = (uint64_t)n;
    break;
  case O_OUT:
    a->out = v;
    break;
  case O_LIMIT:
    if ((rc = parse_int(o->name, v, 0, INT64_MAX, &n, err)) == ATH_OK) a->limit = n;
    break;
  case O_BROKERS:
    a->kafka.brokers = v;
    break;
  case O_PROP:
    if (a->kafka.nprops == KAFKA_MAX_PROPS)
      rc = ath_fail(err, ATH_EUSAGE, "-X: at most %d properties", KAFKA_MAX_PROPS);
    else
      a->kafka.props[a->kafka.nprops++] = v;
    break;
  case O_PROP_FILE:
    if (a->kafka.nfiles == KAFKA_MAX_FILES)
      rc = ath_fail(err, ATH_EUSAGE, "-F: at most %d files", KAFKA_MAX_FILES);
    else
      a->kafka.files[a->kafka.nfiles++] = v;
    break;
  case O_TIMEOUT:
    rc = parse_double(o->name, v, 0.1, 86400, &a->kafka.timeout_s, err);
    break;
  case O_TOPIC:
  case O_MOCK_TOPIC:
    rc = add_to_list(a->topics, &a->ntopics, o->name, v, err);
    break;
  case O_TABLE:
    a->produce_table = v;
    break;
  case O_TRANSACTION_MS:
    if ((rc = parse_int(o->name, v, 0, 3600000, &n, err)) == ATH_OK) a->transaction_ms = (int)n;
    break;
  case O_PARTITIONS:
    if ((rc = parse_int(o->name, v, 1, 1000000, &n, err)) == ATH_OK) a->partitions = (int)n;
    break;
  case O_REPLICATION:
    if ((rc = parse_int(o->name, v, 1, 1000, &n, err)) == ATH_OK) a->replication = (int)n;
    break;
  case O_CONFIG:
    rc = add_to_list(a->configs, &a->nconfigs, o->name, v, err);
    break;
  case O_IF_NOT_EXISTS:
    a->if_not_exists = true;
    break;
  case O_IF_EXISTS:
    a->if_exists = true;
    break;
  case O_JSON:
    a->json = true;
    break;
  case O_EXCLUDE_INTERNAL:
    a->exclude_internal = true;
    break;
  case O_MOCK_BROKERS:
    if ((rc = parse_int(o->name, v, 1, 64, &n, err)) == ATH_OK) a->mock_brokers = (int)n;
    break;
  case O_BOOTSTRAP_FILE:
    a->bootstrap_file = v;
    break;
  case O_CONTROL:
    a->control = v;
    break;
  case O_GROUP:
    a->group = v;
    break;
  case O_BATCH_ROWS:
    if ((rc = parse_int(o->name, v, 1, 100000000, &n, err)) == ATH_OK) a->batch_rows = n;
    break;
  case O_BATCH_MS:
    if ((rc = parse_int(o->name, v, 1, 3600000, &n, err)) == ATH_OK) a->batch_ms = (int)n;
    break;
  case O_UNTIL_IDLE:
    rc = parse_double(o->name, v, 0.1, 86400, &a->until_idle_s, err);
    break;
  case O_MAX_MESSAGE_BYTES:
    if ((rc = parse_int(o->name, v, 1, 1 << 30, &n, err)) == ATH_OK) a->max_message_bytes = n;
    break;
  case O_TABLES:
    rc = parse_tables(v, p, err);
    break;
  case O_OUT_TOPIC:
    a->out_topic = v;
    break;
  case O_REPORT_OUT:
    a->report_out = v;
    break;
  case O_SHOW_FORMAT:
    if (strcmp(v, "table") != 0 && strcmp(v, "csv") != 0 && strcmp(v, "json") != 0)
      rc = ath_fail(err, ATH_EUSAGE, "--format: '%s' is not table, csv or json", v);
    a->show_format = v;
    break;
  }
  return rc;
}

/* A positional argument: show's LAYER/TABLE, topics' ACTION. */
static int positional(const char *arg, unsigned groups, cli_args *a, ath_error *err) {
  if ((groups & OPTS_SHOW) && !a->table) {
    a->table = arg;
    return ATH_OK;
  }
  if ((groups & OPTS_TOPICS) && !a->action) {
    a->action = arg;
    return ATH_OK;
  }
  return ath_fail(err, ATH_EUSAGE, "unexpected argument '%s'", arg);
}

/* What a command needs beyond its options' own checks. */
static int check_required(unsigned groups, const cli_args *a, ath_error *err) {
  if ((groups & OPTS_SOURCE) && !a->pipe.source)
    return ath_fail(err, ATH_EUSAGE, "--source DIR|URL is required");
  if ((groups & OPTS_GEN) && !a->out) return ath_fail(err, ATH_EUSAGE, "--out DIR is required");
  if ((groups & OPTS_SHOW) && !a->table)
    return ath_fail(err, ATH_EUSAGE, "name a table, e.g. gold/avg_stats");
  if ((groups & (OPTS_PRODUCE | OPTS_INGEST)) && a->ntopics != 1)
    return ath_fail(err, ATH_EUSAGE, "name one topic: --topic NAME");
  if ((groups & OPTS_INGEST) && !a->group)
    return ath_fail(err, ATH_EUSAGE, "name the consumer group: --group ID");
  if ((groups & (OPTS_PRODUCE | OPTS_INGEST)) && !table_desc_find(a->produce_table))
    return ath_fail(err, ATH_EUSAGE, "--table: '%s' is not athlete_event_results or athlete_bio",
                    a->produce_table);
  if ((groups & OPTS_STATS) && !a->out_topic)
    return ath_fail(err, ATH_EUSAGE, "name the output topic: --out-topic NAME");
  if ((groups & OPTS_STATS) && strcmp(a->produce_table, TABLE_RESULTS) != 0)
    return ath_fail(err, ATH_EUSAGE, "stream-stats reads %s messages only", TABLE_RESULTS);
  if ((groups & OPTS_STATS) && a->out_topic && strcmp(a->out_topic, a->topics[0]) == 0)
    return ath_fail(err, ATH_EUSAGE, "--out-topic must differ from --topic");
  if ((groups & OPTS_TOPICS) && !a->action)
    return ath_fail(err, ATH_EUSAGE, "name an action: list, describe, create or delete");
  return ATH_OK;
}

int cli_parse(int argc, char **argv, unsigned groups, cli_args *a, ath_error *err) {
  memset(a, 0, sizeof *a);
  pipeline_opts_default(&a->pipe);
  kafka_opts_default(&a->kafka);
  a->scale = 1;
  a->seed = 42;
  a->limit = 10;
  a->show_format = "table";
  a->report_out = "report.html";
  a->produce_table = TABLE_RESULTS;
  a->transaction_ms = 1000;
  a->mock_brokers = 3;
  a->batch_rows = 100000;
  a->max_message_bytes = 1 << 20;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (arg[0] != '-' || arg[1] == '\0') {
      int rc = positional(arg, groups, a, err);
      if (rc != ATH_OK) return rc;
      continue;
    }
    char name[64];
    const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
    const opt_spec *o = find_option(name, groups);
    if (!o) return ath_fail(err, ATH_EUSAGE, "unknown option '%.*s'", arg[1] == '-' ? 62 : 2, name);
    const char *v = NULL;
    if (o->arg && arg[1] != '-' && arg[2] != '\0') {
      v = arg + 2; /* -Xkey=value */
    } else if (o->arg) {
      v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
      if (!v) return ath_fail(err, ATH_EUSAGE, "option '%s' needs a value (%s)", name, o->arg);
    } else if (eq) {
      return ath_fail(err, ATH_EUSAGE, "option '%s' takes no value", name);
    }
    int rc = apply(o, v, a, err);
    if (rc != ATH_OK) return rc;
  }
  if (a->help) return ATH_OK;
  return check_required(groups, a, err);
}

void cli_help(FILE *f, const char *name, const char *summary, const char *usage, unsigned groups) {
  fprintf(f, "athlete %s: %s\n\nusage: %s\n\noptions:\n", name, summary, usage);
  for (int i = 0; i < NOPTIONS; i++) {
    const opt_spec *o = &options[i];
    if (!(o->groups & (groups | OPTS_COMMON))) continue;
    char head[64];
    if (o->short_name)
      snprintf(head, sizeof head, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
               o->arg ? o->arg : "");
    else
      snprintf(head, sizeof head, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(f, "  %-32s %s\n", head, o->help);
  }
  fprintf(f, "\nexit codes: 0 ok, 1 failure, 2 usage error, 3 reject fraction exceeded\n");
}
