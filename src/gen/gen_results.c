/* athlete_event_results.csv: BOM, LF, no final newline, QUOTE_MINIMAL, every results quirk.
 * Rows come in events: a run of consecutive rows shares edition, sport, event and result_id,
 * with positions counting up (team sports: a team's members share a position and medal). */
#include "gen/gen.h"
#include "gen/gen_internal.h"

#define N_EDITIONS_MAX 64

typedef struct res_ctx {
  uint32_t ppm[Q_COUNT];
  char editions[N_EDITIONS_MAX][32];
  int n_summer, n_editions, first_winter_sport;
} res_ctx;

/* The event the current rows belong to. */
typedef struct res_event {
  int edition, sport, heats, team_size;
  char event[160];
  size_t event_len;
  uint64_t result_id;
  int rows_left, place, heat, members_left, team_noc;
  char pos[24];
  size_t pos_len;
  int medal; /* 0 none, 1 Gold, 2 Silver, 3 Bronze */
} res_event;

/* One results record before it is written. */
typedef struct res_row {
  gen_athlete a;
  char name[160];
  size_t name_len;
  int noc, quirk, arg;
} res_row;

/* Summer Games 1896..2020 (no 1916, 1940, 1944), Winter 1924..2022; ids count from 1. */
static void ctx_init(res_ctx *c) {
  uint32_t ppm[Q_COUNT] = {[Q_DUP_EXACT] = GEN_DUP_EXACT_PPM,
                           [Q_DUP_CLEAN] = GEN_RES_DUP_CLEAN_PPM,
                           [Q_STRAY_QUOTE] = GEN_RES_STRAY_QUOTE_PPM,
                           [Q_SPACES] = GEN_RES_SPACES_PPM,
                           [Q_BAD_ID] = GEN_BAD_ID_PPM,
                           [Q_BLANK] = GEN_BLANK_LINE_PPM,
                           [Q_WRONG_FIELDS] = GEN_WRONG_FIELDS_PPM,
                           [Q_BAD_UTF8] = GEN_BAD_UTF8_PPM};
  memcpy(c->ppm, ppm, sizeof ppm);
  int n = 0;
  for (int y = 1896; y <= 2020; y += (y == 1904 ? 2 : (y == 1906 ? 2 : 4))) {
    if (y == 1916 || y == 1940 || y == 1944) continue;
    snprintf(c->editions[n++], 32, y == 1906 ? "%d Intercalated Games" : "%d Summer Olympics", y);
  }
  c->n_summer = n;
  for (int y = 1924; y <= 2022; y += (y == 1992 ? 2 : 4)) {
    if (y == 1940 || y == 1944) continue;
    snprintf(c->editions[n++], 32, "%d Winter Olympics", y);
  }
  c->n_editions = n;
  c->first_winter_sport = gen_n_sports;
  for (int i = 0; i < gen_n_sports; i++)
    if (strcmp(gen_sports[i].name, "Alpine Skiing") == 0) c->first_winter_sport = i;
}

/* Picks the k-th '|'-separated stem of events into e->event, followed by ", Men" etc. */
static void event_name(gen_rng *r, res_event *e) {
  const char *s = gen_sports[e->sport].events;
  int nstems = 1;
  for (const char *p = s; *p; p++)
    nstems += *p == '|';
  int k = (int)gen_below(r, (uint32_t)nstems);
  while (k--)
    s = strchr(s, '|') + 1;
  const char *end = strchr(s, '|');
  size_t n = end ? (size_t)(end - s) : strlen(s);
  static const char *const sfx[] = {", Men", ", Women", ", Mixed", ", Open"};
  uint32_t u = gen_below(r, 100);
  const char *x = sfx[u < 68 ? 0 : (u < 94 ? 1 : (u < 98 ? 2 : 3))];
  memcpy(e->event, s, n);
  memcpy(e->event + n, x, strlen(x) + 1);
  e->event_len = n + strlen(x);
}

