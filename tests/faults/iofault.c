/* iofault.so: an I/O fault injector for the tests (LD_PRELOAD; never part of the product).
 *
 * It counts the file-system calls a process makes on paths under IOFAULT_PREFIX (and on the
 * file descriptors it opened there) and makes the IOFAULT_N-th of them fail with IOFAULT_ERRNO
 * (EIO or ENOSPC; default EIO) without doing it. The calls: open, openat, creat (and their 64
 * variants), fopen, write, pwrite, writev, pwritev (64 too), fflush and fclose (where stdio's
 * own writes fail), fsync, fdatasync, posix_fallocate, rename, renameat, renameat2, mkdir,
 * mkdirat.
 *
 *   IOFAULT_PREFIX  only paths starting with it count (required: nothing counts without it)
 *   IOFAULT_N       the call to fail, 1-based (unset or 0: count only)
 *   IOFAULT_PERSIST 1: that call and every later one fail (a disk that stays broken)
 *   IOFAULT_ERRNO   EIO or ENOSPC
 *   IOFAULT_RANK    fail only in this MPI rank (OMPI_COMM_WORLD_RANK; default: every rank)
 *   IOFAULT_COUNT   at exit, append "<rank> <calls counted>" to this file
 *
 * The failing call is reported on stderr ("iofault: rank R: call #N, write(...path...)
 * -> ENOSPC"), so a test can tell which step it broke. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 65536

static const char *prefix;
static size_t prefix_len;
static long fail_at, my_rank;
static int fail_errno = EIO;
static bool ready, rank_ok = true, persist;
static atomic_long calls;
static atomic_bool tracked[MAX_FD];
static char paths[MAX_FD][128]; /* the path of each tracked fd, for the report */

__attribute__((constructor)) static void iofault_init(void) {
  prefix = getenv("IOFAULT_PREFIX");
  prefix_len = prefix ? strlen(prefix) : 0;
  const char *n = getenv("IOFAULT_N"), *e = getenv("IOFAULT_ERRNO"), *r = getenv("IOFAULT_RANK");
  const char *me = getenv("OMPI_COMM_WORLD_RANK");
  fail_at = n ? atol(n) : 0;
  my_rank = me ? atol(me) : 0;
  if (e && strcmp(e, "ENOSPC") == 0) fail_errno = ENOSPC;
  if (r && *r) rank_ok = atol(r) == my_rank;
  const char *pe = getenv("IOFAULT_PERSIST");
  persist = pe && *pe == '1';
  ready = prefix_len > 0;
}

__attribute__((destructor)) static void iofault_fini(void) {
  const char *f = getenv("IOFAULT_COUNT");
  if (!ready || !f) return;
  FILE *out = fopen(f, "a");
  if (!out) return;
  fprintf(out, "%ld %ld\n", my_rank, (long)atomic_load(&calls));
  fclose(out);
}

static bool under(const char *path) {
  return ready && path && strncmp(path, prefix, prefix_len) == 0;
}

static bool fd_tracked(int fd) {
  return ready && fd >= 0 && fd < MAX_FD && atomic_load(&tracked[fd]);
}

/* Counts one call; true when this one must fail (errno is then set). */
static bool should_fail(const char *what, const char *path) {
  long n = atomic_fetch_add(&calls, 1) + 1;
  if (fail_at <= 0 || !rank_ok || (persist ? n < fail_at : n != fail_at)) return false;
  fprintf(stderr, "iofault: rank %ld: call #%ld, %s(%s) -> %s\n", my_rank, n, what, path,
          fail_errno == ENOSPC ? "ENOSPC" : "EIO");
  errno = fail_errno;
  return true;
}

