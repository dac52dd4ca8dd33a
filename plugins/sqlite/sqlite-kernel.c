/* sqlite-kernel.c: float32 dot products for the vector scan
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A namespace's vectors are contiguous float32 rows of unit length, so
 * cosine similarity is a dot product and a search is one pass over the
 * rows. That pass has to run at memory bandwidth, and the code that can
 * do so depends on the CPU, which is known only at run time: the package
 * is built on one machine and run on others (AVX2 only on one, AVX-512 on
 * the next). So the file is built for the baseline ISA and its AVX2 and
 * AVX-512 functions are compiled with target attributes, the choice being
 * made once per process from what the CPU reports.
 *
 * Every level computes one (query, row) score the same way whether one
 * query or several are scored: the rows are split into the same lanes and
 * accumulators and the lanes are added in the same order. Scores are thus
 * reproducible for a level, and sqlite_kernel_dot_multi() gives exactly
 * what sqlite_kernel_dot() gives. Different levels may differ in the last
 * bits, being different float sums.
 *
 * Nothing here assumes alignment, not even 4 bytes: a blob on an SQLite
 * page starts wherever its record put it. The vector paths use unaligned
 * loads, the portable one reads floats through memcpy.
 */
#include "sqlite-kernel.h"

#include <math.h>
#include <string.h>

#if (defined (__x86_64__) || defined (__i386__)) && defined (__GNUC__)
#define SQLITE_KERNEL_X86 1
#include <immintrin.h>
#endif

/* Queries the driver hands a level at once, to score against a tile of
 * rows: as many as the AVX-512 registers hold accumulators for. */
#define QUERY_BLOCK 4

/* sqlite_kernel_dot_multi() scores all query blocks against a tile of rows
 * before going to the next tile, so each row comes from memory once and
 * from the L2 cache for the other blocks. */
#define TILE_BYTES (64 * 1024)

/* Scores a block of 1..QUERY_BLOCK queries (@queries, one after another)
 * against @n_rows rows: scores[q * scores_stride + r]. */
typedef void (*ScoreRowsFunc) (const float *queries,
                               guint        n_queries,
                               const float *rows,
                               gsize        n_rows,
                               gsize        dims,
                               float       *scores,
                               gsize        scores_stride);

/* Portable: eight independent float sums, so the sums do not wait on
 * each other and GCC (12 on) turns each group of eight into vector
 * operations at -O2 on any architecture. It does not do so for a block of
 * queries (too many sums for its cheap cost model), so the portable path
 * scores one query at a time and counts on the tile of rows staying in
 * cache. */

#define PORTABLE_LANES 8

static inline float
load_float (const float *p)
{
  float x;

  memcpy (&x, p, sizeof x);
  return x;
}

