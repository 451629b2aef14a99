#include "core/fsutil.h"

#include <errno.h>
#include <signal.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdirs(const char *path, ath_error *err) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return ath_fail(err, ATH_ERR, "%s: path too long", path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return ath_fail(err, ATH_ERR, "cannot create directory %s: %s", buf, strerror(errno));
    *p = saved;
    if (!saved) break;
  }
  return ATH_OK;
}

int fs_sync_dir(const char *dir, ath_error *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = ATH_OK;
  if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
    rc = ath_fail(err, ATH_ERR, "%s: sync directory: %s", dir, strerror(errno));
  if (fd >= 0) close(fd);
  return rc;
}

int fs_sync_parent(const char *path, ath_error *err) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) return fs_sync_dir(".", err);
  if (slash == dir)
    slash[1] = '\0';
  else
    *slash = '\0';
  return fs_sync_dir(dir, err);
}

int fs_publish(const char *tmp, const char *final, bool replace, bool *exists, ath_error *err) {
  if (exists) *exists = false;
  if (replace) {
    if (rename(tmp, final) != 0) {
      int e = errno;
      unlink(tmp);
      return ath_fail(err, ATH_ERR, "rename %s -> %s: %s", tmp, final, strerror(e));
    }
  } else {
    int rc = link(tmp, final), e = errno;
    unlink(tmp);
    if (rc != 0) {
      if (e == EEXIST && exists) *exists = true;
      return ath_fail(err, ATH_ERR, "cannot create %s: %s", final, strerror(e));
    }
  }
  return fs_sync_parent(final, err);
}

int fs_write_file(const char *path, const void *p, size_t n, bool replace, bool *exists,
                  ath_error *err) {
  char tmp[4400], host[128];
  fs_host_name(host, sizeof host);
  const char *slash = strrchr(path, '/');
  int dl = slash ? (int)(slash - path + 1) : 0;
  snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%s-%ld", dl, path, path + dl, host, (long)getpid());
  int fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return ath_fail(err, ATH_ERR, "cannot create %s: %s", tmp, strerror(errno));
  int rc = ATH_OK;
  for (size_t done = 0; done < n && rc == ATH_OK;) {
    ssize_t k = write(fd, (const char *)p + done, n - done);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0)
      rc = ath_fail(err, ATH_ERR, "cannot write %s: %s", tmp, strerror(errno));
    else
      done += (size_t)k;
  }
  if (rc == ATH_OK && fsync(fd) != 0)
    rc = ath_fail(err, ATH_ERR, "fsync %s: %s", tmp, strerror(errno));
  if (close(fd) != 0 && rc == ATH_OK)
    rc = ath_fail(err, ATH_ERR, "cannot write %s: %s", tmp, strerror(errno));
  if (rc != ATH_OK) {
    unlink(tmp);
    return rc;
  }
  return fs_publish(tmp, path, replace, exists, err);
}

void fs_host_name(char *out, size_t n) {
  if (gethostname(out, n) != 0 || !out[0]) snprintf(out, n, "host");
  out[n - 1] = '\0';
  for (char *p = out; *p; p++)
    if (*p == '-' || *p == '/' || *p == '.') *p = '_';
}

bool fs_writer_gone(const char *path, const char *host, long pid) {
  char me[256];
  fs_host_name(me, sizeof me);
  if (host && strcmp(host, me) == 0 && pid > 0) return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
  struct stat st;
  return stat(path, &st) == 0 && time(NULL) - st.st_mtime > 24 * 3600;
}
