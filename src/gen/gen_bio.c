/* athlete_bio.csv: CRLF, no BOM, QUOTE_MINIMAL, long descriptions, every bio quirk. */
#include "gen/gen.h"
#include "gen/gen_internal.h"

#define MAX_SENTENCES 13

/* Per-file constant facts about the description sentences, computed once per file. */
typedef struct bio_ctx {
  uint32_t ppm[Q_COUNT];
  size_t sent_len[128];
  uint8_t sent_special[128]; /* 1: holds a comma or quote, so the field must be quoted */
  uint8_t sent_quote[128];   /* 1: holds a quote, so it is copied with quotes doubled */
} bio_ctx;

/* One generated bio record before it is written. */
typedef struct bio_row {
  gen_athlete a;
  char name[160];
  size_t name_len;
  int born_fmt, day, month, year;
  int height, height_fmt; /* fmt 0 empty, 1 "183.0", 2 "183" */
  int weight, weight_fmt;
  int country_space;
  int ndesc, desc_quoted;
  uint8_t desc[MAX_SENTENCES], sep[MAX_SENTENCES]; /* sep before sentence i: 0 ' ', 1 LF, 2 CRLF */
  int note;                                        /* -1: none */
  int quirk, arg;
} bio_row;

static void ctx_init(bio_ctx *c) {
  uint32_t ppm[Q_COUNT] = {[Q_DUP_EXACT] = GEN_DUP_EXACT_PPM,
                           [Q_DUP_CLEAN] = GEN_BIO_DUP_CLEAN_PPM,
                           [Q_STRAY_QUOTE] = GEN_BIO_STRAY_QUOTE_PPM,
                           [Q_SPACES] = GEN_BIO_SPACES_PPM,
                           [Q_BAD_ID] = GEN_BAD_ID_PPM,
                           [Q_BAD_NUMBER] = GEN_BIO_BAD_NUMBER_PPM,
                           [Q_BLANK] = GEN_BLANK_LINE_PPM,
                           [Q_WRONG_FIELDS] = GEN_WRONG_FIELDS_PPM,
                           [Q_BAD_UTF8] = GEN_BAD_UTF8_PPM};
  memcpy(c->ppm, ppm, sizeof ppm);
  for (int i = 0; i < gen_n_sentences && i < 128; i++) {
    const char *s = gen_sentences[i];
    c->sent_len[i] = strlen(s);
    c->sent_quote[i] = strchr(s, '"') != NULL;
    c->sent_special[i] = c->sent_quote[i] || strchr(s, ',') != NULL;
  }
}

/* Draws a description of 3..MAX_SENTENCES sentences on ~48% of rows. */
static void fill_description(const bio_ctx *c, gen_rng *r, bio_row *b) {
  b->ndesc = 0;
  b->desc_quoted = 0;
  if (!gen_chance(r, 480000)) return;
  int nsent = gen_n_sentences < 128 ? gen_n_sentences : 128;
  b->ndesc = gen_range(r, 3, MAX_SENTENCES);
  for (int i = 0; i < b->ndesc; i++) {
    b->desc[i] = (uint8_t)gen_below(r, (uint32_t)nsent);
    uint32_t u = gen_below(r, 100);
    b->sep[i] = i == 0 ? 0 : (u < 5 ? 1 : (u < 8 ? 2 : 0));
    b->desc_quoted |= c->sent_special[b->desc[i]] || b->sep[i];
  }
}

/* Height and weight: present on ~58% / ~50% of rows, mostly "183.0", some "183". */
static void fill_body(gen_rng *r, bio_row *b) {
  int spread = gen_range(r, -12, 12) + gen_range(r, -6, 6);
  b->height = (b->a.female ? 168 : 179) + spread;
  b->weight = (b->a.female ? 60 : 76) + spread + gen_range(r, -8, 8);
  uint32_t u = gen_below(r, 100);
  b->height_fmt = u < 42 ? 0 : (u < 95 ? 1 : 2);
  u = gen_below(r, 100);
  b->weight_fmt = u < 50 ? 0 : (u < 96 ? 1 : 2);
}