static inline float
dot_row_portable (const float *query,
                  const float *row,
                  gsize        dims)
{
  float acc[PORTABLE_LANES] = { 0 };
  gsize i;
  guint k;

  for (i = 0; i + PORTABLE_LANES <= dims; i += PORTABLE_LANES)
    {
#pragma GCC unroll 8
      for (k = 0; k < PORTABLE_LANES; k++)
        acc[k] += load_float (query + i + k) * load_float (row + i + k);
    }

  /* The tail goes to the first lanes, as if the row went on with zeros. */
  for (k = 0; i < dims; k++, i++)
    acc[k] += load_float (query + i) * load_float (row + i);

  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

static void
score_rows_portable (const float *queries,
                     guint        n_queries,
                     const float *rows,
                     gsize        n_rows,
                     gsize        dims,
                     float       *scores,
                     gsize        scores_stride)
{
  for (guint q = 0; q < n_queries; q++)
    for (gsize r = 0; r < n_rows; r++)
      scores[q * scores_stride + r] = dot_row_portable (queries + q * dims, rows + r * dims, dims);
}

#ifdef SQLITE_KERNEL_X86

/* A block scores one row against up to QUERY_BLOCK queries, each in
 * accumulators of its own, so the row is loaded once for all of them.
 *
 * A single query goes through the rows one at a time, reloading its
 * chunks from L1 for each row: 48 loads per 384-float row, about 20 ns per
 * row on data in cache (Zen 4), where loads are the limit. Sharing the
 * query's loads among a few rows saves a third of them and was 1.4 times
 * faster in cache, but it reads rows interleaved, and from memory that
 * measured half the bandwidth for adjacent rows; as a few long streams
 * (rows n/4 apart) it kept the bandwidth only for calls of many rows, not
 * for the page-sized segments the store scans. A scan is memory bound, so
 * rows go one at a time, in one ascending stream. Software prefetch
 * measured no better than the hardware prefetchers, so there is none. */

#define TARGET_INLINE(isa) __attribute__ ((always_inline, target (isa))) static inline

/* AVX2 + FMA: 4 accumulators of 8 lanes per query, enough independent
 * FMAs to cover their latency. A block of 3 queries takes 12 of the 16 ymm
 * registers, and the rest hold the loads. */

#define AVX2_LANES 8
#define AVX2_ACCS  4
#define AVX2_BLOCK 3

/* Loaded from 8 - n: the first n lanes set. */
static const gint32 avx2_tail_masks[2 * AVX2_LANES] = {
  -1, -1, -1, -1, -1, -1, -1, -1,
  0, 0, 0, 0, 0, 0, 0, 0,
};

TARGET_INLINE ("avx2,fma") float
sum_lanes_avx2 (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_shuffle_ps (s, s, 1));
  return _mm_cvtss_f32 (s);
}

/* out[q * out_stride] = dot (queries + q * dims, row) for q < n */
TARGET_INLINE ("avx2,fma") void
dot_block_avx2 (const float *queries,
                guint        n,
                const float *row,
                gsize        dims,
                float       *out,
                gsize        out_stride)
{
  __m256 acc[AVX2_BLOCK][AVX2_ACCS];
  gsize i;
  guint c, q;

#pragma GCC unroll 3
  for (q = 0; q < n; q++)
#pragma GCC unroll 4
    for (c = 0; c < AVX2_ACCS; c++)
      acc[q][c] = _mm256_setzero_ps ();

  for (i = 0; i + AVX2_LANES * AVX2_ACCS <= dims; i += AVX2_LANES * AVX2_ACCS)
    {
#pragma GCC unroll 4
      for (c = 0; c < AVX2_ACCS; c++)
        {
          __m256 x = _mm256_loadu_ps (row + i + c * AVX2_LANES);

#pragma GCC unroll 3
          for (q = 0; q < n; q++)
            acc[q][c] = _mm256_fmadd_ps (_mm256_loadu_ps (queries + q * dims + i + c * AVX2_LANES),
                                         x, acc[q][c]);
        }
    }

  /* Fewer than 32 floats left: one more round, each chunk masked to what
   * is there. Masked-off lanes are not read, so a row may end at the end
   * of a page. */
#pragma GCC unroll 4
  for (c = 0; c < AVX2_ACCS; c++, i += AVX2_LANES)
    {
      gsize left;
      __m256i mask;
      __m256 x;

      if (i >= dims)
        break;

      left = MIN (dims - i, AVX2_LANES);
      mask = _mm256_loadu_si256 ((const __m256i *) (avx2_tail_masks + AVX2_LANES - left));
      x = _mm256_maskload_ps (row + i, mask);

#pragma GCC unroll 3
      for (q = 0; q < n; q++)
        acc[q][c] = _mm256_fmadd_ps (_mm256_maskload_ps (queries + q * dims + i, mask), x, acc[q][c]);
    }

#pragma GCC unroll 3
  for (q = 0; q < n; q++)
    out[q * out_stride] = sum_lanes_avx2 (_mm256_add_ps (_mm256_add_ps (acc[q][0], acc[q][1]),
                                                         _mm256_add_ps (acc[q][2], acc[q][3])));
}

