#include "pipeline/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_MS 200

static struct {
  bool on;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t wake;
  bool stop;
  double step_start;
  char label[160];
  int64_t total;
  int scale;
  live_counter count;
  unsigned tick;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static int columns(void) {
  struct winsize ws;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  const char *env = getenv("COLUMNS");
  int n = env ? atoi(env) : 0;
  return n > 20 ? n : 80;
}

/* "12.3 s", "2 min 05 s" */
static void duration(double s, char *out, size_t n) {
  if (s < 60)
    snprintf(out, n, "%.1f s", s);
  else
    snprintf(out, n, "%d min %02d s", (int)(s / 60), (int)s % 60);
}

/* Draws the line; P.mu held. */
static void draw(void) {
  double now = ath_now(), el = now - P.step_start;
  int64_t bytes = atomic_load(&P.count.bytes) * P.scale,
          rows = atomic_load(&P.count.rows) * P.scale;
  if (P.total > 0 && bytes > P.total) bytes = P.total;
  int cols = columns();
  char left[200], right[160], bar[128] = "";
  snprintf(left, sizeof left, "athlete %s", P.label);
  char d[32];
  duration(el, d, sizeof d);
  int k = 0;
  if (P.total > 0) {
    double frac = (double)bytes / (double)P.total, mbs = el > 0 ? (double)bytes / 1e6 / el : 0;
    int dec = P.total < 100000000 ? 1 : 0;
    k = snprintf(right, sizeof right, "%3.0f%% %.*f/%.*f MB %.0f MB/s", frac * 100, dec,
                 (double)bytes / 1e6, dec, (double)P.total / 1e6, mbs);
    if (rows > 0 && el > 0)
      k += snprintf(right + k, sizeof right - (size_t)k, " %.2fM rows/s", (double)rows / 1e6 / el);
    char left_s[32] = "";
    if (frac > 0.02 && frac < 1) duration(el / frac - el, left_s, sizeof left_s);
    snprintf(right + k, sizeof right - (size_t)k, " %s%s%s", d, left_s[0] ? ", ~" : "",
             left_s[0] ? left_s : "");
    if (left_s[0]) strncat(right, " left", sizeof right - strlen(right) - 1);
    int width = cols - (int)strlen(left) - (int)strlen(right) - 5;
    if (width > 40) width = 40;
    if (width >= 8) {
      int full = (int)(frac * width + 0.5);
      bar[0] = '[';
      for (int i = 0; i < width; i++)
        bar[1 + i] = i < full ? '#' : '-';
      bar[1 + width] = ']';
      bar[2 + width] = '\0';
    }
  } else {
    static const char spin[] = "|/-\\";
    snprintf(right, sizeof right, "%c %s", spin[P.tick % 4], d);
  }
  char line[512];
  snprintf(line, sizeof line, "%s %s%s%s", left, bar, bar[0] ? " " : "", right);
  if ((int)strlen(line) > cols - 1) line[cols > 1 ? cols - 1 : 0] = '\0';
  fprintf(stderr, "\r%s\033[K", line);
  fflush(stderr);
  P.tick++;
}

static void *loop(void *arg) {
  (void)arg;
  pthread_mutex_lock(&P.mu);
  while (!P.stop) {
    draw();
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += REDRAW_MS * 1000000L;
    if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&P.wake, &P.mu, &t);
  }
  fputs("\r\033[K", stderr);
  fflush(stderr);
  pthread_mutex_unlock(&P.mu);
  return NULL;
}

/* Under Open MPI's mpirun a rank's stderr is a pipe to mpirun, which started it and writes
 * what comes through to its own stderr: is that a terminal? (Linux: /proc/<ppid>/fd/2.) */
static bool launcher_on_terminal(void) {
  if (!getenv("OMPI_COMM_WORLD_SIZE")) return false;
  char link[64], target[256];
  snprintf(link, sizeof link, "/proc/%ld/fd/2", (long)getppid());
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  return strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0;
}

void progress_open(pipeline_ctx *c) {
  if (P.on || c->rank != 0 || c->o->quiet) return;
  bool bar = c->o->progress == PROGRESS_BAR;
  const char *term = getenv("TERM");
  if (c->o->progress == PROGRESS_AUTO)
    bar = (!term || strcmp(term, "dumb") != 0) && (isatty(STDERR_FILENO) || launcher_on_terminal());
  if (!bar) return;
  P.stop = false;
  P.step_start = c->rep.started;
  snprintf(P.label, sizeof P.label, "%s: starting", c->command);
  P.total = 0;
  P.scale = 1;
  if (pthread_create(&P.thread, NULL, loop, NULL) == 0) P.on = true;
}

void progress_close(void) {
  if (!P.on) return;
  pthread_mutex_lock(&P.mu);
  P.stop = true;
  pthread_cond_signal(&P.wake);
  pthread_mutex_unlock(&P.mu);
  pthread_join(P.thread, NULL);
  P.on = false;
}

bool progress_bar_on(void) {
  return P.on;
}

live_counter *progress_step(pipeline_ctx *c, const char *label, int64_t total_bytes, int scale) {
  if (!P.on || c->rank != 0) return NULL;
  pthread_mutex_lock(&P.mu);
  snprintf(P.label, sizeof P.label, "%s", label);
  P.total = total_bytes;
  P.scale = scale > 0 ? scale : 1;
  atomic_store(&P.count.bytes, 0);
  atomic_store(&P.count.rows, 0);
  P.step_start = ath_now();
  draw();
  pthread_mutex_unlock(&P.mu);
  return &P.count;
}

void progress_print_above(void (*fn)(void *), void *arg) {
  if (!P.on) {
    fn(arg);
    return;
  }
  pthread_mutex_lock(&P.mu);
  fputs("\r\033[K", stderr);
  fn(arg);
  draw();
  pthread_mutex_unlock(&P.mu);
}
