/* Internals of the Parquet writer, shared by its files and the unit tests:
 *   pq_buf.c       growable byte buffer
 *   pq_thrift.c    Thrift compact-protocol encoder (footer, page headers)
 *   pq_encode.c    RLE/bit-packed hybrid and PLAIN encodings
 *   pq_dict.c      dictionary builder (open-addressing hash table)
 *   pq_compress.c  page compression (zstd, snappy, none)
 *   pq_sink.c      byte sink: temporary file renamed on success, or memory
 *   pq_column.c    one column chunk: pages, statistics, chunk metadata
 *   pq_footer.c    FileMetaData
 *   pq_writer.c    the public API (parquet.h) */
#ifndef ATHLETE_PARQUET_PQ_INTERNAL_H
#define ATHLETE_PARQUET_PQ_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parquet/parquet.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet writer copies values as little-endian bytes"
#endif

/* ---- pq_buf.c: growable byte buffer ---------------------------------------------------- */
typedef struct pq_buf {
  uint8_t *data;
  size_t len, cap;
} pq_buf;

/* Makes room for `more` bytes after len. */
void pq_buf_reserve(pq_buf *b, size_t more);
void pq_buf_free(pq_buf *b);
static inline void pq_buf_put(pq_buf *b, const void *p, size_t n) {
  if (b->cap - b->len < n) pq_buf_reserve(b, n);
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
}
static inline void pq_buf_byte(pq_buf *b, uint8_t v) {
  if (b->len == b->cap) pq_buf_reserve(b, 1);
  b->data[b->len++] = v;
}
/* Appends a 4-byte little-endian unsigned integer. */
void pq_buf_u32le(pq_buf *b, uint32_t v);

/* ---- pq_thrift.c: Thrift compact protocol ---------------------------------------------- */
enum pq_ttype {
  PQ_T_TRUE = 1,
  PQ_T_FALSE = 2,
  PQ_T_I16 = 4,
  PQ_T_I32 = 5,
  PQ_T_I64 = 6,
  PQ_T_BINARY = 8,
  PQ_T_LIST = 9,
  PQ_T_STRUCT = 12,
};
#define PQ_THRIFT_MAX_DEPTH 16

/* An encoder writing one top-level struct into `out`; it tracks the last field id of each
 * open struct because compact field headers store id deltas. */
typedef struct pq_thrift {
  pq_buf *out;
  int depth;
  int16_t last[PQ_THRIFT_MAX_DEPTH];
} pq_thrift;