/* @n queries (a constant once inlined) against each row in turn. */
TARGET_INLINE ("avx2,fma") void
score_each_row_avx2 (const float *queries,
                     guint        n,
                     const float *rows,
                     gsize        n_rows,
                     gsize        dims,
                     float       *scores,
                     gsize        scores_stride)
{
  for (gsize r = 0; r < n_rows; r++)
    dot_block_avx2 (queries, n, rows + r * dims, dims, scores + r, scores_stride);
}

__attribute__ ((target ("avx2,fma"))) static void
score_rows_avx2 (const float *queries,
                 guint        n_queries,
                 const float *rows,
                 gsize        n_rows,
                 gsize        dims,
                 float       *scores,
                 gsize        scores_stride)
{
  while (n_queries > 0)
    {
      guint n = MIN (n_queries, AVX2_BLOCK);

      switch (n)
        {
        case 1: score_each_row_avx2 (queries, 1, rows, n_rows, dims, scores, scores_stride); break;
        case 2: score_each_row_avx2 (queries, 2, rows, n_rows, dims, scores, scores_stride); break;
        case 3: score_each_row_avx2 (queries, 3, rows, n_rows, dims, scores, scores_stride); break;
        default: g_assert_not_reached ();
        }
      queries += n * dims;
      scores += n * scores_stride;
      n_queries -= n;
    }
}

/* AVX-512F: 4 accumulators of 16 lanes per query; a block of 4 queries
 * takes 16 of the 32 zmm registers. */

#define AVX512_LANES 16
#define AVX512_ACCS  4
#define AVX512_BLOCK 4

G_STATIC_ASSERT (AVX512_BLOCK == QUERY_BLOCK);

/* out[q * out_stride] = dot (queries + q * dims, row) for q < n */
TARGET_INLINE ("avx512f") void
dot_block_avx512 (const float *queries,
                  guint        n,
                  const float *row,
                  gsize        dims,
                  float       *out,
                  gsize        out_stride)
{
  __m512 acc[AVX512_BLOCK][AVX512_ACCS];
  gsize i;
  guint c, q;

#pragma GCC unroll 4
  for (q = 0; q < n; q++)
#pragma GCC unroll 4
    for (c = 0; c < AVX512_ACCS; c++)
      acc[q][c] = _mm512_setzero_ps ();

  for (i = 0; i + AVX512_LANES * AVX512_ACCS <= dims; i += AVX512_LANES * AVX512_ACCS)
    {
#pragma GCC unroll 4
      for (c = 0; c < AVX512_ACCS; c++)
        {
          __m512 x = _mm512_loadu_ps (row + i + c * AVX512_LANES);

#pragma GCC unroll 4
          for (q = 0; q < n; q++)
            acc[q][c] = _mm512_fmadd_ps (_mm512_loadu_ps (queries + q * dims + i + c * AVX512_LANES),
                                         x, acc[q][c]);
        }
    }

  /* Fewer than 64 floats left: one more round with masked loads, which
   * read nothing past the row. */
#pragma GCC unroll 4
  for (c = 0; c < AVX512_ACCS; c++, i += AVX512_LANES)
    {
      __mmask16 mask;
      __m512 x;

      if (i >= dims)
        break;

      mask = dims - i >= AVX512_LANES ? (__mmask16) 0xffff : (__mmask16) ((1u << (dims - i)) - 1);
      x = _mm512_maskz_loadu_ps (mask, row + i);

#pragma GCC unroll 4
      for (q = 0; q < n; q++)
        acc[q][c] = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (mask, queries + q * dims + i), x, acc[q][c]);
    }

#pragma GCC unroll 4
  for (q = 0; q < n; q++)
    out[q * out_stride] = _mm512_reduce_add_ps (_mm512_add_ps (_mm512_add_ps (acc[q][0], acc[q][1]),
                                                               _mm512_add_ps (acc[q][2], acc[q][3])));
}

