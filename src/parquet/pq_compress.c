/* Page compression: zstd (one context reused for every page), snappy, or none. */
#include <snappy-c.h>
#include <zstd.h>

#include "parquet/pq_internal.h"

int pq_codec_thrift(pq_codec c) {
  switch (c) {
  case PQ_CODEC_SNAPPY:
    return 1;
  case PQ_CODEC_ZSTD:
    return 6;
  case PQ_CODEC_NONE:
    break;
  }
  return 0;
}

/* zstd into c->out; returns ATH_OK or ATH_ERR with zstd's reason. */
static int compress_zstd(pq_compressor *c, const uint8_t *src, size_t n, ath_error *err) {
  if (!c->zctx) {
    c->zctx = ZSTD_createCCtx();
    if (!c->zctx) return ath_fail(err, ATH_ERR, "zstd: cannot create a compression context");
  }
  size_t bound = ZSTD_compressBound(n);
  pq_buf_reserve(&c->out, bound);
  size_t got = ZSTD_compressCCtx(c->zctx, c->out.data, bound, src, n, c->level);
  if (ZSTD_isError(got)) return ath_fail(err, ATH_ERR, "zstd: %s", ZSTD_getErrorName(got));
  c->out.len = got;
  return ATH_OK;
}

/* snappy into c->out; returns ATH_OK or ATH_ERR. */
static int compress_snappy(pq_compressor *c, const uint8_t *src, size_t n, ath_error *err) {
  size_t got = snappy_max_compressed_length(n);
  pq_buf_reserve(&c->out, got);
  if (snappy_compress((const char *)src, n, (char *)c->out.data, &got) != SNAPPY_OK)
    return ath_fail(err, ATH_ERR, "snappy: compression of %zu bytes failed", n);
  c->out.len = got;
  return ATH_OK;
}

int pq_compress(pq_compressor *c, const uint8_t *src, size_t n, const uint8_t **dst,
                size_t *dst_len, ath_error *err) {
  int rc = ATH_OK;
  c->out.len = 0;
  switch (c->codec) {
  case PQ_CODEC_NONE:
    *dst = src;
    *dst_len = n;
    return ATH_OK;
  case PQ_CODEC_ZSTD:
    rc = compress_zstd(c, src, n, err);
    break;
  case PQ_CODEC_SNAPPY:
    rc = compress_snappy(c, src, n, err);
    break;
  }
  *dst = c->out.data;
  *dst_len = c->out.len;
  return rc;
}

void pq_compressor_free(pq_compressor *c) {
  if (c->zctx) ZSTD_freeCCtx(c->zctx);
  pq_buf_free(&c->out);
  c->zctx = NULL;
}
