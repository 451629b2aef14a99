#include "kafka/mock.h"

#include "kafka/kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  stop_requested = 1;
}

int kafka_topic_spec(const char *spec, char *name, size_t n, int *partitions, ath_error *err) {
  *partitions = 0;
  const char *colon = strchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  if (len == 0 || len >= n || len > 249)
    return ath_fail(err, ATH_EUSAGE, "topic '%s': a name of 1 to 249 characters is needed", spec);
  for (size_t i = 0; i < len; i++) {
    char ch = spec[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '.' || ch == '_' || ch == '-'))
      return ath_fail(err, ATH_EUSAGE,
                      "topic '%.*s': Kafka topic names hold only letters, digits, '.', '_', '-'",
                      (int)len, spec);
  }
  memcpy(name, spec, len);
  name[len] = '\0';
  if (!colon) return ATH_OK;
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || p < 1 || p > 100000)
    return ath_fail(err, ATH_EUSAGE, "topic '%s': expected NAME[:PARTITIONS], 1 to 100000", spec);
  *partitions = (int)p;
  return ATH_OK;
}

typedef struct mock {
  rd_kafka_t *rk;
  rd_kafka_mock_cluster_t *mc;
  int brokers;
  bool stop;
  FILE *out; /* where answers go: stdout; stderr for the --topics made at start */
} mock;

