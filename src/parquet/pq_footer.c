/* FileMetaData (parquet.thrift): schema, row groups with column chunk metadata and
 * statistics, created_by and column orders. Field ids are the ones in parquet.thrift. */
#include "parquet/pq_internal.h"

enum { T_BOOLEAN = 0, T_INT64 = 2, T_DOUBLE = 5, T_BYTE_ARRAY = 6 }; /* Type */
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };                         /* FieldRepetitionType */
enum { CONV_UTF8 = 0, CONV_TIMESTAMP_MICROS = 10 };                  /* ConvertedType */
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };         /* Encoding */
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };                         /* PageType */

static int physical_type(col_type t) {
  switch (t) {
  case COL_STRING:
    return T_BYTE_ARRAY;
  case COL_DOUBLE:
    return T_DOUBLE;
  case COL_BOOL:
    return T_BOOLEAN;
  case COL_INT64:
  case COL_TIMESTAMP:
    break;
  }
  return T_INT64;
}

/* One leaf SchemaElement, with converted and logical types for strings and timestamps. */
static void schema_leaf(pq_thrift *t, const field_def *f) {
  pq_thrift_elem_struct(t);
  pq_thrift_i32(t, 1, physical_type(f->type));
  pq_thrift_i32(t, 3, f->nullable ? REP_OPTIONAL : REP_REQUIRED);
  pq_thrift_string(t, 4, f->name);
  if (f->type == COL_STRING) {
    pq_thrift_i32(t, 6, CONV_UTF8);
    pq_thrift_struct(t, 10); /* logicalType */
    pq_thrift_struct(t, 1);  /* STRING: StringType {} */
    pq_thrift_end(t);
    pq_thrift_end(t);
  } else if (f->type == COL_TIMESTAMP) {
    pq_thrift_i32(t, 6, CONV_TIMESTAMP_MICROS);
    pq_thrift_struct(t, 10);    /* logicalType */
    pq_thrift_struct(t, 8);     /* TIMESTAMP: TimestampType */
    pq_thrift_bool(t, 1, true); /* isAdjustedToUTC */
    pq_thrift_struct(t, 2);     /* unit: TimeUnit */
    pq_thrift_struct(t, 2);     /* MICROS: MicroSeconds {} */
    pq_thrift_end(t);
    pq_thrift_end(t);
    pq_thrift_end(t);
    pq_thrift_end(t);
  }
  pq_thrift_end(t);
}

/* The schema list: the root (name and num_children only), then one leaf per field. */
static void schema(pq_thrift *t, const field_def *fields, int nfields) {
  pq_thrift_list(t, 2, PQ_T_STRUCT, (size_t)nfields + 1);
  pq_thrift_elem_struct(t);
  pq_thrift_string(t, 4, "schema");
  pq_thrift_i32(t, 5, nfields);
  pq_thrift_end(t);
  for (int i = 0; i < nfields; i++)
    schema_leaf(t, &fields[i]);
}

/* Statistics: null_count always, min_value/max_value when known. */
static void statistics(pq_thrift *t, const pq_chunk_meta *m) {
  pq_thrift_struct(t, 12);
  pq_thrift_i64(t, 3, m->null_count);
  if (m->has_minmax) {
    pq_thrift_binary(t, 5, m->max, m->max_len);
    pq_thrift_binary(t, 6, m->min, m->min_len);
  }
  pq_thrift_end(t);
}

/* One PageEncodingStats element. */
static void page_stats(pq_thrift *t, int page_type, int encoding, int32_t count) {
  pq_thrift_elem_struct(t);
  pq_thrift_i32(t, 1, page_type);
  pq_thrift_i32(t, 2, encoding);
  pq_thrift_i32(t, 3, count);
  pq_thrift_end(t);
}

/* encoding_stats: how many pages of each kind, so readers know every data page of a
 * dictionary chunk is dictionary-encoded. */
static void encoding_stats(pq_thrift *t, const pq_chunk_meta *m) {
  bool dict = m->dict_page_offset >= 0;
  pq_thrift_list(t, 13, PQ_T_STRUCT, dict ? 2 : 1);
  if (dict) page_stats(t, PAGE_DICTIONARY, ENC_PLAIN, 1);
  page_stats(t, PAGE_DATA, dict ? ENC_RLE_DICTIONARY : ENC_PLAIN, m->data_pages);
}

