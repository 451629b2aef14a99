/* Stream tables: batch files and the commit log (see stream.h). */
#include "lake/stream.h"

#include "core/fsutil.h"
#include "core/json.h"
#include "lake/lake.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_DIR     "_log"
#define REJECTS_DIR "_rejects"
#define NO_ENTRY    (-1) /* read_entry: there is no entry of that number */

bool stream_is_table(const char *dir) {
  char p[4200];
  struct stat st;
  snprintf(p, sizeof p, "%s/" LOG_DIR, dir);
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void stream_file_name(char *out, size_t n, const char *topic, int32_t partition, int64_t first,
                      int64_t last) {
  snprintf(out, n, "%s+%" PRId32 "+%" PRId64 "+%" PRId64 ".parquet", topic, partition, first, last);
}

static void entry_path(const stream_log *log, int64_t seq, char *out, size_t n) {
  snprintf(out, n, "%s/" LOG_DIR "/%020" PRId64 ".json", log->dir, seq);
}

/* ---- entries ---------------------------------------------------------------------------- */

static void entry_free(stream_entry *e) {
  free(e->claims);
  free(e->ranges);
  free(e->files);
  free(e->rejects_files);
  memset(e, 0, sizeof *e);
}

static void push_range(stream_range **a, int *n, const char *topic, int32_t p, int64_t first,
                       int64_t last) {
  *a = xrealloc(*a, ((size_t)*n + 1) * sizeof **a);
  stream_range *r = &(*a)[(*n)++];
  snprintf(r->topic, sizeof r->topic, "%s", topic);
  r->partition = p;
  r->first = first;
  r->last = last;
}

static void push_file(stream_file **a, int *n, const char *name, int64_t rows) {
  *a = xrealloc(*a, ((size_t)*n + 1) * sizeof **a);
  stream_file *f = &(*a)[(*n)++];
  snprintf(f->name, sizeof f->name, "%s", name);
  f->rows = rows;
}

/* A name as an entry holds it: no quote, backslash, control byte or path escape. */
static bool plain_name(const char *s) {
  if (!*s || strstr(s, "..")) return false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == '"' || *p == '\\' || *p >= 0x7f) return false;
  return true;
}

/* Parses one entry (the text s, NUL-terminated). Returns false when it is not an entry this
 * writer wrote in full. */
static bool entry_parse(char *s, stream_entry *e) {
  memset(e, 0, sizeof *e);
  enum { HEAD, LISTS, CLAIMS, OFFSETS, FILES, REJECTS, DONE } st = HEAD;
  for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
    while (*line == ' ')
      line++;
    size_t len = strlen(line);
    if (len && line[len - 1] == ',') line[--len] = '\0';
    char a[STREAM_NAME_MAX];
    long long x, y, z;
    int n = 0;
    switch (st) {
    case HEAD:
      if (sscanf(line,
                 "{\"seq\": %lld, \"writer\": \"%255[^\"]\", \"rows\": %lld, \"rejects\": %lld%n",
                 &x, e->writer, &y, &z, &n) != 4 ||
          line[n])
        goto bad;
      e->seq = x, e->rows = y, e->rejects = z;
      st = LISTS;
      break;
    case LISTS:
      if (strcmp(line, "\"claims\": [") == 0)
        st = CLAIMS;
      else if (strcmp(line, "\"offsets\": [") == 0)
        st = OFFSETS;
      else if (strcmp(line, "\"files\": [") == 0)
        st = FILES;
      else if (strcmp(line, "\"rejects_files\": [") == 0)
        st = REJECTS;
      else
        goto bad;
      break;
    case CLAIMS:
    case OFFSETS:
    case FILES:
    case REJECTS:
      if (strcmp(line, "]") == 0 || strcmp(line, "]}") == 0) {
        st = line[1] ? DONE : LISTS;
        break;
      }
      if (st == CLAIMS) {
        if (sscanf(line, "{\"topic\": \"%255[^\"]\", \"partition\": %lld}%n", a, &x, &n) != 2 ||
            line[n] || x < 0 || x > INT32_MAX)
          goto bad;
        push_range(&e->claims, &e->nclaims, a, (int32_t)x, -1, -1);
      } else if (st == OFFSETS) {
        if (sscanf(line,
                   "{\"topic\": \"%255[^\"]\", \"partition\": %lld, \"first\": %lld, \"last\": "
                   "%lld}%n",
                   a, &x, &y, &z, &n) != 4 ||
            line[n] || x < 0 || x > INT32_MAX || y < 0 || z < y)
          goto bad;
        push_range(&e->ranges, &e->nranges, a, (int32_t)x, y, z);
      } else {
        if (sscanf(line, "{\"file\": \"%511[^\"]\", \"rows\": %lld}%n", a, &x, &n) != 2 ||
            line[n] || x < 0 || !plain_name(a))
          goto bad;
        if (st == FILES)
          push_file(&e->files, &e->nfiles, a, x);
        else
          push_file(&e->rejects_files, &e->nrejects_files, a, x);
      }
      break;
    case DONE:
      goto bad;
    }
  }
  if (st == DONE) return true;