/* Answers a command on m->out ("ok: ..." or "error: ..."); returns ok. */
static int reply(mock *m, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int reply(mock *m, int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs(ok ? "ok: " : "error: ", m->out);
  vfprintf(m->out, fmt, ap);
  fputc('\n', m->out);
  fflush(m->out);
  va_end(ap);
  return ok;
}

/* The mock gives every partition min(3, brokers) replicas, whatever a topic asks for. */
static int create_topic(mock *m, const char *spec) {
  char name[256];
  int parts;
  ath_error e = {0};
  if (kafka_topic_spec(spec, name, sizeof name, &parts, &e) != ATH_OK)
    return reply(m, 0, "%s", e.msg);
  if (!parts) parts = 1;
  int rf = m->brokers < 3 ? m->brokers : 3;
  rd_kafka_resp_err_t r = rd_kafka_mock_topic_create(m->mc, name, parts, rf);
  if (r) return reply(m, 0, "topic %s: %s", name, rd_kafka_err2str(r));
  return reply(m, 1, "topic %s created: %d partitions, replication factor %d", name, parts, rf);
}

static bool parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = s ? strtol(s, &end, 10) : 0;
  if (!s || errno || end == s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

static const char *const mock_help =
    "commands: broker down ID | broker up ID | broker rtt ID MS | errors REQUEST COUNT ERROR | "
    "broker-errors ID REQUEST COUNT ERROR [MS] | clear REQUEST | topic NAME[:PARTITIONS] "
    "| topic-error NAME ERROR | leader TOPIC PARTITION ID | coordinator group|transaction KEY ID "
    "| stop";

/* Pushes `count` errors for request type `req` (on broker id, or the cluster when id < 0), each
 * response delayed by `delay` ms (broker only; NULL: none). ERROR may be NO_ERROR: with a delay,
 * that holds requests back without failing them (a JoinGroup answered after the client gave up
 * waiting, say). */
static int push_errors(mock *m, long id, const char *req, const char *count, const char *error,
                       const char *delay) {
  int key = req ? kafka_api_key(req) : -1;
  long n;
  rd_kafka_resp_err_t e;
  if (key < 0) return reply(m, 0, "unknown request type '%s'", req ? req : "");
  if (!parse_int(count, 1, 1000000, &n)) return reply(m, 0, "COUNT must be a number from 1");
  if (!error || kafka_err_parse(error, &e) != 0)
    return reply(m, 0, "unknown error '%s' (a Kafka error name such as NOT_LEADER_FOR_PARTITION)",
                 error ? error : "");
  long ms = 0;
  if (delay && !parse_int(delay, 0, 3600000, &ms))
    return reply(m, 0, "MS must be a number of milliseconds from 0 to 3600000");
  if (id < 0) {
    rd_kafka_resp_err_t *errs = xmalloc((size_t)n * sizeof *errs);
    for (long i = 0; i < n; i++)
      errs[i] = e;
    rd_kafka_mock_push_request_errors_array(m->mc, (int16_t)key, (size_t)n, errs);
    free(errs);
    return reply(m, 1, "the next %ld %s requests fail with %s", n, kafka_api_name(key),
                 rd_kafka_err2name(e));
  }
  for (long i = 0; i < n; i++) {
    rd_kafka_resp_err_t r = rd_kafka_mock_broker_push_request_error_rtts(
        m->mc, (int32_t)id, (int16_t)key, 1, e, (int)ms);
    if (r) return reply(m, 0, "broker %ld: %s", id, rd_kafka_err2str(r));
  }
  char late[64] = "";
  if (ms > 0) snprintf(late, sizeof late, ", answered %ld ms late", ms);
  return reply(m, 1, "the next %ld %s requests to broker %ld fail with %s%s", n,
               kafka_api_name(key), id, rd_kafka_err2name(e), late);
}

static int broker_cmd(mock *m, char **w, int nw) {
  long id, ms;
  if (nw < 3 || !parse_int(w[2], 1, m->brokers, &id))
    return reply(m, 0, "broker %s: a broker id from 1 to %d is needed", nw > 1 ? w[1] : "",
                 m->brokers);
  rd_kafka_resp_err_t r;
  if (strcmp(w[1], "down") == 0 && nw == 3) {
    if ((r = rd_kafka_mock_broker_set_down(m->mc, (int32_t)id))) goto fail;
    return reply(m, 1, "broker %ld down", id);
  }
  if (strcmp(w[1], "up") == 0 && nw == 3) {
    if ((r = rd_kafka_mock_broker_set_up(m->mc, (int32_t)id))) goto fail;
    return reply(m, 1, "broker %ld up", id);
  }
  if (strcmp(w[1], "rtt") == 0 && nw == 4 && parse_int(w[3], 0, 3600000, &ms)) {
    if ((r = rd_kafka_mock_broker_set_rtt(m->mc, (int32_t)id, (int)ms))) goto fail;
    return reply(m, 1, "broker %ld rtt %ld ms", id, ms);
  }
  return reply(m, 0, "usage: broker down ID | broker up ID | broker rtt ID MS");
fail:
  return reply(m, 0, "broker %ld: %s", id, rd_kafka_err2str(r));
}

/* Runs one control command line. */
static void run_command(mock *m, char *line) {
  char *w[8];
  int nw = 0;
  for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && nw < 8;
       t = strtok_r(NULL, " \t\r\n", &save))
    w[nw++] = t;
  if (nw == 0 || w[0][0] == '#') return;
  const char *c = w[0];
  long id, part;
  rd_kafka_resp_err_t e;
  if (strcmp(c, "help") == 0) {
    reply(m, 1, "%s", mock_help);
  } else if (strcmp(c, "stop") == 0) {
    m->stop = true;
    reply(m, 1, "stopping");
  } else if (strcmp(c, "broker") == 0) {
    broker_cmd(m, w, nw);
  } else if (strcmp(c, "errors") == 0 && nw == 4) {
    push_errors(m, -1, w[1], w[2], w[3], NULL);
  } else if (strcmp(c, "broker-errors") == 0 && (nw == 5 || nw == 6)) {
    if (!parse_int(w[1], 1, m->brokers, &id))
      reply(m, 0, "broker-errors: a broker id from 1 to %d is needed", m->brokers);
    else
      push_errors(m, id, w[2], w[3], w[4], nw == 6 ? w[5] : NULL);
  } else if (strcmp(c, "clear") == 0 && nw == 2) {
    int key = kafka_api_key(w[1]);
    if (key < 0) {
      reply(m, 0, "unknown request type '%s'", w[1]);
    } else {
      rd_kafka_mock_clear_request_errors(m->mc, (int16_t)key);
      reply(m, 1, "errors for %s cleared", kafka_api_name(key));
    }
  } else if (strcmp(c, "topic") == 0 && nw == 2) {
    create_topic(m, w[1]);
  } else if (strcmp(c, "topic-error") == 0 && nw == 3) {
    if (kafka_err_parse(w[2], &e) != 0) {
      reply(m, 0, "unknown error '%s'", w[2]);
    } else {
      rd_kafka_mock_topic_set_error(m->mc, w[1], e);
      reply(m, 1, "topic %s: requests fail with %s", w[1], rd_kafka_err2name(e));
    }
  } else if (strcmp(c, "leader") == 0 && nw == 4) {
    if (!parse_int(w[2], 0, 1000000, &part) || !parse_int(w[3], 1, m->brokers, &id))
      reply(m, 0, "usage: leader TOPIC PARTITION ID");
    else if ((e = rd_kafka_mock_partition_set_leader(m->mc, w[1], (int32_t)part, (int32_t)id)))
      reply(m, 0, "leader %s/%ld: %s", w[1], part, rd_kafka_err2str(e));
    else
      reply(m, 1, "%s partition %ld: leader is broker %ld", w[1], part, id);
  } else if (strcmp(c, "coordinator") == 0 && nw == 4) {
    if ((strcmp(w[1], "group") != 0 && strcmp(w[1], "transaction") != 0) ||
        !parse_int(w[3], 1, m->brokers, &id))
      reply(m, 0, "usage: coordinator group|transaction KEY ID");
    else if ((e = rd_kafka_mock_coordinator_set(m->mc, w[1], w[2], (int32_t)id)))
      reply(m, 0, "coordinator: %s", rd_kafka_err2str(e));
    else
      reply(m, 1, "%s %s: coordinator is broker %ld", w[1], w[2], id);
  } else {
    reply(m, 0, "unknown command '%s' (%s)", c, mock_help);
  }
}

/* One source of command lines: stdin or the FIFO. */
typedef struct source {
  int fd;
  char buf[4096];
  size_t n;
} source;

/* Reads what is available; runs every complete line. Returns false at end of input. */
static bool read_commands(mock *m, source *s) {
  ssize_t got = read(s->fd, s->buf + s->n, sizeof s->buf - 1 - s->n);
  if (got < 0) return errno == EINTR || errno == EAGAIN;
  if (got == 0) return false;
  s->n += (size_t)got;
  s->buf[s->n] = '\0';
  char *start = s->buf, *nl;
  while ((nl = memchr(start, '\n', s->n - (size_t)(start - s->buf)))) {
    *nl = '\0';
    run_command(m, start);
    start = nl + 1;
  }
  s->n -= (size_t)(start - s->buf);
  memmove(s->buf, start, s->n);
  if (s->n == sizeof s->buf - 1) s->n = 0; /* an endless line: drop it */
  return true;
}

/* Writes the bootstrap list to path atomically (temporary name, rename). */
static int write_bootstrap(const char *path, const char *list, ath_error *err) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return ath_fail(err, ATH_ERR, "--bootstrap-file %s: %s", tmp, strerror(errno));
  fprintf(f, "%s\n", list);
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return ath_fail(err, ATH_ERR, "--bootstrap-file %s: %s", path, strerror(e));
  }
  return ATH_OK;
}