/* ColumnChunk with its ColumnMetaData. */
static void column_chunk(pq_thrift *t, const field_def *f, const pq_chunk_meta *m, int codec) {
  bool dict = m->dict_page_offset >= 0;
  pq_thrift_elem_struct(t);
  pq_thrift_i64(t, 2,
                0); /* file_offset: deprecated, 0 when no ColumnMetaData is outside the footer */
  pq_thrift_struct(t, 3);
  pq_thrift_i32(t, 1, physical_type(f->type));
  int encs[3], nenc = 0;
  encs[nenc++] = ENC_PLAIN;
  if (f->nullable) encs[nenc++] = ENC_RLE;
  if (dict) encs[nenc++] = ENC_RLE_DICTIONARY;
  pq_thrift_list(t, 2, PQ_T_I32, (size_t)nenc);
  for (int i = 0; i < nenc; i++)
    pq_thrift_elem_i32(t, encs[i]);
  pq_thrift_list(t, 3, PQ_T_BINARY, 1);
  pq_thrift_elem_binary(t, f->name, strlen(f->name));
  pq_thrift_i32(t, 4, codec);
  pq_thrift_i64(t, 5, m->num_values);
  pq_thrift_i64(t, 6, m->uncompressed);
  pq_thrift_i64(t, 7, m->compressed);
  pq_thrift_i64(t, 9, m->data_page_offset);
  if (dict) pq_thrift_i64(t, 11, m->dict_page_offset);
  statistics(t, m);
  encoding_stats(t, m);
  pq_thrift_end(t);
  pq_thrift_end(t);
}

/* One RowGroup: total_byte_size is the uncompressed size of its chunks. */
static void row_group(pq_thrift *t, const field_def *fields, int nfields,
                      const pq_rowgroup_meta *rg, int ordinal, int codec) {
  int64_t uncompressed = 0, compressed = 0;
  for (int i = 0; i < nfields; i++) {
    uncompressed += rg->cols[i].uncompressed;
    compressed += rg->cols[i].compressed;
  }
  const pq_chunk_meta *first = &rg->cols[0];
  pq_thrift_elem_struct(t);
  pq_thrift_list(t, 1, PQ_T_STRUCT, (size_t)nfields);
  for (int i = 0; i < nfields; i++)
    column_chunk(t, &fields[i], &rg->cols[i], codec);
  pq_thrift_i64(t, 2, uncompressed);
  pq_thrift_i64(t, 3, rg->num_rows);
  pq_thrift_i64(t, 5,
                first->dict_page_offset >= 0 ? first->dict_page_offset : first->data_page_offset);
  pq_thrift_i64(t, 6, compressed);
  if (ordinal <= INT16_MAX) pq_thrift_i16(t, 7, (int16_t)ordinal);
  pq_thrift_end(t);
}

void pq_footer_encode(pq_buf *out, const field_def *fields, int nfields,
                      const pq_rowgroup_meta *rgs, size_t nrg, int64_t num_rows,
                      const char *created_by, int codec) {
  pq_thrift t;
  pq_thrift_init(&t, out);
  pq_thrift_i32(&t, 1, 2); /* version */
  schema(&t, fields, nfields);
  pq_thrift_i64(&t, 3, num_rows);
  pq_thrift_list(&t, 4, PQ_T_STRUCT, nrg);
  for (size_t i = 0; i < nrg; i++)
    row_group(&t, fields, nfields, &rgs[i], (int)i, codec);
  pq_thrift_string(&t, 6, created_by);
  pq_thrift_list(&t, 7, PQ_T_STRUCT, (size_t)nfields); /* column_orders */
  for (int i = 0; i < nfields; i++) {
    pq_thrift_elem_struct(&t);
    pq_thrift_struct(&t, 1); /* TYPE_ORDER: TypeDefinedOrder {} */
    pq_thrift_end(&t);
    pq_thrift_end(&t);
  }
  pq_thrift_end(&t);
}