/* Starts a new event: 6..60 athletes, or 8..20 teams of 2..6. */
static void event_start(const res_ctx *c, gen_rng *r, res_event *e, uint64_t result_id) {
  e->sport = (int)gen_below(r, (uint32_t)gen_n_sports);
  int winter = e->sport >= c->first_winter_sport;
  e->edition =
      winter ? gen_range(r, c->n_summer, c->n_editions - 1) : gen_range(r, 0, c->n_summer - 1);
  event_name(r, e);
  e->result_id = result_id;
  e->heats = !gen_sports[e->sport].team && gen_chance(r, 200000);
  e->team_size = gen_sports[e->sport].team ? gen_range(r, 2, 6) : 1;
  e->rows_left = e->team_size > 1 ? e->team_size * gen_range(r, 8, 20) : gen_range(r, 6, 60);
  e->place = 0;
  e->heat = 1;
  e->members_left = 0;
}

/* Advances to the next position (or team) within the event and formats it into e->pos. */
static void next_position(gen_rng *r, res_event *e) {
  static const char *const out[] = {"DNS", "DNF", "AC", "DQ", "DNF"};
  e->place++;
  e->team_noc = -1;
  e->members_left = e->team_size;
  int tie = e->place > 1 && gen_chance(r, 30000);
  if (tie) e->place--;
  if (e->rows_left <= e->team_size && gen_chance(r, 300000)) {
    const char *x = out[gen_below(r, 5)];
    e->pos_len = strlen(x);
    memcpy(e->pos, x, e->pos_len);
    e->medal = 0;
    return;
  }
  if (e->heats) {
    if (e->place > 8) e->place = 1, e->heat++;
    size_t n = gen_fmt_u64(e->pos, (uint64_t)e->place);
    memcpy(e->pos + n, " h", 2);
    n += 2 + gen_fmt_u64(e->pos + n + 2, (uint64_t)e->heat);
    memcpy(e->pos + n, " r1/2", 5);
    e->pos_len = n + 5;
    e->medal = 0;
    return;
  }
  e->pos[0] = '=';
  e->pos_len = (size_t)tie + gen_fmt_u64(e->pos + tie, (uint64_t)e->place);
  e->medal = e->place <= 3 ? e->place : 0;
}

/* Fills the next record of the current event for a random athlete (~2% without a bio row). */
static void fill_row(const res_ctx *c, gen_rng *r, const gen_file_job *job, int64_t row,
                     res_event *e, res_row *w) {
  int64_t nbio = job->bio_rows - job->bio_rows / 100; /* the tail may be cut by duplicates */
  int64_t idx = nbio > 0 ? (int64_t)(gen_below(r, (uint32_t)nbio)) : 0;
  if (nbio <= 0 || gen_chance(r, GEN_RES_NO_BIO_PPM)) idx = job->bio_rows + gen_below(r, 100000);
  gen_athlete_of(job->seed, idx, &w->a);
  w->name_len = gen_athlete_name(&w->a, w->name, sizeof w->name);
  if (e->members_left == 0) next_position(r, e);
  if (e->team_noc < 0) e->team_noc = w->a.noc;
  w->noc = e->team_size > 1 ? e->team_noc : w->a.noc;
  e->members_left--;
  e->rows_left--;
  w->quirk = gen_pick_quirk(r, row, c->ppm);
  w->arg = (int)gen_below(r, 60);
}

/* Writes an id, with spaces around it under the spaces quirk when arg picks it. */
static void put_id(gen_out *o, const res_row *w, int field, uint64_t id) {
  char tmp[24];
  size_t n = gen_fmt_u64(tmp, id);
  int sp = w->quirk == Q_SPACES && w->arg % 4 == field;
  if (sp && w->arg % 3 != 1) gen_putc(o, ' ');
  gen_put(o, tmp, n);
  if (sp && w->arg % 3 != 0) gen_putc(o, ' ');
}