static int open_fifo(const char *path, bool *created, ath_error *err) {
  struct stat sb;
  *created = false;
  if (stat(path, &sb) == 0 && !S_ISFIFO(sb.st_mode))
    return ath_fail(err, ATH_ERR, "--control %s: exists and is not a FIFO", path);
  if (stat(path, &sb) != 0) {
    if (mkfifo(path, 0600) != 0)
      return ath_fail(err, ATH_ERR, "--control %s: mkfifo: %s", path, strerror(errno));
    *created = true;
  }
  /* Read-write, so the FIFO never reports end of input when a writer closes. */
  int fd = open(path, O_RDWR | O_NONBLOCK);
  if (fd < 0) return ath_fail(err, ATH_ERR, "--control %s: %s", path, strerror(errno));
  return fd;
}

static void serve(mock *m, int fifo_fd) {
  source in = {.fd = -1}, ctl = {.fd = fifo_fd};
  /* stdin, unless it is the terminal of a background job (reading would stop the process). */
  if (!isatty(0) || tcgetpgrp(0) == getpgrp()) in.fd = 0;
  while (!stop_requested && !m->stop) {
    struct pollfd p[2];
    int np = 0;
    if (in.fd >= 0) p[np++] = (struct pollfd){.fd = in.fd, .events = POLLIN};
    if (ctl.fd >= 0) p[np++] = (struct pollfd){.fd = ctl.fd, .events = POLLIN};
    int r = poll(p, (nfds_t)np, 200);
    if (r <= 0) continue;
    for (int i = 0; i < np; i++) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      source *s = p[i].fd == in.fd ? &in : &ctl;
      if (!read_commands(m, s) && s == &in) in.fd = -1; /* stdin closed: keep running */
    }
  }
}

