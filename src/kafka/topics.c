#include "kafka/topics.h"

#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef const struct rd_kafka_metadata metadata;
typedef const struct rd_kafka_metadata_topic mtopic;

static mtopic *find_topic(metadata *md, const char *name) {
  for (int i = 0; i < md->topic_cnt; i++)
    if (strcmp(md->topics[i].topic, name) == 0 && md->topics[i].err == 0) return &md->topics[i];
  return NULL;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((mtopic *)a)->topic, ((mtopic *)b)->topic);
}

/* The metadata's topics, sorted by name, without the internal ones when asked. *n gets their
 * count; the caller frees the array (not the topics). */
static mtopic *sorted_topics(metadata *md, bool exclude_internal, int *n) {
  mtopic *all = xcalloc((size_t)md->topic_cnt + 1, sizeof *all);
  *n = 0;
  for (int i = 0; i < md->topic_cnt; i++) {
    if (md->topics[i].err) continue;
    if (exclude_internal && strncmp(md->topics[i].topic, "__", 2) == 0) continue;
    memcpy((void *)&all[(*n)++], &md->topics[i], sizeof *all);
  }
  qsort((void *)all, (size_t)*n, sizeof *all, by_name);
  return all;
}

static void print_ids(FILE *f, const int32_t *ids, int n, bool json) {
  fputs(json ? "[" : "", f);
  for (int i = 0; i < n; i++)
    fprintf(f, "%s%d", i ? "," : "", ids[i]);
  fputs(json ? "]" : "", f);
}

/* ---- the controller ----------------------------------------------------------------------- */

/* Admin requests on topics go to the controller: a cluster whose metadata names a controller
 * that is none of its brokers cannot serve them (librdkafka would wait out the timeout). */
static bool controller_known(rd_kafka_t *rk, metadata *md, const kafka_opts *k, int32_t *id) {
  *id = rd_kafka_controllerid(rk, (int)(k->timeout_s * 1000));
  for (int b = 0; b < md->broker_cnt; b++)
    if (md->brokers[b].id == *id) return true;
  return false;
}

static int check_controller(rd_kafka_t *rk, metadata *md, const kafka_topics_opts *o,
                            const char *api, ath_error *err) {
  int32_t id;
  if (controller_known(rk, md, o->kafka, &id)) return ATH_OK;
  char ids[256] = "";
  size_t len = 0;
  for (int b = 0; b < md->broker_cnt && len < sizeof ids - 16; b++)
    len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%d", b ? ", " : "", md->brokers[b].id);
  return ath_fail(err, ATH_ERR,
                  "%s is not available: the cluster at %s names controller %d, which is none of "
                  "its brokers (%s), so it cannot serve the Admin API's %s request. librdkafka's "
                  "mock cluster (athlete kafka-mock) implements neither CreateTopics nor "
                  "DeleteTopics: create topics when it starts, 'athlete kafka-mock --topic "
                  "NAME:PARTITIONS', or with its control command 'topic NAME:PARTITIONS'",
                  api, kafka_brokers(o->kafka), id, ids, api);
}

/* ---- configs (DescribeConfigs) ------------------------------------------------------------ */

/* Non-default configs of each topic, as "k=v,k=v" strings; NULL entries where unknown. Asks
 * the controller once for all topics, within the timeout; a cluster without a controller or
 * without DescribeConfigs gives NULLs. */