/* Fills one bio record for athlete idx. */
static void fill_row(const bio_ctx *c, gen_rng *r, uint64_t seed, int64_t idx, bio_row *b) {
  gen_athlete_of(seed, idx, &b->a);
  b->name_len = gen_athlete_name(&b->a, b->name, sizeof b->name);
  uint32_t u = gen_below(r, 100);
  b->born_fmt = u < 62 ? 1 : (u < 76 ? 2 : (u < 82 ? 3 : 0));
  b->day = gen_range(r, 1, 28);
  b->month = gen_range(r, 0, 11);
  b->year = gen_range(r, 1850, 2005);
  fill_body(r, b);
  b->country_space = gen_chance(r, 950000);
  fill_description(c, r, b);
  b->note = gen_chance(r, 150000) ? (int)gen_below(r, (uint32_t)gen_n_notes) : -1;
  b->quirk = gen_pick_quirk(r, idx, c->ppm);
  b->arg = (int)gen_below(r, 60);
}

/* Writes s, with spaces around it when the record has the spaces quirk on field `field`. */
static void put_spaced(gen_out *o, const bio_row *b, int field, const char *s, size_t n) {
  int sp = b->quirk == Q_SPACES && b->arg % 4 == field;
  if (sp && b->arg % 3 != 1) gen_putc(o, ' ');
  gen_put(o, s, n);
  if (sp && b->arg % 3 != 0) gen_putc(o, ' ');
}

static void put_id(gen_out *o, const bio_row *b) {
  static const char *const bad[] = {"abc", "12a", ""};
  if (b->quirk == Q_BAD_ID) {
    gen_puts(o, bad[b->arg % 3]);
    return;
  }
  char tmp[24];
  put_spaced(o, b, 0, tmp, gen_fmt_u64(tmp, b->a.id));
}

static void put_name(gen_out *o, const bio_row *b, int twin) {
  if (twin)
    gen_put_name_twin(o, b->name, b->name_len);
  else if (b->quirk == Q_BAD_UTF8)
    gen_put_name_bad_utf8(o, b->name, b->name_len, b->arg);
  else
    put_spaced(o, b, 1, b->name, b->name_len);
}

static void put_born(gen_out *o, const bio_row *b) {
  if (b->born_fmt == 1) {
    gen_put_u64(o, (uint64_t)b->day);
    gen_putc(o, ' ');
  }
  if (b->born_fmt == 1 || b->born_fmt == 3) {
    gen_puts(o, gen_months[b->month]);
    gen_putc(o, ' ');
  }
  if (b->born_fmt) gen_put_u64(o, (uint64_t)b->year);
}

/* Writes a height or weight value in format fmt (0 empty, 1 "76.0", 2 "76"). */
static void put_measure(gen_out *o, const bio_row *b, int field, int v, int fmt) {
  char tmp[24];
  size_t n = fmt ? gen_fmt_u64(tmp, (uint64_t)v) : 0;
  if (fmt == 1) {
    memcpy(tmp + n, ".0", 2);
    n += 2;
  }
  put_spaced(o, b, field, tmp, n);
}

/* height,weight: the bad-number quirk replaces one of them with a real-looking non-number. */
static void put_height_weight(gen_out *o, const bio_row *b) {
  static const char *const bad_height[] = {"1.8e2", "183cm"};
  static const char *const bad_weight[] = {"60-64", "\"72, 74\"", "60-64", "\"72, 74\"", "76kg"};
  int k = b->arg % 7;
  if (b->quirk == Q_BAD_NUMBER && k < 2)
    gen_puts(o, bad_height[k]);
  else
    put_measure(o, b, 2, b->height, b->height_fmt);
  gen_putc(o, ',');
  if (b->quirk == Q_BAD_NUMBER && k >= 2)
    gen_puts(o, bad_weight[k - 2]);
  else
    put_measure(o, b, 3, b->weight, b->weight_fmt);
}

