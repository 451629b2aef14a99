/* Landing: where the CSV files come from. A folder is read in place; a URL (http, https, ftp,
 * file) is downloaded once, by rank 0 with libcurl, into <lake>/landing/, then read by all. */
#include "pipeline/pipeline.h"
#include "core/agree.h"

#include "core/fsutil.h"
#include "lake/lake.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool is_url(const char *s) {
  return strstr(s, "://") != NULL;
}

typedef struct download {
  pipeline_ctx *c;
  const char *name;
  double last;
} download;

static int on_progress(void *p, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un) {
  download *d = p;
  double t = ath_now();
  if (t - d->last < 1.0) return 0;
  d->last = t;
  if (total > 0)
    report_progress(d->c, "landing: downloading %s: %.1f of %.1f MB", d->name, (double)now / 1e6,
                    (double)total / 1e6);
  else
    report_progress(d->c, "landing: downloading %s: %.1f MB", d->name, (double)now / 1e6);
  return 0;
}

/* Downloads url to path (through path.part, renamed when complete). */
static int fetch(pipeline_ctx *c, const char *url, const char *path, const char *name,
                 ath_error *err) {
  char part[4200];
  snprintf(part, sizeof part, "%s.part", path);
  FILE *f = fopen(part, "wb");
  if (!f) return ath_fail(err, ATH_ERR, "cannot create %s: %s", part, strerror(errno));
  CURL *h = curl_easy_init();
  if (!h) {
    fclose(f);
    return ath_fail(err, ATH_ERR, "%s: cannot initialise libcurl", url);
  }
  char cerr[CURL_ERROR_SIZE] = "";
  download d = {c, name, ath_now()};
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &d);
  double t0 = ath_now();
  CURLcode cc = curl_easy_perform(h);
  curl_off_t got = 0;
  curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &got);
  curl_easy_cleanup(h);
  int bad = fclose(f) != 0;
  if (cc != CURLE_OK || bad) {
    unlink(part);
    return ath_fail(err, ATH_ERR, "cannot download %s: %s", url,
                    cc != CURLE_OK ? (cerr[0] ? cerr : curl_easy_strerror(cc)) : strerror(errno));
  }
  int fd = open(part, O_RDONLY);
  int synced = fd >= 0 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!synced) {
    unlink(part);
    return ath_fail(err, ATH_ERR, "cannot sync %s: %s", part, strerror(errno));
  }
  int prc = fs_publish(part, path, true, NULL, err);
  if (prc != ATH_OK) return prc;
  report_progress(c, "landing: downloaded %s: %.1f MB in %.2f s", name, (double)got / 1e6,
                  ath_now() - t0);
  return ATH_OK;
}

int landing_resolve(pipeline_ctx *c, const char *const *tables, int ntables, char (*paths)[4096],
                    ath_error *err) {
  const char *src = c->o->source;
  if (!src || !*src) return ath_fail(err, ATH_EUSAGE, "--source is required");
  char base[4096];
  snprintf(base, sizeof base, "%s", src);
  size_t n = strlen(base);
  while (n > 1 && base[n - 1] == '/')
    base[--n] = '\0';
  if (!is_url(src)) {
    for (int i = 0; i < ntables; i++)
      snprintf(paths[i], 4096, "%s/%s.csv", base, tables[i]);
    return ATH_OK;
  }
  char dir[LAKE_PATH_MAX];
  snprintf(dir, sizeof dir, "%s/landing", c->o->lake);
  for (int i = 0; i < ntables; i++)
    snprintf(paths[i], 4096, "%s/%s.csv", dir, tables[i]);
  int rc = ATH_OK;
  double t0 = ath_now();
  if (c->rank == 0) {
    rc = fs_mkdirs(dir, err);
    if (rc == ATH_OK)
      rc = curl_global_init(CURL_GLOBAL_DEFAULT) == 0
               ? ATH_OK
               : ath_fail(err, ATH_ERR, "cannot initialise libcurl");
    for (int i = 0; rc == ATH_OK && i < ntables; i++) {
      char url[4200], name[128];
      snprintf(name, sizeof name, "%s.csv", tables[i]);
      snprintf(url, sizeof url, "%s/%s", base, name);
      rc = fetch(c, url, paths[i], name, err);
    }
    curl_global_cleanup();
  }
  rc = ath_agree(c->comm, rc, err);
  /* Every rank records the step (the others waited for it), so the timings line up. */
  report_timing(c, "landing.download", ath_now() - t0);
  return rc;
}
