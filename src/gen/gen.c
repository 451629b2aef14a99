/* gen_write(): output sinks, athlete attributes, and the two writer threads. */
#include "gen/gen.h"
#include "gen/gen_internal.h"

#include "core/fsutil.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Hands the buffered bytes to the file; on a failed write remembers errno and drops the rest. */
void gen_out_flush(gen_out *o) {
  if (o->len && !o->err && fwrite(o->buf, 1, o->len, o->f) != o->len) o->err = errno ? errno : EIO;
  o->bytes += (int64_t)o->len;
  o->len = 0;
}

void gen_put_field(gen_out *o, const char *s, size_t n) {
  if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n)) {
    gen_put(o, s, n);
    return;
  }
  gen_putc(o, '"');
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') gen_putc(o, '"');
    gen_putc(o, s[i]);
  }
  gen_putc(o, '"');
}

/* Bio ids: idx + 1, except every 50th athlete gets a 7-digit id (idx + 1 + 8,000,000). The map
 * is injective because 8,000,000 is a multiple of 50. */
static uint64_t athlete_id_of(int64_t idx) {
  return (uint64_t)idx + 1 + (idx % 50 == 7 ? 8000000u : 0u);
}

void gen_athlete_of(uint64_t seed, int64_t idx, gen_athlete *a) {
  gen_rng r = {gen_mix(seed ^ 0x5bd1e995u) ^ gen_mix((uint64_t)idx + 0x632be59bd9b4e019ULL)};
  a->id = athlete_id_of(idx);
  a->female = gen_chance(&r, 280000);
  a->first = (int)gen_below(&r, (uint32_t)(a->female ? gen_n_first_female : gen_n_first_male));
  a->last = (int)gen_below(&r, (uint32_t)gen_n_last);
  a->noc = (int)(gen_chance(&r, 550000) ? gen_below(&r, (uint32_t)gen_n_big_nocs)
                                        : gen_below(&r, (uint32_t)gen_n_nocs));
}

size_t gen_athlete_name(const gen_athlete *a, char *buf, size_t cap) {
  const char *first = a->female ? gen_first_female[a->first] : gen_first_male[a->first];
  const char *last = gen_last[a->last];
  size_t nf = strlen(first), nl = strlen(last);
  if (nf + nl + 2 > cap) return buf[0] = '\0', 0;
  memcpy(buf, first, nf);
  buf[nf] = ' ';
  memcpy(buf + nf + 1, last, nl + 1);
  return nf + 1 + nl;
}

void gen_put_name_twin(gen_out *o, const char *name, size_t n) {
  size_t ascii = 0;
  for (size_t i = 0; i < n; i++)
    ascii += (unsigned char)name[i] < 0x80;
  if (ascii == n) {
    gen_put(o, name, n ? 1 : 0);
    gen_puts(o, "\xc3\xa9");
    if (n > 1) gen_put(o, name + 1, n - 1);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)name[i] < 0x80) gen_putc(o, name[i]);
}

void gen_put_name_bad_utf8(gen_out *o, const char *name, size_t n, int variant) {
  static const char *const bad[] = {"\xff", "\xc3(", "\x80", "\xc0\xaf", "\xed\xa0\x80"};
  size_t head = n ? 1 : 0;
  gen_put(o, name, head);
  gen_puts(o, bad[variant % 5]);
  gen_put(o, name + head, n - head);
}

typedef struct gen_file {
  const char *name; /* final file name in out_dir */
  void (*fill)(gen_file_job *);
  char tmp[4200], final[4200];
  gen_file_job job;
  pthread_t thread;
  int started;
} gen_file;

static void *file_thread(void *arg) {
  gen_file *g = arg;
  g->fill(&g->job);
  gen_out_flush(&g->job.out);
  return NULL;
}

/* Opens the temporary file and buffer of g. Returns ATH_OK or ATH_ERR (err filled). */
static int file_open(gen_file *g, const char *dir, ath_error *err) {
  snprintf(g->final, sizeof g->final, "%s/%s", dir, g->name);
  snprintf(g->tmp, sizeof g->tmp, "%s/.%s.tmp.%ld", dir, g->name, (long)getpid());
  g->job.out.f = fopen(g->tmp, "wb");
  if (!g->job.out.f) return ath_fail(err, ATH_ERR, "%s: %s", g->tmp, strerror(errno));
  g->job.out.buf = xmalloc(GEN_BUF_SIZE);
  return ATH_OK;
}