static void put_description(gen_out *o, const bio_ctx *c, const bio_row *b) {
  static const char *const seps[] = {" ", "\n", "\r\n"};
  if (b->desc_quoted) gen_putc(o, '"');
  for (int i = 0; i < b->ndesc; i++) {
    int s = b->desc[i];
    if (i) gen_puts(o, seps[b->sep[i]]);
    if (!c->sent_quote[s]) {
      gen_put(o, gen_sentences[s], c->sent_len[s]);
      continue;
    }
    for (const char *p = gen_sentences[s]; *p; p++) {
      if (*p == '"') gen_putc(o, '"');
      gen_putc(o, *p);
    }
  }
  if (b->desc_quoted) gen_putc(o, '"');
}

static void put_note(gen_out *o, const bio_row *b) {
  if (b->quirk == Q_STRAY_QUOTE) {
    gen_puts(o, "Known as \"");
    gen_puts(o, gen_nicknames[b->arg % gen_n_nicknames]);
    gen_puts(o, "\" by fans");
  } else if (b->note >= 0) {
    gen_put_field(o, gen_notes[b->note], strlen(gen_notes[b->note]));
  }
}

/* country: QUOTE_MINIMAL, usually with a leading space (the names hold no quotes). */
static void put_country(gen_out *o, const bio_row *b, const char *country) {
  int quoted = strchr(country, ',') != NULL;
  if (quoted) gen_putc(o, '"');
  if (b->country_space) gen_putc(o, ' ');
  gen_puts(o, country);
  if (quoted) gen_putc(o, '"');
  gen_putc(o, ',');
}

/* Writes one record (twin: as the clean-duplicate twin of the previous one). */
static void put_row(gen_out *o, const bio_ctx *c, const bio_row *b, int twin) {
  const gen_noc *noc = &gen_nocs[b->a.noc];
  put_id(o, b);
  gen_putc(o, ',');
  put_name(o, b, twin);
  gen_puts(o, b->a.female ? ",Female," : ",Male,");
  put_born(o, b);
  gen_putc(o, ',');
  put_height_weight(o, b);
  gen_putc(o, ',');
  put_country(o, b, noc->country);
  gen_puts(o, noc->code);
  gen_putc(o, ',');
  put_description(o, c, b);
  if (!(b->quirk == Q_WRONG_FIELDS && b->arg % 2 == 0)) gen_putc(o, ',');
  put_note(o, b);
  if (b->quirk == Q_WRONG_FIELDS && b->arg % 2 == 1) gen_puts(o, ",Olympedia");
  gen_puts(o, "\r\n");
}

void gen_bio_file(gen_file_job *job) {
  bio_ctx c;
  ctx_init(&c);
  gen_out *o = &job->out;
  gen_rng r = {gen_mix(job->seed ^ 0xb10b10b10ULL)};
  bio_row b;
  gen_puts(o, "athlete_id,name,sex,born,height,weight,country,country_noc,description,"
              "special_notes\r\n");
  int64_t written = 0;
  for (int64_t idx = 0; written < job->rows; idx++) {
    fill_row(&c, &r, job->seed, idx, &b);
    gen_reserve(o);
    if (b.quirk == Q_BLANK) gen_puts(o, "\r\n");
    size_t start = o->len;
    put_row(o, &c, &b, 0);
    written++;
    if (written == job->rows) break;
    if (b.quirk == Q_DUP_EXACT) {
      size_t n = o->len - start;
      memcpy(o->buf + o->len, o->buf + start, n);
      o->len += n;
      written++;
    } else if (b.quirk == Q_DUP_CLEAN) {
      put_row(o, &c, &b, 1);
      written++;
    }
  }
}
