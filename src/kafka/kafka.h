/* The Kafka client side shared by every Kafka command (SPEC §10): connection options, the
 * librdkafka configuration built from them, secret masking and error texts.
 *
 * Options, as kcat takes them: `--brokers LIST` (default $ATHLETE_BROKERS, else
 * localhost:9092), `-X key=value` (any librdkafka property, repeatable) and `-F FILE` (a
 * properties file: `key=value` lines, `#` comments, blank lines). They apply in this order,
 * later ones winning: the command's defaults, `--brokers`, every -F file in order, every -X in
 * order. So -X overrides a file, and both override what a command sets for itself (a user can
 * turn off the producer's idempotence, or raise its batching, at their own risk).
 *
 * Secrets. A property whose name contains "password", "secret" or "key" (ssl.key.pem,
 * ssl.key.password, sasl.oauthbearer.client.secret, ...) or is sasl.oauthbearer.config or
 * sasl.jaas.config is a secret: its value is never printed. Every secret value met while
 * building a configuration is remembered (for the life of the process) and kafka_redact()
 * replaces it with "***" in any text: every message that leaves a Kafka command, librdkafka's
 * own log lines included, goes through it. */
#ifndef ATHLETE_KAFKA_KAFKA_H
#define ATHLETE_KAFKA_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#define KAFKA_MAX_PROPS       64
#define KAFKA_MAX_FILES       8
#define KAFKA_DEFAULT_BROKERS "localhost:9092"
#define KAFKA_DEFAULT_TIMEOUT 30.0

typedef struct kafka_opts {
  const char *brokers;                /* --brokers; NULL: $ATHLETE_BROKERS or the default */
  const char *props[KAFKA_MAX_PROPS]; /* -X key=value, in order */
  int nprops;
  const char *files[KAFKA_MAX_FILES]; /* -F FILE, in order */
  int nfiles;
  double timeout_s; /* --timeout: bound on reaching the cluster and on each request */
} kafka_opts;

void kafka_opts_default(kafka_opts *o);

/* The bootstrap list in effect: --brokers, else $ATHLETE_BROKERS, else localhost:9092. */
const char *kafka_brokers(const kafka_opts *o);

/* True when a property of this name holds a secret (see above). */
bool kafka_is_secret(const char *name);

/* Replaces every remembered secret value in the NUL-terminated text (capacity cap) with
 * "***". */
void kafka_redact(char *text, size_t cap);

/* Builds a configuration (see the order above). `defaults` is a NULL-terminated list of
 * key, value pairs (or NULL). An unknown property or an invalid value is ATH_EUSAGE naming the
 * property and where it came from (-X, or FILE:LINE), never a secret's value; an unreadable
 * file is ATH_ERR. On success *out is the caller's (rd_kafka_new takes it, or
 * rd_kafka_conf_destroy). The configuration logs through kafka_redact to stderr. */
int kafka_conf_build(const kafka_opts *o, const char *const *defaults, rd_kafka_conf_t **out,
                     ath_error *err);

/* Checks the options without connecting (every command does this before it starts, so a bad
 * property is a usage error, exit 2). */
int kafka_opts_check(const kafka_opts *o, ath_error *err);

/* Creates a client of `type` from the options and `defaults` (as kafka_conf_build), with
 * `opaque` as its rd_kafka_opaque(). `setup` (may be NULL) adds callbacks to the configuration
 * before the client is made. */
int kafka_client_new(const kafka_opts *o, rd_kafka_type_t type, const char *const *defaults,
                     void (*setup)(rd_kafka_conf_t *conf), void *opaque, rd_kafka_t **out,
                     ath_error *err);

/* Fetches the cluster's metadata (all topics, or only `topic`) within the options' timeout.
 * Unreachable brokers are ATH_ERR naming the bootstrap list and librdkafka's reason. The caller
 * frees *md with rd_kafka_metadata_destroy. */
int kafka_metadata(rd_kafka_t *rk, const kafka_opts *o, const char *topic,
                   const struct rd_kafka_metadata **md, ath_error *err);

/* The Kafka name of an error code ("NOT_LEADER_FOR_PARTITION"), or -1 / a name for a code. */
int kafka_err_parse(const char *name, rd_kafka_resp_err_t *out);

/* The ApiKey of a request type named as in the protocol ("Produce", "Fetch", "Metadata", ...;
 * case-insensitive); -1 when unknown. kafka_api_name is the reverse ("?" when unknown). */
int kafka_api_key(const char *name);
const char *kafka_api_name(int key);

#endif