/* Closes g's file and frees its buffer. Returns ATH_OK, or ATH_ERR (err filled) when a write
 * or the close failed. Does not rename: see publish(). */
static int file_close(gen_file *g, ath_error *err) {
  int rc = ATH_OK;
  gen_out *o = &g->job.out;
  if (o->err) rc = ath_fail(err, ATH_ERR, "%s: write failed: %s", g->tmp, strerror(o->err));
  if (o->f && rc == ATH_OK && (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0))
    rc = ath_fail(err, ATH_ERR, "%s: %s", g->tmp, strerror(errno));
  if (o->f && fclose(o->f) != 0 && rc == ATH_OK)
    rc = ath_fail(err, ATH_ERR, "%s: %s", g->tmp, strerror(errno));
  o->f = NULL;
  free(o->buf);
  o->buf = NULL;
  return rc;
}

/* Renames both temporary files into place when rc is ATH_OK, else removes them. Returns the
 * final status. */
static int publish(gen_file *files, int n, int rc, ath_error *err) {
  for (int i = 0; i < n && rc == ATH_OK; i++)
    rc = fs_publish(files[i].tmp, files[i].final, true, NULL, err);
  if (rc != ATH_OK)
    for (int i = 0; i < n; i++)
      if (files[i].tmp[0]) unlink(files[i].tmp);
  return rc;
}

static int64_t scaled(double scale, int64_t real) {
  return (int64_t)llround(scale * (double)real);
}

/* Runs the two writer threads; returns ATH_OK or ATH_ERR. */
static int run_threads(gen_file *files, int n, ath_error *err) {
  int rc = ATH_OK;
  for (int i = 0; i < n && rc == ATH_OK; i++) {
    if (pthread_create(&files[i].thread, NULL, file_thread, &files[i]) != 0)
      rc = ath_fail(err, ATH_ERR, "gen: cannot start a writer thread");
    else
      files[i].started = 1;
  }
  for (int i = 0; i < n; i++)
    if (files[i].started) pthread_join(files[i].thread, NULL);
  return rc;
}

int gen_write(const gen_options *o, gen_stats *st, ath_error *err) {
  if (!o || !o->out_dir || !o->out_dir[0])
    return ath_fail(err, ATH_EUSAGE, "gen: an output directory is required");
  if (!(o->scale >= 0) || o->scale > 1000)
    return ath_fail(err, ATH_EUSAGE, "gen: scale must be between 0 and 1000, got %g", o->scale);
  int mrc = fs_mkdirs(o->out_dir, err);
  if (mrc != ATH_OK) return mrc;
  int64_t nbio = scaled(o->scale, GEN_BIO_REAL_ROWS);
  gen_file files[2] = {
      {.name = "athlete_bio.csv", .fill = gen_bio_file},
      {.name = "athlete_event_results.csv", .fill = gen_results_file},
  };
  files[0].job = (gen_file_job){.seed = o->seed, .rows = nbio, .bio_rows = nbio};
  files[1].job = (gen_file_job){
      .seed = o->seed, .rows = scaled(o->scale, GEN_RESULTS_REAL_ROWS), .bio_rows = nbio};
  int rc = ATH_OK;
  for (int i = 0; i < 2 && rc == ATH_OK; i++)
    rc = file_open(&files[i], o->out_dir, err);
  if (rc == ATH_OK) rc = run_threads(files, 2, err);
  for (int i = 0; i < 2; i++) {
    int crc = file_close(&files[i], err);
    if (rc == ATH_OK) rc = crc;
  }
  rc = publish(files, 2, rc, err);
  if (rc == ATH_OK && st)
    *st = (gen_stats){.bio_rows = files[0].job.rows,
                      .result_rows = files[1].job.rows,
                      .bio_bytes = files[0].job.out.bytes,
                      .result_bytes = files[1].job.out.bytes};
  return rc;
}