bad:
  entry_free(e);
  return false;
}

static void entry_write(FILE *f, const stream_entry *e) {
  fprintf(f,
          "{\"seq\": %" PRId64 ", \"writer\": \"%s\", \"rows\": %" PRId64 ", \"rejects\": %" PRId64,
          e->seq, e->writer, e->rows, e->rejects);
  fputs(",\n \"claims\": [", f);
  for (int i = 0; i < e->nclaims; i++)
    fprintf(f, "%s\n  {\"topic\": \"%s\", \"partition\": %" PRId32 "}", i ? "," : "",
            e->claims[i].topic, e->claims[i].partition);
  fputs("\n ],\n \"offsets\": [", f);
  for (int i = 0; i < e->nranges; i++)
    fprintf(f,
            "%s\n  {\"topic\": \"%s\", \"partition\": %" PRId32 ", \"first\": %" PRId64
            ", \"last\": %" PRId64 "}",
            i ? "," : "", e->ranges[i].topic, e->ranges[i].partition, e->ranges[i].first,
            e->ranges[i].last);
  fputs("\n ],\n \"files\": [", f);
  for (int i = 0; i < e->nfiles; i++)
    fprintf(f, "%s\n  {\"file\": \"%s\", \"rows\": %" PRId64 "}", i ? "," : "", e->files[i].name,
            e->files[i].rows);
  fputs("\n ],\n \"rejects_files\": [", f);
  for (int i = 0; i < e->nrejects_files; i++)
    fprintf(f, "%s\n  {\"file\": \"%s\", \"rows\": %" PRId64 "}", i ? "," : "",
            e->rejects_files[i].name, e->rejects_files[i].rows);
  fputs("\n ]}\n", f);
}

/* ---- the log ------------------------------------------------------------------------------ */

void stream_log_free(stream_log *log) {
  free(log->files);
  free(log->rejects_files);
  free(log->next);
  memset(log, 0, sizeof *log);
}

static stream_range *next_of(const stream_log *log, const char *topic, int32_t partition) {
  for (int i = 0; i < log->nnext; i++)
    if (log->next[i].partition == partition && strcmp(log->next[i].topic, topic) == 0)
      return &log->next[i];
  return NULL;
}

int64_t stream_next_offset(const stream_log *log, const char *topic, int32_t partition) {
  const stream_range *r = next_of(log, topic, partition);
  return r ? r->last + 1 : -1;
}

static void append_files(stream_file **to, int *n, size_t *cap, const stream_file *from, int k) {
  grow_array((void **)to, cap, (size_t)*n + (size_t)k, sizeof **to);
  for (int i = 0; i < k; i++)
    (*to)[(*n)++] = from[i];
}

static void apply_entry(stream_log *log, const stream_entry *e) {
  append_files(&log->files, &log->nfiles, &log->cap_files, e->files, e->nfiles);
  append_files(&log->rejects_files, &log->nrejects_files, &log->cap_rejects_files, e->rejects_files,
               e->nrejects_files);
  for (int i = 0; i < e->nranges; i++) {
    stream_range *r = next_of(log, e->ranges[i].topic, e->ranges[i].partition);
    if (!r) {
      grow_array((void **)&log->next, &log->cap_next, (size_t)log->nnext + 1, sizeof *log->next);
      r = &log->next[log->nnext++];
      *r = e->ranges[i];
    } else if (e->ranges[i].last > r->last) {
      r->last = e->ranges[i].last;
    }
  }
  log->rows += e->rows;
  log->rejects += e->rejects;
  log->seq = e->seq;
}

/* Reads entry `seq` into *e. Returns ATH_OK, ATH_ERR (with err), or NO_ENTRY when it does not
 * exist. */
