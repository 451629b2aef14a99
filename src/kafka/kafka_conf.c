/* Connection options -> librdkafka configuration, secrets, metadata, names of codes. */
#include "kafka/kafka.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void kafka_opts_default(kafka_opts *o) {
  memset(o, 0, sizeof *o);
  o->timeout_s = KAFKA_DEFAULT_TIMEOUT;
}

const char *kafka_brokers(const kafka_opts *o) {
  if (o->brokers && *o->brokers) return o->brokers;
  const char *env = getenv("ATHLETE_BROKERS");
  return env && *env ? env : KAFKA_DEFAULT_BROKERS;
}

bool kafka_is_secret(const char *name) {
  return strstr(name, "password") || strstr(name, "secret") || strstr(name, "key") ||
         strcmp(name, "sasl.oauthbearer.config") == 0 || strcmp(name, "sasl.jaas.config") == 0;
}

/* ---- remembered secret values ------------------------------------------------------------- */

#define MAX_SECRETS 64
static char *secrets[MAX_SECRETS];
static int nsecrets;

static void remember_secret(const char *value) {
  if (!*value) return;
  for (int i = 0; i < nsecrets; i++)
    if (strcmp(secrets[i], value) == 0) return;
  if (nsecrets < MAX_SECRETS) secrets[nsecrets++] = xstrdup(value);
}

void kafka_redact(char *text, size_t cap) {
  if (!nsecrets || !cap) return;
  char *out = xmalloc(cap);
  size_t o = 0;
  for (const char *p = text; *p && o + 1 < cap;) {
    int hit = -1;
    for (int i = 0; i < nsecrets && hit < 0; i++)
      if (strncmp(p, secrets[i], strlen(secrets[i])) == 0) hit = i;
    if (hit < 0) {
      out[o++] = *p++;
      continue;
    }
    for (int k = 0; k < 3 && o + 1 < cap; k++)
      out[o++] = '*';
    p += strlen(secrets[hit]);
  }
  out[o] = '\0';
  memcpy(text, out, o + 1);
  free(out);
}

/* ---- building a configuration ------------------------------------------------------------- */

/* Sets one property; `where` says where it came from ("-X", "FILE:LINE", "default"). */
static int set_prop(rd_kafka_conf_t *conf, const char *key, const char *value, const char *where,
                    ath_error *err) {
  bool secret = kafka_is_secret(key);
  if (secret) remember_secret(value);
  char errstr[512];
  if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK) return ATH_OK;
  if (secret) return ath_fail(err, ATH_EUSAGE, "%s %s: invalid value (not shown)", where, key);
  kafka_redact(errstr, sizeof errstr);
  return ath_fail(err, ATH_EUSAGE, "%s %s: %s", where, key, errstr);
}

/* Splits "key=value" at the first '='; trims spaces around both when `trim`. */
static bool split_kv(char *s, char **key, char **value, bool trim) {
  char *eq = strchr(s, '=');
  if (!eq || eq == s) return false;
  *eq = '\0';
  *key = s;
  *value = eq + 1;
  if (trim) {
    while (isspace((unsigned char)**key))
      (*key)++;
    for (char *e = eq; e > *key && isspace((unsigned char)e[-1]);)
      *--e = '\0';
    while (isspace((unsigned char)**value))
      (*value)++;
    for (char *e = *value + strlen(*value); e > *value && isspace((unsigned char)e[-1]);)
      *--e = '\0';
  }
  return **key != '\0';
}

static int apply_file(rd_kafka_conf_t *conf, const char *path, ath_error *err) {
  FILE *f = fopen(path, "r");
  if (!f) return ath_fail(err, ATH_ERR, "-F %s: cannot open: %s", path, strerror(errno));
  char line[8192], where[600];
  int rc = ATH_OK;
  for (int no = 1; rc == ATH_OK && fgets(line, sizeof line, f); no++) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (*p == '\0' || *p == '#') continue;
    char *key, *value;
    snprintf(where, sizeof where, "-F %s:%d:", path, no);
    if (!split_kv(p, &key, &value, true))
      rc = ath_fail(err, ATH_EUSAGE, "%s expected key=value (line not shown)", where);
    else
      rc = set_prop(conf, key, value, where, err);
  }
  fclose(f);
  return rc;
}