/* @n queries (a constant once inlined) against each row in turn. */
TARGET_INLINE ("avx512f") void
score_each_row_avx512 (const float *queries,
                       guint        n,
                       const float *rows,
                       gsize        n_rows,
                       gsize        dims,
                       float       *scores,
                       gsize        scores_stride)
{
  for (gsize r = 0; r < n_rows; r++)
    dot_block_avx512 (queries, n, rows + r * dims, dims, scores + r, scores_stride);
}

__attribute__ ((target ("avx512f"))) static void
score_rows_avx512 (const float *queries,
                   guint        n_queries,
                   const float *rows,
                   gsize        n_rows,
                   gsize        dims,
                   float       *scores,
                   gsize        scores_stride)
{
  switch (n_queries)
    {
    case 1: score_each_row_avx512 (queries, 1, rows, n_rows, dims, scores, scores_stride); break;
    case 2: score_each_row_avx512 (queries, 2, rows, n_rows, dims, scores, scores_stride); break;
    case 3: score_each_row_avx512 (queries, 3, rows, n_rows, dims, scores, scores_stride); break;
    case 4: score_each_row_avx512 (queries, 4, rows, n_rows, dims, scores, scores_stride); break;
    default: g_assert_not_reached ();
    }
}

/* One row against one query, for callers that score vectors one at a
 * time (the ANN index's graph walk): no dispatch on every call. */
__attribute__ ((target ("avx2,fma"))) static float
dot_one_avx2 (const float *a,
              const float *b,
              gsize        dims)
{
  float out;

  dot_block_avx2 (a, 1, b, dims, &out, 1);
  return out;
}

__attribute__ ((target ("avx512f"))) static float
dot_one_avx512 (const float *a,
                const float *b,
                gsize        dims)
{
  float out;

  dot_block_avx512 (a, 1, b, dims, &out, 1);
  return out;
}

#endif /* SQLITE_KERNEL_X86 */

static float
dot_one_portable (const float *a,
                  const float *b,
                  gsize        dims)
{
  return dot_row_portable (a, b, dims);
}

/* Choosing the level */

/* The best level the CPU runs; set once, under the g_once below. */
static SqliteKernelLevel cpu_level;
/* The level in use (a SqliteKernelLevel), read on every call. */
static gint level_in_use;

static SqliteKernelLevel
detect_cpu_level (void)
{
#ifdef SQLITE_KERNEL_X86
  /* __builtin_cpu_supports() also checks that the OS saves the wider
   * registers (XCR0), which CPUID alone would not tell. Every AVX-512
   * CPU has AVX2 and FMA, but a hypervisor can hide anything, and the
   * levels must nest. */
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    {
      if (__builtin_cpu_supports ("avx512f"))
        return SQLITE_KERNEL_AVX512;
      return SQLITE_KERNEL_AVX2;
    }
#endif
  return SQLITE_KERNEL_PORTABLE;
}

static gboolean
parse_level (const char        *name,
             SqliteKernelLevel *level)
{
  if (g_ascii_strcasecmp (name, "portable") == 0)
    *level = SQLITE_KERNEL_PORTABLE;
  else if (g_ascii_strcasecmp (name, "avx2") == 0 || g_ascii_strcasecmp (name, "avx2+fma") == 0)
    *level = SQLITE_KERNEL_AVX2;
  else if (g_ascii_strcasecmp (name, "avx512") == 0)
    *level = SQLITE_KERNEL_AVX512;
  else
    return FALSE;

  return TRUE;
}

static void
ensure_level (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      SqliteKernelLevel level = detect_cpu_level ();
      const char *cap_name = g_getenv ("STACHE_SIMD");
      SqliteKernelLevel cap;

      cpu_level = level;
      if (cap_name != NULL && *cap_name != '\0')
        {
          /* A setting from outside, so no g_warning: the kernel works
           * either way. */
          if (parse_level (cap_name, &cap))
            level = MIN (level, cap);
          else
            g_message ("STACHE_SIMD=%s is not one of portable, avx2, avx512; ignored", cap_name);
        }
      g_atomic_int_set (&level_in_use, level);

      g_once_init_leave (&initialized, 1);
    }
}

