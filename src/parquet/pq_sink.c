/* Byte sinks: a temporary file published by rename, or a memory buffer. File writes go
 * through a 1 MiB buffer; larger writes pass straight through. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "parquet/pq_internal.h"

#include "core/fsutil.h"

#define SINK_BUFFER (1u << 20)

int pq_sink_open_file(pq_sink *s, const char *path, ath_error *err) {
  *s = (pq_sink){.fd = -1};
  s->path = xstrdup(path);
  size_t n = strlen(path) + 5;
  s->tmp = xmalloc(n);
  snprintf(s->tmp, n, "%s.tmp", path);
  s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s->fd >= 0) return ATH_OK;
  int rc = ath_fail(err, ATH_ERR, "%s: %s", s->tmp, strerror(errno));
  free(s->path);
  free(s->tmp);
  *s = (pq_sink){.fd = -1};
  return rc;
}

void pq_sink_open_mem(pq_sink *s) {
  *s = (pq_sink){.fd = -1};
}

/* Writes all of p[0..n) to fd; returns ATH_OK or ATH_ERR naming the file. */
static int write_all(pq_sink *s, const uint8_t *p, size_t n, ath_error *err) {
  while (n > 0) {
    ssize_t got = write(s->fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ath_fail(err, ATH_ERR, "%s: write: %s", s->tmp, strerror(errno));
    p += got;
    n -= (size_t)got;
  }
  return ATH_OK;
}

static int flush(pq_sink *s, ath_error *err) {
  int rc = write_all(s, s->buf.data, s->buf.len, err);
  s->buf.len = 0;
  return rc;
}

int pq_sink_write(pq_sink *s, const void *p, size_t n, ath_error *err) {
  s->offset += n;
  if (s->fd < 0 || s->buf.len + n <= SINK_BUFFER) {
    pq_buf_put(&s->buf, p, n);
    return ATH_OK;
  }
  int rc = flush(s, err);
  if (rc != ATH_OK) return rc;
  if (n >= SINK_BUFFER) return write_all(s, p, n, err);
  pq_buf_put(&s->buf, p, n);
  return ATH_OK;
}

int pq_sink_finish(pq_sink *s, uint8_t **mem, size_t *mem_len, ath_error *err) {
  if (s->fd < 0 && !s->path) {
    *mem = s->buf.data;
    *mem_len = s->buf.len;
    s->buf = (pq_buf){0};
    return ATH_OK;
  }
  int rc = flush(s, err);
  if (rc == ATH_OK && fsync(s->fd) != 0)
    rc = ath_fail(err, ATH_ERR, "%s: fsync: %s", s->tmp, strerror(errno));
  if (close(s->fd) != 0 && rc == ATH_OK)
    rc = ath_fail(err, ATH_ERR, "%s: close: %s", s->tmp, strerror(errno));
  s->fd = -1;
  if (rc == ATH_OK) rc = fs_publish(s->tmp, s->path, true, NULL, err);
  if (rc != ATH_OK) {
    pq_sink_discard(s);
    return rc;
  }
  free(s->path);
  free(s->tmp);
  pq_buf_free(&s->buf);
  *s = (pq_sink){.fd = -1};
  return ATH_OK;
}

void pq_sink_discard(pq_sink *s) {
  if (s->fd >= 0) close(s->fd);
  if (s->tmp) unlink(s->tmp);
  free(s->path);
  free(s->tmp);
  pq_buf_free(&s->buf);
  *s = (pq_sink){.fd = -1};
}