static int read_entry(stream_log *log, int64_t seq, stream_entry *e, ath_error *err) {
  char path[4300];
  entry_path(log, seq, path, sizeof path);
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno == ENOENT) return NO_ENTRY;
    return ath_fail(err, ATH_ERR, "%s: %s", path, strerror(errno));
  }
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    grow_array((void **)&buf, &cap, len + 4097, 1);
    size_t got = fread(buf + len, 1, 4096, f);
    len += got;
    if (got < 4096) break;
  }
  int bad_read = ferror(f);
  fclose(f);
  buf[len] = '\0';
  bool ok = !bad_read && strlen(buf) == len && entry_parse(buf, e) && e->seq == seq;
  free(buf);
  if (ok) return ATH_OK;
  entry_free(e);
  /* Damaged: harmless only as the last entry (never fully written); then it goes. */
  char later[4300];
  entry_path(log, seq + 1, later, sizeof later);
  if (access(later, F_OK) == 0)
    return ath_fail(err, ATH_ERR,
                    "%s: damaged commit log entry (not the last one); the table needs repair by "
                    "hand",
                    path);
  if (unlink(path) != 0 && errno != ENOENT)
    return ath_fail(err, ATH_ERR, "%s: cannot remove damaged last entry: %s", path,
                    strerror(errno));
  log->repaired++;
  fprintf(stderr, "athlete: %s: removed a damaged last commit log entry (never completed)\n", path);
  return NO_ENTRY;
}

/* Reads entries after log->seq (up to `upto`, -1: all), applying each and passing it to fn. */
static int read_new(stream_log *log, int64_t upto, stream_entry_fn fn, void *arg,
                    bool (*check)(void *, const stream_entry *), void *carg,
                    const stream_entry *mine, bool *conflict, ath_error *err) {
  for (int64_t seq = log->seq + 1; upto < 0 || seq <= upto; seq++) {
    stream_entry e;
    int rc = read_entry(log, seq, &e, err);
    if (rc == NO_ENTRY) break;
    if (rc != ATH_OK) return rc;
    if (fn) fn(arg, &e);
    if (mine && strcmp(e.writer, mine->writer) != 0) {
      if (check && check(carg, &e)) *conflict = true;
      for (int i = 0; i < e.nranges; i++)
        for (int j = 0; j < mine->nranges; j++)
          if (e.ranges[i].partition == mine->ranges[j].partition &&
              strcmp(e.ranges[i].topic, mine->ranges[j].topic) == 0 &&
              e.ranges[i].first <= mine->ranges[j].last &&
              mine->ranges[j].first <= e.ranges[i].last)
            *conflict = true;
    }
    apply_entry(log, &e);
    entry_free(&e);
  }
  return ATH_OK;
}

int stream_load(stream_log *log, const char *dir, bool create, int64_t upto, stream_entry_fn fn,
                void *arg, ath_error *err) {
  stream_log_free(log);
  snprintf(log->dir, sizeof log->dir, "%s", dir);
  char p[4200];
  if (create) {
    snprintf(p, sizeof p, "%s/" LOG_DIR, dir);
    int rc = fs_mkdirs(p, err);
    snprintf(p, sizeof p, "%s/" REJECTS_DIR, dir);
    if (rc == ATH_OK) rc = fs_mkdirs(p, err);
    if (rc != ATH_OK) return rc;
  } else if (!stream_is_table(dir)) {
    return ath_fail(err, ATH_ERR, "%s: not a stream table (no %s folder)", dir, LOG_DIR);
  }
  return read_new(log, upto, fn, arg, NULL, NULL, NULL, NULL, err);
}

int stream_refresh(stream_log *log, ath_error *err) {
  return read_new(log, -1, NULL, NULL, NULL, NULL, NULL, NULL, err);
}

/* ---- files -------------------------------------------------------------------------------- */

int stream_put_file(const stream_log *log, const char *name, const void *bytes, size_t n,
                    bool *exists, ath_error *err) {
  char path[4700];
  snprintf(path, sizeof path, "%s/%s", log->dir, name);
  return fs_write_file(path, bytes, n, false, exists, err);
}

static bool listed(const stream_file *files, int n, const char *name) {
  for (int i = n - 1; i >= 0; i--)
    if (strcmp(files[i].name, name) == 0) return true;
  return false;
}