SqliteKernelLevel
sqlite_kernel_get_level (void)
{
  ensure_level ();
  return (SqliteKernelLevel) g_atomic_int_get (&level_in_use);
}

SqliteKernelLevel
sqlite_kernel_set_level (SqliteKernelLevel level)
{
  g_return_val_if_fail ((guint) level <= SQLITE_KERNEL_AVX512, sqlite_kernel_get_level ());

  ensure_level ();
  level = MIN (level, cpu_level);
  g_atomic_int_set (&level_in_use, level);
  return level;
}

const char *
sqlite_kernel_level_name (SqliteKernelLevel level)
{
  switch (level)
    {
    case SQLITE_KERNEL_PORTABLE:
      return "portable";
    case SQLITE_KERNEL_AVX2:
      return "avx2+fma";
    case SQLITE_KERNEL_AVX512:
      return "avx512";
    default:
      g_return_val_if_reached ("invalid");
    }
}

static ScoreRowsFunc
score_rows_for_level (SqliteKernelLevel level)
{
  switch (level)
    {
#ifdef SQLITE_KERNEL_X86
    case SQLITE_KERNEL_AVX512:
      return score_rows_avx512;
    case SQLITE_KERNEL_AVX2:
      return score_rows_avx2;
#endif
    default:
      return score_rows_portable;
    }
}

/* Scoring */

SqliteKernelDotOne
sqlite_kernel_dot_one_func (void)
{
  switch (sqlite_kernel_get_level ())
    {
#ifdef SQLITE_KERNEL_X86
    case SQLITE_KERNEL_AVX512:
      return dot_one_avx512;
    case SQLITE_KERNEL_AVX2:
      return dot_one_avx2;
#endif
    default:
      return dot_one_portable;
    }
}

void
sqlite_kernel_dot_multi (const float *queries,
                         gsize        n_queries,
                         const float *rows,
                         gsize        n_rows,
                         gsize        dims,
                         float       *scores)
{
  ScoreRowsFunc score_rows;
  gsize tile_rows;

  g_return_if_fail (dims > 0);
  g_return_if_fail (n_queries == 0 || n_rows == 0 || (queries != NULL && rows != NULL && scores != NULL));

  score_rows = score_rows_for_level (sqlite_kernel_get_level ());

  /* Tiles only let query blocks share rows. */
  if (n_queries == 1)
    {
      score_rows (queries, 1, rows, n_rows, dims, scores, n_rows);
      return;
    }

  tile_rows = MAX (1, TILE_BYTES / (dims * sizeof (float)));

  for (gsize first = 0; first < n_rows; first += tile_rows)
    {
      gsize n = MIN (tile_rows, n_rows - first);

      for (gsize q = 0; q < n_queries; q += QUERY_BLOCK)
        score_rows (queries + q * dims, (guint) MIN (QUERY_BLOCK, n_queries - q),
                    rows + first * dims, n, dims,
                    scores + q * n_rows + first, n_rows);
    }
}

void
sqlite_kernel_dot (const float *query,
                   const float *rows,
                   gsize        n_rows,
                   gsize        dims,
                   float       *scores)
{
  sqlite_kernel_dot_multi (query, 1, rows, n_rows, dims, scores);
}

double
sqlite_kernel_normalize (float *v,
                         gsize  dims)
{
  double sum = 0.0;
  double norm;

  g_return_val_if_fail (v != NULL || dims == 0, 0.0);

  /* In double, a square of a float can neither overflow nor lose the small
   * components to the large ones. */
  for (gsize i = 0; i < dims; i++)
    {
      double x = load_float (v + i);

      sum += x * x;
    }
  norm = sqrt (sum);
  if (norm == 0.0 || !isfinite (norm))
    return 0.0;

  for (gsize i = 0; i < dims; i++)
    {
      float x = (float) (load_float (v + i) / norm);

      memcpy (v + i, &x, sizeof x);
    }
  return norm;
}