int kafka_mock_run(const kafka_mock_opts *o, ath_error *err) {
  char name[256];
  int parts;
  for (int i = 0; i < o->ntopics; i++)
    if (kafka_topic_spec(o->topics[i], name, sizeof name, &parts, err) != ATH_OK) return ATH_EUSAGE;
  mock m = {.brokers = o->brokers > 0 ? o->brokers : 3, .out = stderr};
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  m.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!m.rk) {
    rd_kafka_conf_destroy(conf);
    return ath_fail(err, ATH_ERR, "cannot start librdkafka: %s", errstr);
  }
  m.mc = rd_kafka_mock_cluster_new(m.rk, m.brokers);
  if (!m.mc) {
    rd_kafka_destroy(m.rk);
    return ath_fail(err, ATH_ERR, "cannot start the mock cluster (%d brokers)", m.brokers);
  }
  int rc = ATH_OK, fifo = -1;
  bool fifo_created = false;
  const char *list = rd_kafka_mock_cluster_bootstraps(m.mc);
  for (int i = 0; i < o->ntopics; i++)
    if (!create_topic(&m, o->topics[i]))
      rc = ath_fail(err, ATH_ERR, "cannot create topic '%s'", o->topics[i]);
  if (rc == ATH_OK && o->control) {
    fifo = open_fifo(o->control, &fifo_created, err);
    if (fifo < 0) rc = ATH_ERR;
  }
  if (rc == ATH_OK && o->bootstrap_file) rc = write_bootstrap(o->bootstrap_file, list, err);
  if (rc == ATH_OK) {
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("%s\n", list); /* stdout's first line: the bootstrap list alone */
    fflush(stdout);
    m.out = stdout;
    if (!o->quiet)
      fprintf(stderr,
              "athlete kafka-mock: %d brokers at %s (pid %d); control commands on stdin%s%s "
              "('help' lists them); SIGTERM or SIGINT stops it\n",
              m.brokers, list, (int)getpid(), o->control ? " and " : "",
              o->control ? o->control : "");
    serve(&m, fifo);
    if (!o->quiet) fprintf(stderr, "athlete kafka-mock: stopping\n");
    if (o->bootstrap_file) unlink(o->bootstrap_file);
  }
  if (fifo >= 0) close(fifo);
  if (fifo_created) unlink(o->control);
  rd_kafka_mock_cluster_destroy(m.mc);
  rd_kafka_destroy(m.rk);
  return rc;
}