static char **describe_configs(rd_kafka_t *rk, metadata *md, const kafka_opts *o, mtopic *t,
                               int n) {
  char **out = xcalloc((size_t)n + 1, sizeof *out);
  int32_t id;
  if (n == 0 || !controller_known(rk, md, o, &id)) return out;
  rd_kafka_ConfigResource_t **res = xcalloc((size_t)n, sizeof *res);
  for (int i = 0; i < n; i++)
    res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t[i].topic);
  rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(ao, (int)(o->timeout_s * 1000), errstr, sizeof errstr);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_DescribeConfigs(rk, res, (size_t)n, ao, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)(o->timeout_s * 1000) + 1000);
  const rd_kafka_DescribeConfigs_result_t *r =
      ev ? rd_kafka_event_DescribeConfigs_result(ev) : NULL;
  if (r && !rd_kafka_event_error(ev)) {
    size_t cnt;
    const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(r, &cnt);
    for (size_t i = 0; i < cnt; i++) {
      int k = -1;
      for (int j = 0; j < n && k < 0; j++)
        if (strcmp(t[j].topic, rd_kafka_ConfigResource_name(rs[i])) == 0) k = j;
      if (k < 0 || rd_kafka_ConfigResource_error(rs[i])) continue;
      size_t ne, len = 0, cap = 1;
      const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(rs[i], &ne);
      char *s = xcalloc(1, 1);
      for (size_t j = 0; j < ne; j++) {
        const char *name = rd_kafka_ConfigEntry_name(e[j]), *v = rd_kafka_ConfigEntry_value(e[j]);
        if (rd_kafka_ConfigEntry_is_default(e[j]) || rd_kafka_ConfigEntry_is_sensitive(e[j]))
          continue;
        size_t add = strlen(name) + (v ? strlen(v) : 0) + 3;
        grow_array((void **)&s, &cap, len + add, 1);
        len += (size_t)snprintf(s + len, cap - len, "%s%s=%s", len ? "," : "", name, v ? v : "");
      }
      out[k] = s;
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(ao);
  for (int i = 0; i < n; i++)
    rd_kafka_ConfigResource_destroy(res[i]);
  free(res);
  return out;
}

/* ---- list, describe ----------------------------------------------------------------------- */

static int do_list(metadata *md, const kafka_topics_opts *o) {
  int n;
  mtopic *t = sorted_topics(md, o->exclude_internal, &n);
  if (o->json) fputs("[", stdout);
  for (int i = 0; i < n; i++) {
    if (o->json) {
      fputs(i ? ", " : "", stdout);
      json_write_cstr(stdout, t[i].topic);
    } else {
      printf("%s\n", t[i].topic);
    }
  }
  if (o->json) fputs("]\n", stdout);
  free((void *)t);
  return ATH_OK;
}

static void describe_text(mtopic *t, const char *configs) {
  int rf = t->partition_cnt > 0 ? t->partitions[0].replica_cnt : 0;
  printf("Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n", t->topic,
         t->partition_cnt, rf, configs ? configs : "");
  for (int p = 0; p < t->partition_cnt; p++) {
    const struct rd_kafka_metadata_partition *mp = &t->partitions[p];
    printf("\tTopic: %s\tPartition: %d\tLeader: ", t->topic, mp->id);
    if (mp->leader >= 0)
      printf("%d", mp->leader);
    else
      fputs("none", stdout);
    fputs("\tReplicas: ", stdout);
    print_ids(stdout, mp->replicas, mp->replica_cnt, false);
    fputs("\tIsr: ", stdout);
    print_ids(stdout, mp->isrs, mp->isr_cnt, false);
    fputc('\n', stdout);
  }
}

static void describe_json(mtopic *t, const char *configs, bool first) {
  int rf = t->partition_cnt > 0 ? t->partitions[0].replica_cnt : 0;
  printf("%s\n    {\"name\": ", first ? "" : ",");
  json_write_cstr(stdout, t->topic);
  printf(", \"partition_count\": %d, \"replication_factor\": %d, \"configs\": %s", t->partition_cnt,
         rf, configs ? "{" : "null");
  if (configs) {
    char *dup = xstrdup(configs);
    int k = 0;
    for (char *save = NULL, *kv = strtok_r(dup, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(kv, '=');
      if (!eq) continue;
      *eq = '\0';
      fputs(k++ ? ", " : "", stdout);
      json_write_cstr(stdout, kv);
      fputs(": ", stdout);
      json_write_cstr(stdout, eq + 1);
    }
    free(dup);
    fputs("}", stdout);
  }
  fputs(", \"partitions\": [", stdout);
  for (int p = 0; p < t->partition_cnt; p++) {
    const struct rd_kafka_metadata_partition *mp = &t->partitions[p];
    printf("%s{\"partition\": %d, \"leader\": ", p ? ", " : "", mp->id);
    if (mp->leader >= 0)
      printf("%d", mp->leader);
    else
      fputs("null", stdout);
    fputs(", \"replicas\": ", stdout);
    print_ids(stdout, mp->replicas, mp->replica_cnt, true);
    fputs(", \"isr\": ", stdout);
    print_ids(stdout, mp->isrs, mp->isr_cnt, true);
    fputs("}", stdout);
  }
  fputs("]}", stdout);
}

static int do_describe(rd_kafka_t *rk, metadata *md, const kafka_topics_opts *o, ath_error *err) {
  int n;
  mtopic *all = sorted_topics(md, o->exclude_internal, &n);
  mtopic *t = all;
  if (o->ntopics > 0) { /* the named topics, in the order given */
    t = xcalloc((size_t)o->ntopics, sizeof *t);
    for (int i = 0; i < o->ntopics; i++) {
      mtopic *f = find_topic(md, o->topics[i]);
      if (!f) {
        free((void *)t);
        free((void *)all);
        return ath_fail(err, ATH_ERR, "topic '%s' does not exist on %s", o->topics[i],
                        kafka_brokers(o->kafka));
      }
      memcpy((void *)&t[i], f, sizeof *t);
    }
    n = o->ntopics;
  }
  char **configs = describe_configs(rk, md, o->kafka, t, n);
  if (o->json) {
    printf("{\"brokers\": [");
    for (int b = 0; b < md->broker_cnt; b++) {
      printf("%s{\"id\": %d, \"host\": ", b ? ", " : "", md->brokers[b].id);
      json_write_cstr(stdout, md->brokers[b].host);
      printf(", \"port\": %d}", md->brokers[b].port);
    }
    printf("],\n  \"topics\": [");
  }
  for (int i = 0; i < n; i++) {
    if (o->json)
      describe_json(&t[i], configs[i], i == 0);
    else
      describe_text(&t[i], configs[i]);
  }
  if (o->json) printf("\n  ]}\n");
  for (int i = 0; i < n; i++)
    free(configs[i]);
  free(configs);
  if (t != all) free((void *)t);
  free((void *)all);
  return ATH_OK;
}

/* ---- create, delete ----------------------------------------------------------------------- */

/* Waits for an Admin result event; NULL after the timeout. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, const kafka_opts *k) {
  return rd_kafka_queue_poll(q, (int)(k->timeout_s * 1000) + 2000);
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                              const kafka_opts *k) {
  rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, op);
  char errstr[256];
  int ms = (int)(k->timeout_s * 1000);
  rd_kafka_AdminOptions_set_request_timeout(ao, ms, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(ao, ms, errstr, sizeof errstr);
  return ao;
}

/* The message for a failed Admin request as a whole. */
static int admin_failure(rd_kafka_event_t *ev, const char *api, const kafka_topics_opts *o,
                         ath_error *err) {
  if (!ev)
    return ath_fail(err, ATH_ERR, "%s: no answer from %s within --timeout %g s", api,
                    kafka_brokers(o->kafka), o->kafka->timeout_s);
  rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
  if (e == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || e == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION)
    return ath_fail(err, ATH_ERR,
                    "%s is not supported by the brokers at %s (%s); on librdkafka's mock cluster "
                    "create topics with 'athlete kafka-mock --topic NAME:PARTITIONS'",
                    api, kafka_brokers(o->kafka), rd_kafka_event_error_string(ev));
  return ath_fail(err, ATH_ERR, "%s: %s", api, rd_kafka_event_error_string(ev));
}

/* Per-topic results: ok, or an error that --if-not-exists / --if-exists forgives. */
static int topic_results(const rd_kafka_topic_result_t **r, size_t n, const char *verb,
                         rd_kafka_resp_err_t forgiven, ath_error *err) {
  int rc = ATH_OK;
  for (size_t i = 0; i < n; i++) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(r[i]);
    const char *name = rd_kafka_topic_result_name(r[i]);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
      printf("%s topic %s.\n", verb, name);
    else if (e == forgiven)
      printf("Topic %s: %s (ignored).\n", name, rd_kafka_err2str(e));
    else if (rc == ATH_OK)
      rc = ath_fail(err, ATH_ERR, "topic '%s': %s", name,
                    rd_kafka_topic_result_error_string(r[i])
                        ? rd_kafka_topic_result_error_string(r[i])
                        : rd_kafka_err2str(e));
  }
  return rc;
}

/* Sends CreateTopics (items: rd_kafka_NewTopic_t *[]) or DeleteTopics (rd_kafka_DeleteTopic_t
 * *[]) and waits for the per-topic results, bounded by the timeout. */
static int admin_topics(rd_kafka_t *rk, const kafka_topics_opts *o, rd_kafka_admin_op_t op,
                        void *items, size_t n, rd_kafka_resp_err_t forgiven, ath_error *err) {
  bool create = op == RD_KAFKA_ADMIN_OP_CREATETOPICS;
  const char *api = create ? "CreateTopics" : "DeleteTopics";
  rd_kafka_AdminOptions_t *ao = admin_options(rk, op, o->kafka);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  if (create)
    rd_kafka_CreateTopics(rk, items, n, ao, q);
  else
    rd_kafka_DeleteTopics(rk, items, n, ao, q);
  rd_kafka_event_t *ev = admin_wait(q, o->kafka);
  const rd_kafka_topic_result_t **tr = NULL;
  size_t cnt = 0;
  if (ev && !rd_kafka_event_error(ev)) {
    if (create && rd_kafka_event_CreateTopics_result(ev))
      tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    if (!create && rd_kafka_event_DeleteTopics_result(ev))
      tr = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
  }
  int rc = tr ? topic_results(tr, cnt, create ? "Created" : "Deleted", forgiven, err)
              : admin_failure(ev, api, o, err);
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_AdminOptions_destroy(ao);
  return rc;
}

static int do_create(rd_kafka_t *rk, metadata *md, const kafka_topics_opts *o, ath_error *err) {
  const char *todo[KAFKA_TOPICS_MAX];
  int n = 0;
  for (int i = 0; i < o->ntopics; i++) {
    if (!find_topic(md, o->topics[i])) {
      todo[n++] = o->topics[i];
    } else if (o->if_not_exists) {
      printf("Topic %s already exists (ignored).\n", o->topics[i]);
    } else {
      return ath_fail(err, ATH_ERR, "topic '%s' already exists (--if-not-exists ignores that)",
                      o->topics[i]);
    }
  }
  if (n == 0) return ATH_OK;
  int rc = check_controller(rk, md, o, "CreateTopics", err);
  if (rc != ATH_OK) return rc;
  rd_kafka_NewTopic_t *nt[KAFKA_TOPICS_MAX];
  char errstr[512];
  for (int i = 0; i < n; i++) {
    nt[i] = rd_kafka_NewTopic_new(todo[i], o->partitions ? o->partitions : -1,
                                  o->replication ? o->replication : -1, errstr, sizeof errstr);
    if (!nt[i]) {
      for (int j = 0; j < i; j++)
        rd_kafka_NewTopic_destroy(nt[j]);
      return ath_fail(err, ATH_EUSAGE, "topic '%s': %s", todo[i], errstr);
    }
    for (int c = 0; c < o->nconfigs && rc == ATH_OK; c++) {
      char *kv = xstrdup(o->configs[c]), *eq = strchr(kv, '=');
      if (!eq || eq == kv)
        rc = ath_fail(err, ATH_EUSAGE, "--config %s: expected key=value", o->configs[c]);
      else {
        *eq = '\0';
        rd_kafka_NewTopic_set_config(nt[i], kv, eq + 1);
      }
      free(kv);
    }
  }
  if (rc == ATH_OK) {
    rc = admin_topics(rk, o, RD_KAFKA_ADMIN_OP_CREATETOPICS, nt, (size_t)n,
                      o->if_not_exists ? RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS : 0, err);
  }
  for (int i = 0; i < n; i++)
    rd_kafka_NewTopic_destroy(nt[i]);
  return rc;
}

static int do_delete(rd_kafka_t *rk, metadata *md, const kafka_topics_opts *o, ath_error *err) {
  rd_kafka_DeleteTopic_t *dt[KAFKA_TOPICS_MAX];
  int n = 0;
  for (int i = 0; i < o->ntopics; i++) {
    if (find_topic(md, o->topics[i])) {
      dt[n++] = rd_kafka_DeleteTopic_new(o->topics[i]);
    } else if (o->if_exists) {
      printf("Topic %s does not exist (ignored).\n", o->topics[i]);
    } else {
      for (int j = 0; j < n; j++)
        rd_kafka_DeleteTopic_destroy(dt[j]);
      return ath_fail(err, ATH_ERR, "topic '%s' does not exist (--if-exists ignores that)",
                      o->topics[i]);
    }
  }
  int rc = n ? check_controller(rk, md, o, "DeleteTopics", err) : ATH_OK;
  if (rc == ATH_OK && n) {
    rc = admin_topics(rk, o, RD_KAFKA_ADMIN_OP_DELETETOPICS, dt, (size_t)n,
                      o->if_exists ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART : 0, err);
  }
  for (int j = 0; j < n; j++)
    rd_kafka_DeleteTopic_destroy(dt[j]);
  return rc;
}

int kafka_topics_run(const kafka_topics_opts *o, ath_error *err) {
  const char *a = o->action ? o->action : "";
  bool list = !strcmp(a, "list"), describe = !strcmp(a, "describe"), create = !strcmp(a, "create"),
       del = !strcmp(a, "delete");
  if (!list && !describe && !create && !del)
    return ath_fail(err, ATH_EUSAGE, "name an action: list, describe, create or delete");
  if ((create || del) && o->ntopics == 0)
    return ath_fail(err, ATH_EUSAGE, "%s needs --topic NAME", a);
  rd_kafka_t *rk = NULL;
  /* The client must not create topics by asking for their metadata. */
  const char *const defaults[] = {"allow.auto.create.topics", "false", NULL};
  int rc = kafka_client_new(o->kafka, RD_KAFKA_PRODUCER, defaults, NULL, NULL, &rk, err);
  if (rc != ATH_OK) return rc;
  const struct rd_kafka_metadata *md = NULL;
  rc = kafka_metadata(rk, o->kafka, NULL, &md, err);
  if (rc == ATH_OK) {
    if (list) rc = do_list(md, o);
    if (describe) rc = do_describe(rk, md, o, err);
    if (create) rc = do_create(rk, md, o, err);
    if (del) rc = do_delete(rk, md, o, err);
  }
  fflush(stdout);
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_destroy(rk);
  return rc;
}