static void put_athlete(gen_out *o, const res_row *w, int twin) {
  if (twin) {
    gen_put_name_twin(o, w->name, w->name_len);
  } else if (w->quirk == Q_BAD_UTF8) {
    gen_put_name_bad_utf8(o, w->name, w->name_len, w->arg);
  } else if (w->quirk == Q_STRAY_QUOTE) {
    const char *sp = strchr(w->name, ' ');
    size_t head = sp ? (size_t)(sp - w->name) : w->name_len;
    gen_put(o, w->name, head);
    gen_puts(o, " \"");
    gen_puts(o, gen_nicknames[w->arg % gen_n_nicknames]);
    gen_putc(o, '"');
    gen_put(o, w->name + head, w->name_len - head);
  } else if (w->quirk == Q_SPACES && w->arg % 4 == 3) { /* names never need quoting */
    gen_putc(o, ' ');
    gen_put(o, w->name, w->name_len);
    gen_putc(o, ' ');
  } else {
    gen_put_field(o, w->name, w->name_len);
  }
}

static void put_athlete_id(gen_out *o, const res_row *w) {
  static const char *const bad[] = {"abc", "12a", ""};
  if (w->quirk == Q_BAD_ID)
    gen_puts(o, bad[w->arg % 3]);
  else
    put_id(o, w, 2, w->a.id);
}

/* Writes one record (twin: as the clean-duplicate twin of the previous one). */
static void put_row(gen_out *o, const res_ctx *c, const res_event *e, const res_row *w, int twin) {
  static const char *const medals[] = {"", "Gold", "Silver", "Bronze"};
  gen_puts(o, c->editions[e->edition]);
  gen_putc(o, ',');
  put_id(o, w, 0, (uint64_t)e->edition + 1);
  gen_putc(o, ',');
  gen_puts(o, gen_nocs[w->noc].code);
  gen_putc(o, ',');
  gen_puts(o, gen_sports[e->sport].name);
  gen_putc(o, ',');
  gen_put_field(o, e->event, e->event_len);
  gen_putc(o, ',');
  put_id(o, w, 1, e->result_id);
  gen_putc(o, ',');
  put_athlete(o, w, twin);
  gen_putc(o, ',');
  put_athlete_id(o, w);
  gen_putc(o, ',');
  gen_put(o, e->pos, e->pos_len);
  gen_putc(o, ',');
  gen_puts(o, medals[e->medal]);
  if (!(w->quirk == Q_WRONG_FIELDS && w->arg % 2 == 0))
    gen_puts(o, gen_sports[e->sport].team ? ",True" : ",False");
  if (w->quirk == Q_WRONG_FIELDS && w->arg % 2 == 1) gen_puts(o, ",extra");
  gen_putc(o, '\n');
}

void gen_results_file(gen_file_job *job) {
  res_ctx c;
  ctx_init(&c);
  gen_out *o = &job->out;
  gen_rng r = {gen_mix(job->seed ^ 0x4e5117500ULL)};
  res_event e = {.rows_left = 0};
  res_row w;
  uint64_t result_id = 10000;
  gen_puts(o, "\xef\xbb\xbf"
              "edition,edition_id,country_noc,sport,event,result_id,athlete,athlete_id,pos,"
              "medal,isTeamSport\n");
  for (int64_t written = 0, row = 0; written < job->rows; row++) {
    if (e.rows_left == 0) event_start(&c, &r, &e, result_id += 1 + gen_below(&r, 40));
    fill_row(&c, &r, job, row, &e, &w);
    gen_reserve(o);
    if (w.quirk == Q_BLANK && row > 0) gen_putc(o, '\n');
    size_t start = o->len;
    put_row(o, &c, &e, &w, 0);
    if (++written == job->rows) break;
    if (w.quirk == Q_DUP_EXACT) {
      memmove(o->buf + o->len, o->buf + start, o->len - start);
      o->len += o->len - start;
      written++;
    } else if (w.quirk == Q_DUP_CLEAN) {
      put_row(o, &c, &e, &w, 1);
      written++;
    }
  }
  if (o->len && o->buf[o->len - 1] == '\n') o->len--; /* the export lacks a final newline */
}