/* ULEB128 varint. */
void pq_varint(pq_buf *b, uint64_t v);
/* Zigzag mapping of signed to unsigned (0,-1,1,-2 -> 0,1,2,3). */
static inline uint64_t pq_zigzag(int64_t v) {
  return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void pq_thrift_init(pq_thrift *t, pq_buf *out);
void pq_thrift_i16(pq_thrift *t, int16_t id, int16_t v);
void pq_thrift_i32(pq_thrift *t, int16_t id, int32_t v);
void pq_thrift_i64(pq_thrift *t, int16_t id, int64_t v);
void pq_thrift_bool(pq_thrift *t, int16_t id, bool v);
void pq_thrift_binary(pq_thrift *t, int16_t id, const void *p, size_t n);
static inline void pq_thrift_string(pq_thrift *t, int16_t id, const char *s) {
  pq_thrift_binary(t, id, s, strlen(s));
}
/* Opens a struct-valued field; close it with pq_thrift_end. */
void pq_thrift_struct(pq_thrift *t, int16_t id);
/* Opens a list field of `n` elements of compact type `elem`; list elements then follow:
 * pq_thrift_elem_struct (+ fields + pq_thrift_end), pq_thrift_elem_i32, pq_thrift_elem_binary. */
void pq_thrift_list(pq_thrift *t, int16_t id, uint8_t elem, size_t n);
void pq_thrift_elem_struct(pq_thrift *t);
void pq_thrift_elem_i32(pq_thrift *t, int32_t v);
void pq_thrift_elem_binary(pq_thrift *t, const void *p, size_t n);
/* Writes the stop byte of the innermost open struct (the top-level one last). */
void pq_thrift_end(pq_thrift *t);

/* ---- pq_encode.c: encodings -------------------------------------------------------------- */
/* Bits needed to store values 0..max_value (0 for 0). */
int pq_bit_width(uint64_t max_value);
/* RLE/bit-packed hybrid encoding of vals[0..n) at `bit_width` (1..32), without a length
 * prefix: runs of 8 or more equal values become RLE runs, the rest bit-packed runs padded to
 * a multiple of 8 values. */
void pq_rle_encode(pq_buf *out, const uint32_t *vals, size_t n, int bit_width);
/* Packs vals[0..n) LSB first at bit_width bits each, padding the last byte with zeros. */
void pq_bitpack(pq_buf *out, const uint32_t *vals, size_t n, int bit_width);
/* PLAIN encodings of the non-null values of rows [start, start + n) of column c. */
void pq_plain_encode(pq_buf *out, const column *c, int64_t start, int64_t n);

/* ---- pq_dict.c: dictionary --------------------------------------------------------------- */
/* Distinct values of one column chunk, each with a dense index (0, 1, ...) in order of first
 * appearance. Fixed-width values (INT64, TIMESTAMP, DOUBLE) are keyed by their 8 bytes, so
 * -0.0 and 0.0 (and NaN payloads) stay distinct. Buffers are reused across chunks. */
typedef struct pq_dict {
  col_type type;
  uint64_t *slots; /* hash tag (high 32 bits) | entry index + 1, 0 = empty; nslots is a
                      power of two */
  size_t nslots;
  uint32_t n;       /* entries */
  uint64_t *hashes; /* per entry */
  uint64_t *fixed;  /* per entry (fixed-width types) */
  int64_t *offs;    /* n + 1 offsets into bytes (strings) */
  size_t entry_cap;
  pq_buf bytes;       /* string bytes */
  size_t plain_bytes; /* size of the PLAIN-encoded dictionary page */
} pq_dict;

/* Builds the dictionary of the non-null values of rows [start, start + n) of c, writing each
 * value's index to idx (one per non-null row, in row order). Returns false (the dictionary
 * is then unusable) as soon as its PLAIN size passes max_bytes, or when after 8192 values
 * more than 90% were distinct (it could not beat PLAIN). */
bool pq_dict_build(pq_dict *d, const column *c, int64_t start, int64_t n, size_t max_bytes,
                   uint32_t *idx);
/* PLAIN encoding of the dictionary entries (the dictionary page body). */
void pq_dict_plain(const pq_dict *d, pq_buf *out);
void pq_dict_free(pq_dict *d);

/* ---- pq_compress.c --------------------------------------------------------------------- */
typedef struct pq_compressor {
  pq_codec codec;
  int level;
  void *zctx; /* ZSTD_CCtx, reused */
  pq_buf out;
} pq_compressor;

/* Compresses src[0..n); on success *dst points at the result (into c->out, or at src for
 * PQ_CODEC_NONE), valid until the next call. Returns ATH_OK or ATH_ERR. */
int pq_compress(pq_compressor *c, const uint8_t *src, size_t n, const uint8_t **dst,
                size_t *dst_len, ath_error *err);
/* Parquet's CompressionCodec value (UNCOMPRESSED=0, SNAPPY=1, ZSTD=6). */
int pq_codec_thrift(pq_codec c);
void pq_compressor_free(pq_compressor *c);

/* ---- pq_sink.c: where the bytes go ------------------------------------------------------- */
typedef struct pq_sink {
  int fd;          /* -1 for a memory sink */
  char *path;      /* final name (file sink) */
  char *tmp;       /* "<path>.tmp" (file sink) */
  pq_buf buf;      /* write buffer (file) or the whole file (memory) */
  uint64_t offset; /* bytes written so far (file position) */
} pq_sink;

/* Opens "<path>.tmp" for writing. Returns ATH_OK or ATH_ERR. */
int pq_sink_open_file(pq_sink *s, const char *path, ath_error *err);
void pq_sink_open_mem(pq_sink *s);
int pq_sink_write(pq_sink *s, const void *p, size_t n, ath_error *err);
/* File sink: flushes, fsyncs, closes, renames to the final name and syncs the directory.
 * Memory sink: hands the buffer to *mem and *mem_len. Returns ATH_OK or ATH_ERR. */
int pq_sink_finish(pq_sink *s, uint8_t **mem, size_t *mem_len, ath_error *err);
/* Closes and removes the temporary file, frees the buffer. */
void pq_sink_discard(pq_sink *s);

/* ---- pq_column.c: column chunks ---------------------------------------------------------- */
/* What the footer needs to know about one written column chunk. */
typedef struct pq_chunk_meta {
  int64_t num_values;               /* rows, nulls included */
  int64_t uncompressed, compressed; /* page headers included */
  int64_t data_page_offset;
  int64_t dict_page_offset; /* -1 when there is no dictionary page */
  int64_t null_count;
  int32_t data_pages; /* for encoding_stats */
  bool has_minmax;
  uint8_t *min, *max; /* owned (xmalloc), PLAIN bytes without a length prefix */
  size_t min_len, max_len;
} pq_chunk_meta;

/* Scratch buffers of a writer, reused from chunk to chunk. */
typedef struct pq_scratch {
  pq_buf page, hdr, dictbuf;
  uint32_t *idx, *levels;
  size_t idx_cap, levels_cap;
  pq_dict dict;
  pq_compressor comp;
} pq_scratch;

/* Writes rows [start, start + n) of c as one column chunk to s, filling *m. Returns ATH_OK
 * or ATH_ERR. */
int pq_write_chunk(pq_scratch *sc, pq_sink *s, const column *c, int64_t start, int64_t n,
                   const pq_options *opt, pq_chunk_meta *m, ath_error *err);
void pq_chunk_meta_free(pq_chunk_meta *m);
void pq_scratch_free(pq_scratch *sc);

/* ---- pq_footer.c ------------------------------------------------------------------------- */
typedef struct pq_rowgroup_meta {
  int64_t num_rows;
  pq_chunk_meta *cols; /* one per field */
} pq_rowgroup_meta;

/* Serialises FileMetaData (without the length and magic that follow it). */
void pq_footer_encode(pq_buf *out, const field_def *fields, int nfields,
                      const pq_rowgroup_meta *rgs, size_t nrg, int64_t num_rows,
                      const char *created_by, int codec);

#endif
