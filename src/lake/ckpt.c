#include "lake/ckpt.h"

#include "core/bytes.h"
#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "ATHCKPT1"

static void ckpt_path(char *out, size_t n, const char *dir, ckpt_name k) {
  snprintf(out, n, "%s/%020" PRIu64 ".%s", dir, k.seq, k.full ? "full" : "delta");
}

/* The checksum: FNV-1a's multiply over 8-byte words (little-endian, the host's order), with a
 * fold of the high half, then over the tail bytes. */
static uint64_t checksum(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    h = (h ^ load64(p + i)) * 0x100000001b3ull;
    h ^= h >> 32;
  }
  for (; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static int name_cmp(const void *x, const void *y) {
  const ckpt_name *a = x, *b = y;
  if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
  return (int)a->full - (int)b->full;
}

int ckpt_list(const char *dir, ckpt_name **out, int *n, ath_error *err) {
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return ATH_OK;
    return ath_fail(err, ATH_ERR, "%s: %s", dir, strerror(errno));
  }
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *s = e->d_name;
    size_t len = strlen(s);
    bool full = len == 25 && strcmp(s + 20, ".full") == 0;
    bool delta = len == 26 && strcmp(s + 20, ".delta") == 0;
    if (!full && !delta) continue;
    uint64_t seq = 0;
    bool digits = true;
    for (int i = 0; i < 20; i++) {
      digits = digits && s[i] >= '0' && s[i] <= '9';
      seq = seq * 10 + (uint64_t)(s[i] - '0');
    }
    if (!digits) continue;
    grow_array((void **)out, &cap, (size_t)*n + 1, sizeof **out);
    (*out)[(*n)++] = (ckpt_name){seq, full};
  }
  closedir(d);
  if (*n) qsort(*out, (size_t)*n, sizeof **out, name_cmp);
  return ATH_OK;
}

int ckpt_write(const char *dir, const ckpt *k, bool *exists, ath_error *err) {
  *exists = false;
  int rc = fs_mkdirs(dir, err);
  if (rc != ATH_OK) return rc;
  le_buf b = {0};
  le_put_bytes(&b, MAGIC, 8);
  le_put(&b, k->name.seq, 8);
  le_put(&b, k->name.full, 1);
  le_put(&b, (uint64_t)k->npos, 4);
  for (int i = 0; i < k->npos; i++) {
    le_put(&b, (uint32_t)k->pos[i].partition, 4);
    le_put(&b, (uint64_t)k->pos[i].next, 8);
  }
  le_put(&b, k->len, 8);
  le_put_bytes(&b, k->data, k->len);
  le_put(&b, checksum(b.p, b.len), 8);
  char path[4096 + 64];
  ckpt_path(path, sizeof path, dir, k->name);
  rc = fs_write_file(path, b.p, b.len, false, exists, err);
  free(b.p);
  if (rc != ATH_OK && *exists)
    rc = ath_fail(err, ATH_ERR, "%s exists already (written by another writer)", path);
  return rc;
}

int ckpt_read(const char *dir, ckpt_name name, ckpt *out, ath_error *err) {
  memset(out, 0, sizeof *out);
  char path[4096 + 64];
  ckpt_path(path, sizeof path, dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return ath_fail(err, ATH_ERR, "%s: %s", path, strerror(errno));
  uint8_t *b = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    grow_array((void **)&b, &cap, len + 65536, 1);
    size_t got = fread(b + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  bool ioerr = ferror(f);
  fclose(f);
  if (ioerr) {
    free(b);
    return ath_fail(err, ATH_ERR, "%s: read error", path);
  }
  le_reader r = {b, len >= 8 ? len - 8 : 0, 8, len < 16 || memcmp(b, MAGIC, 8) != 0};
  if (!r.bad && checksum(b, len - 8) != le_get(&(le_reader){b + len - 8, 8, 0, false}, 8))
    r.bad = true;
  out->name.seq = le_get(&r, 8);
  out->name.full = le_get(&r, 1) != 0;
  uint64_t np = le_get(&r, 4);
  if (!r.bad && np > (r.n - r.at) / 12) r.bad = true;
  if (!r.bad) out->pos = xcalloc(np + 1, sizeof *out->pos);
  for (uint64_t i = 0; !r.bad && i < np; i++) {
    out->pos[i].partition = (int32_t)(uint32_t)le_get(&r, 4);
    out->pos[i].next = (int64_t)le_get(&r, 8);
  }
  out->npos = (int)np;
  uint64_t dl = le_get(&r, 8);
  if (!r.bad && dl != r.n - r.at) r.bad = true;
  if (!r.bad && (out->name.seq != name.seq || out->name.full != name.full)) r.bad = true;
  if (r.bad) {
    free(b);
    ckpt_free(out);
    return ath_fail(err, ATH_ERR,
                    "%s: damaged checkpoint (truncated, or its checksum or name "
                    "does not match)",
                    path);
  }
  out->len = dl;
  out->data = xmalloc(dl + 1);
  memcpy(out->data, b + r.at, dl);
  free(b);
  return ATH_OK;
}

void ckpt_free(ckpt *k) {
  free(k->pos);
  free(k->data);
  memset(k, 0, sizeof *k);
}

int ckpt_remove(const char *dir, ckpt_name name, ath_error *err) {
  char path[4096 + 64];
  ckpt_path(path, sizeof path, dir, name);
  if (unlink(path) != 0 && errno != ENOENT)
    return ath_fail(err, ATH_ERR, "cannot remove %s: %s", path, strerror(errno));
  return fs_sync_dir(dir, err);
}