/* librdkafka's log lines, with secrets masked. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
  char line[2048];
  snprintf(line, sizeof line, "%s", buf);
  kafka_redact(line, sizeof line);
  fprintf(stderr, "%%%d|%s|%s| %s\n", level, fac, rk ? rd_kafka_name(rk) : "-", line);
}

int kafka_conf_build(const kafka_opts *o, const char *const *defaults, rd_kafka_conf_t **out,
                     ath_error *err) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_cb);
  int rc = set_prop(conf, "bootstrap.servers", kafka_brokers(o), "--brokers", err);
  for (int i = 0; rc == ATH_OK && defaults && defaults[i]; i += 2)
    rc = set_prop(conf, defaults[i], defaults[i + 1], "default", err);
  for (int i = 0; rc == ATH_OK && i < o->nfiles; i++)
    rc = apply_file(conf, o->files[i], err);
  for (int i = 0; rc == ATH_OK && i < o->nprops; i++) {
    char *kv = xstrdup(o->props[i]), *key, *value;
    if (!split_kv(kv, &key, &value, false))
      rc = ath_fail(err, ATH_EUSAGE, "-X %.*s: expected key=value", (int)strcspn(kv, "="), kv);
    else
      rc = set_prop(conf, key, value, "-X", err);
    free(kv);
  }
  if (rc != ATH_OK) {
    rd_kafka_conf_destroy(conf);
    return rc;
  }
  *out = conf;
  return ATH_OK;
}

int kafka_opts_check(const kafka_opts *o, ath_error *err) {
  rd_kafka_conf_t *conf = NULL;
  int rc = kafka_conf_build(o, NULL, &conf, err);
  if (conf) rd_kafka_conf_destroy(conf);
  return rc;
}

int kafka_client_new(const kafka_opts *o, rd_kafka_type_t type, const char *const *defaults,
                     void (*setup)(rd_kafka_conf_t *conf), void *opaque, rd_kafka_t **out,
                     ath_error *err) {
  rd_kafka_conf_t *conf = NULL;
  *out = NULL;
  int rc = kafka_conf_build(o, defaults, &conf, err);
  if (rc != ATH_OK) return rc;
  if (setup) setup(conf);
  rd_kafka_conf_set_opaque(conf, opaque);
  char errstr[512];
  *out = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (!*out) {
    rd_kafka_conf_destroy(conf);
    kafka_redact(errstr, sizeof errstr);
    return ath_fail(err, ATH_EUSAGE, "cannot create the Kafka client: %s", errstr);
  }
  return ATH_OK;
}

int kafka_metadata(rd_kafka_t *rk, const kafka_opts *o, const char *topic,
                   const struct rd_kafka_metadata **md, ath_error *err) {
  rd_kafka_topic_t *rkt = topic ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
  *md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, rkt == NULL, rkt, md, (int)(o->timeout_s * 1000));
  if (rkt) rd_kafka_topic_destroy(rkt);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return ATH_OK;
  char msg[ATH_ERRMSG_MAX];
  snprintf(msg, sizeof msg, "cannot reach the Kafka cluster at %s within %g s (%s)",
           kafka_brokers(o), o->timeout_s, rd_kafka_err2str(e));
  kafka_redact(msg, sizeof msg);
  return ath_fail(err, ATH_ERR, "%s", msg);
}

int kafka_err_parse(const char *name, rd_kafka_resp_err_t *out) {
  const struct rd_kafka_err_desc *d;
  size_t n;
  rd_kafka_get_err_descs(&d, &n);
  for (size_t i = 0; i < n; i++)
    if (d[i].name && strcasecmp(d[i].name, name) == 0) {
      *out = d[i].code;
      return 0;
    }
  char *end;
  long v = strtol(name, &end, 10);
  if (*name && !*end) {
    *out = (rd_kafka_resp_err_t)v;
    return 0;
  }
  return -1;
}

static const char *const api_names[] = {
    "Produce",
    "Fetch",
    "ListOffsets",
    "Metadata",
    "LeaderAndIsr",
    "StopReplica",
    "UpdateMetadata",
    "ControlledShutdown",
    "OffsetCommit",
    "OffsetFetch",
    "FindCoordinator",
    "JoinGroup",
    "Heartbeat",
    "LeaveGroup",
    "SyncGroup",
    "DescribeGroups",
    "ListGroups",
    "SaslHandshake",
    "ApiVersions",
    "CreateTopics",
    "DeleteTopics",
    "DeleteRecords",
    "InitProducerId",
    "OffsetForLeaderEpoch",
    "AddPartitionsToTxn",
    "AddOffsetsToTxn",
    "EndTxn",
    "WriteTxnMarkers",
    "TxnOffsetCommit",
    "DescribeAcls",
    "CreateAcls",
    "DeleteAcls",
    "DescribeConfigs",
    "AlterConfigs",
    "AlterReplicaLogDirs",
    "DescribeLogDirs",
    "SaslAuthenticate",
    "CreatePartitions",
};
#define NAPIS (int)(sizeof api_names / sizeof *api_names)

int kafka_api_key(const char *name) {
  for (int i = 0; i < NAPIS; i++)
    if (strcasecmp(api_names[i], name) == 0) return i;
  return -1;
}

const char *kafka_api_name(int key) {
  return key >= 0 && key < NAPIS ? api_names[key] : "?";
}