#define REAL(name, ret, ...)                                                                       \
  static ret (*real_##name)(__VA_ARGS__);                                                          \
  if (!real_##name) real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

static void track(int fd, const char *path) {
  if (fd < 0 || fd >= MAX_FD) return;
  snprintf(paths[fd], sizeof paths[fd], "%s", path);
  atomic_store(&tracked[fd], true);
}

static int do_open(const char *name, int dirfd, const char *path, int flags, mode_t mode) {
  bool mine = under(path);
  if (mine && should_fail(name, path)) return -1;
  int fd;
  if (strcmp(name, "openat") == 0 || strcmp(name, "openat64") == 0) {
    REAL(openat, int, int, const char *, int, ...);
    fd = real_openat(dirfd, path, flags, mode);
  } else {
    REAL(open, int, const char *, int, ...);
    fd = real_open(path, flags, mode);
  }
  if (mine) track(fd, path);
  return fd;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open("open", AT_FDCWD, path, flags, m);
}
int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open("open", AT_FDCWD, path, flags, m);
}
int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open("openat", dirfd, path, flags, m);
}
int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t m = mode_arg(flags, ap);
  va_end(ap);
  return do_open("openat", dirfd, path, flags, m);
}
int creat(const char *path, mode_t mode) {
  return do_open("open", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
int creat64(const char *path, mode_t mode) {
  return do_open("open", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int close(int fd) {
  REAL(close, int, int);
  if (fd >= 0 && fd < MAX_FD) atomic_store(&tracked[fd], false);
  return real_close(fd);
}

/* fopen goes through the internal open, so it is caught here too, as an open of its path. */
FILE *fopen(const char *path, const char *mode) {
  REAL(fopen, FILE *, const char *, const char *);
  bool mine = under(path);
  if (mine && should_fail("fopen", path)) return NULL;
  FILE *f = real_fopen(path, mode);
  if (mine && f) track(fileno(f), path);
  return f;
}
FILE *fopen64(const char *path, const char *mode) {
  return fopen(path, mode);
}

#define FD_CALL(name, ret, call_args, ...)                                                         \
  ret name(__VA_ARGS__) {                                                                          \
    REAL(name, ret, __VA_ARGS__);                                                                  \
    if (fd_tracked(fd) && should_fail(#name, paths[fd])) return -1;                                \
    return real_##name call_args;                                                                  \
  }

FD_CALL(write, ssize_t, (fd, buf, n), int fd, const void *buf, size_t n)
FD_CALL(pwrite, ssize_t, (fd, buf, n, off), int fd, const void *buf, size_t n, off_t off)
FD_CALL(pwrite64, ssize_t, (fd, buf, n, off), int fd, const void *buf, size_t n, off_t off)
FD_CALL(writev, ssize_t, (fd, iov, cnt), int fd, const struct iovec *iov, int cnt)
FD_CALL(pwritev, ssize_t, (fd, iov, cnt, off), int fd, const struct iovec *iov, int cnt, off_t off)
FD_CALL(pwritev64, ssize_t, (fd, iov, cnt, off), int fd, const struct iovec *iov, int cnt,
        off_t off)
FD_CALL(fsync, int, (fd), int fd)
FD_CALL(fdatasync, int, (fd), int fd)

int posix_fallocate(int fd, off_t off, off_t len) {
  REAL(posix_fallocate, int, int, off_t, off_t);
  if (fd_tracked(fd) && should_fail("posix_fallocate", paths[fd])) return errno;
  return real_posix_fallocate(fd, off, len);
}
int posix_fallocate64(int fd, off_t off, off_t len) {
  return posix_fallocate(fd, off, len);
}

/* stdio writes inside glibc do not go through the write() above; their failures show at
 * fflush or fclose, which are caught here (the stream is still flushed and closed). */
int fflush(FILE *f) {
  REAL(fflush, int, FILE *);
  int fd = f ? fileno(f) : -1;
  if (fd_tracked(fd) && should_fail("fflush", paths[fd])) return EOF;
  return real_fflush(f);
}
int fclose(FILE *f) {
  REAL(fclose, int, FILE *);
  int fd = fileno(f);
  bool fail = fd_tracked(fd) && should_fail("fclose", paths[fd]);
  if (fd >= 0 && fd < MAX_FD) atomic_store(&tracked[fd], false);
  int rc = real_fclose(f);
  if (fail) {
    errno = fail_errno;
    return EOF;
  }
  return rc;
}

int rename(const char *from, const char *to) {
  REAL(rename, int, const char *, const char *);
  if ((under(from) || under(to)) && should_fail("rename", from)) return -1;
  return real_rename(from, to);
}
int renameat(int fd1, const char *from, int fd2, const char *to) {
  REAL(renameat, int, int, const char *, int, const char *);
  if ((under(from) || under(to)) && should_fail("renameat", from)) return -1;
  return real_renameat(fd1, from, fd2, to);
}
int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags) {
  REAL(renameat2, int, int, const char *, int, const char *, unsigned);
  if ((under(from) || under(to)) && should_fail("renameat2", from)) return -1;
  return real_renameat2(fd1, from, fd2, to, flags);
}
int mkdir(const char *path, mode_t mode) {
  REAL(mkdir, int, const char *, mode_t);
  if (under(path) && should_fail("mkdir", path)) return -1;
  return real_mkdir(path, mode);
}
int mkdirat(int dirfd, const char *path, mode_t mode) {
  REAL(mkdirat, int, int, const char *, mode_t);
  if (under(path) && should_fail("mkdirat", path)) return -1;
  return real_mkdirat(dirfd, path, mode);
}