/* Removes orphans of "<topic>+<partition>+" in dir (rejects: under REJECTS_DIR). */
static int remove_in(const stream_log *log, const char *sub, const char *prefix) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s%s%s", log->dir, sub ? "/" : "", sub ? sub : "");
  DIR *d = opendir(dir);
  if (!d) return 0;
  int removed = 0;
  size_t pl = strlen(prefix);
  for (struct dirent *e = readdir(d); e; e = readdir(d)) {
    const char *nm = e->d_name;
    char path[4700], rel[STREAM_NAME_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", dir, nm);
    snprintf(rel, sizeof rel, "%s%s%s", sub ? sub : "", sub ? "/" : "", nm);
    bool gone = false;
    if (strncmp(nm, prefix, pl) == 0) {
      gone = !listed(log->files, log->nfiles, rel) &&
             !listed(log->rejects_files, log->nrejects_files, rel);
    } else if (nm[0] == '.' && strncmp(nm + 1, prefix, pl) == 0) {
      const char *t = strstr(nm, ".tmp-");
      char host[256];
      long pid = 0;
      if (t && sscanf(t + 5, "%255[^-]-%ld", host, &pid) == 2)
        gone = fs_writer_gone(path, host, pid);
    }
    if (gone && unlink(path) == 0) removed++;
  }
  closedir(d);
  return removed;
}

int stream_remove_orphans(const stream_log *log, const char *topic, int32_t partition) {
  char prefix[300];
  snprintf(prefix, sizeof prefix, "%s+%" PRId32 "+", topic, partition);
  return remove_in(log, NULL, prefix) + remove_in(log, REJECTS_DIR, prefix);
}

/* ---- commit ------------------------------------------------------------------------------- */

static char *entry_text(const stream_entry *e, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f) {
    fprintf(stderr, "athlete: out of memory\n");
    abort();
  }
  entry_write(f, e);
  fclose(f);
  return buf;
}

static int write_manifest(const stream_log *log, const batch *schema, ath_error *err) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) {
    fprintf(stderr, "athlete: out of memory\n");
    abort();
  }
  const char *table = strrchr(log->dir, '/');
  table = table ? table + 1 : log->dir;
  fprintf(f, "{\n  \"format\": \"athlete-stream-table-1\",\n  \"version\": \"%s\",\n",
          ATHLETE_VERSION);
  fputs("  \"table\": ", f);
  json_write_cstr(f, table);
  fprintf(f,
          ",\n  \"log_seq\": %" PRId64 ",\n  \"rows\": %" PRId64 ",\n  \"rejects\": %" PRId64
          ",\n  \"files\": %d,\n  \"formats\": \"parquet\",\n  \"schema\": ",
          log->seq, log->rows, log->rejects, log->nfiles);
  lake_write_schema_json(f, schema);
  fputs(",\n  \"offsets\": [", f);
  for (int i = 0; i < log->nnext; i++) {
    fputs(i ? ",\n    {\"topic\": " : "\n    {\"topic\": ", f);
    json_write_cstr(f, log->next[i].topic);
    fprintf(f, ", \"partition\": %" PRId32 ", \"next\": %" PRId64 "}", log->next[i].partition,
            log->next[i].last + 1);
  }
  fputs("\n  ]\n}\n", f);
  fclose(f);
  char path[4300];
  snprintf(path, sizeof path, "%s/_manifest.json", log->dir);
  int rc = fs_write_file(path, buf, len, true, NULL, err);
  free(buf);
  snprintf(path, sizeof path, "%s/_SUCCESS", log->dir);
  if (rc == ATH_OK && access(path, F_OK) != 0) rc = fs_write_file(path, "", 0, true, NULL, err);
  return rc;
}

int stream_commit(stream_log *log, stream_entry *e, const batch *schema,
                  bool (*fn)(void *arg, const stream_entry *other), void *arg, bool *conflict,
                  ath_error *err) {
  *conflict = false;
  for (;;) {
    int rc = read_new(log, -1, NULL, NULL, fn, arg, e, conflict, err);
    if (rc != ATH_OK) return rc;
    if (*conflict)
      return ath_fail(err, ATH_ERR,
                      "%s: another writer took over partitions of this batch; batch abandoned",
                      log->dir);
    e->seq = log->seq + 1;
    size_t len = 0;
    char *text = entry_text(e, &len);
    char path[4300];
    entry_path(log, e->seq, path, sizeof path);
    bool exists = false;
    rc = fs_write_file(path, text, len, false, &exists, err);
    free(text);
    if (rc == ATH_OK) break;
    if (!exists) return rc;
    /* Another writer's entry took this number: read it, then try the next. */
  }
  apply_entry(log, e);
  return schema ? write_manifest(log, schema, err) : ATH_OK;
}
