/* test-sqlite-kernel.c: the float32 dot-product kernel of the sqlite plugin
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every test that scores runs at each level this CPU has, chosen with
 * sqlite_kernel_set_level(), and says in the test log which levels ran
 * and why the others did not. With -m perf a benchmark also runs: the
 * bandwidth of a scan compared with a plain read of the same memory.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include <glib.h>

#include "sqlite-kernel.h"

/* Tails of every shape: none, partial and whole chunks, reaching each
 * accumulator of the tail round (63 is the one that reaches all four of
 * AVX-512's). */
static const gsize test_dims[] = { 1, 3, 7, 8, 15, 16, 17, 31, 63, 64, 100, 384, 768, 1536 };

/* Why a level cannot run here. */
static const char *
level_missing (SqliteKernelLevel level)
{
#if defined(__x86_64__) || defined(__i386__)
  switch (level)
    {
    case SQLITE_KERNEL_AVX2:
      return "this CPU lacks AVX2 or FMA, or the OS does not enable them";
    case SQLITE_KERNEL_AVX512:
      return "this CPU lacks AVX-512F, or the OS does not enable it";
    case SQLITE_KERNEL_PORTABLE:
    default:
      return "?";
    }
#else
  return "the vector levels are for x86 only";
#endif
}

typedef void (*LevelCheck) (SqliteKernelLevel level,
                            gconstpointer     data);

/* Runs @check at each level the CPU has, saying in the log which levels
 * ran and why the others did not, then puts the level back as it was so
 * tests do not depend on their order. */
static void
for_each_level (LevelCheck    check,
                gconstpointer data)
{
  SqliteKernelLevel initial = sqlite_kernel_get_level ();

  for (SqliteKernelLevel level = SQLITE_KERNEL_PORTABLE; level <= SQLITE_KERNEL_AVX512; level++)
    {
      SqliteKernelLevel got = sqlite_kernel_set_level (level);

      if (got != level)
        {
          g_test_message ("level %s skipped: %s (the best here is %s)",
                          sqlite_kernel_level_name (level), level_missing (level),
                          sqlite_kernel_level_name (got));
          continue;
        }

      g_test_message ("level %s ran", sqlite_kernel_level_name (level));
      check (level, data);
    }

  sqlite_kernel_set_level (initial);
}

static void
fill_random (float *v,
             gsize  n)
{
  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_test_rand_double_range (-1.0, 1.0);
}

/* The dot product of the floats in double, and the sum of the magnitudes
 * of its terms: a float sum of n terms is off by a few ulps of that sum,
 * not of the result, which may be near zero. */
static double
reference_dot (const float *a,
               const float *b,
               gsize        dims,
               double      *magnitude)
{
  double sum = 0.0;

  *magnitude = 0.0;
  for (gsize i = 0; i < dims; i++)
    {
      double term = (double) a[i] * (double) b[i];

      sum += term;
      *magnitude += fabs (term);
    }
  return sum;
}

static void
check_dot_matches_double_reference (SqliteKernelLevel          level,
                                    G_GNUC_UNUSED gconstpointer data)
{
  const gsize n_rows = 13;

  for (gsize d = 0; d < G_N_ELEMENTS (test_dims); d++)
    {
      gsize dims = test_dims[d];
      /* One float in, so neither is aligned to a vector. */
      g_autofree float *query_buf = g_new (float, dims + 1);
      g_autofree float *rows_buf = g_new (float, n_rows * dims + 1);
      g_autofree float *scores = g_new (float, n_rows);
      float *query = query_buf + 1;
      float *rows = rows_buf + 1;

      fill_random (query, dims);
      fill_random (rows, n_rows * dims);
      sqlite_kernel_dot (query, rows, n_rows, dims, scores);

      for (gsize r = 0; r < n_rows; r++)
        {
          double magnitude;
          double expected = reference_dot (query, rows + r * dims, dims, &magnitude);

          /* 1e-5 is loose enough for any order of 1536 float additions on
           * random data, and tight enough to miss no single term (each is
           * about 1/dims of the magnitude). */
          if (fabs (scores[r] - expected) > 1e-5 * magnitude + FLT_MIN)
            g_test_fail_printf ("%s, dims %" G_GSIZE_FORMAT ", row %" G_GSIZE_FORMAT ": %.9g, expected %.9g",
                                sqlite_kernel_level_name (level), dims, r, scores[r], expected);
        }
    }
}

static void
test_dot_matches_double_reference (void)
{
  for_each_level (check_dot_matches_double_reference, NULL);
}

/* A blob on an SQLite page may start at any byte. */
static void
check_dot_reads_rows_at_any_byte_offset (G_GNUC_UNUSED SqliteKernelLevel level,
                                         G_GNUC_UNUSED gconstpointer     data)
{
  const gsize n_rows = 5;
  const gsize dims = 100;
  g_autofree float *query = g_new (float, dims);
  g_autofree float *rows = g_new (float, n_rows * dims);
  g_autofree char *bytes = g_malloc ((n_rows * dims + dims + 1) * sizeof (float));
  float expected[5];
  float scores[5];

  fill_random (query, dims);
  fill_random (rows, n_rows * dims);
  sqlite_kernel_dot (query, rows, n_rows, dims, expected);

  for (gsize offset = 1; offset < sizeof (float); offset++)
    {
      char *moved_rows = bytes + offset;
      char *moved_query = moved_rows + n_rows * dims * sizeof (float);

      memcpy (moved_rows, rows, n_rows * dims * sizeof (float));
      memcpy (moved_query, query, dims * sizeof (float));
      sqlite_kernel_dot ((const float *) (gpointer) moved_query, (const float *) (gpointer) moved_rows,
                         n_rows, dims, scores);
      g_assert_cmpmem (scores, sizeof scores, expected, sizeof expected);
    }
}

static void
test_dot_reads_rows_at_any_byte_offset (void)
{
  for_each_level (check_dot_reads_rows_at_any_byte_offset, NULL);
}

static void
check_dot_writes_only_n_rows_scores (G_GNUC_UNUSED SqliteKernelLevel level,
                                     G_GNUC_UNUSED gconstpointer     data)
{
  const gsize n_rows = 3;
  const gsize dims = 17;
  /* Exactly as large as they must be, so valgrind sees any read past them. */
  g_autofree float *query = g_new (float, dims);
  g_autofree float *rows = g_new (float, n_rows * dims);
  float scores[4];

  fill_random (query, dims);
  fill_random (rows, n_rows * dims);
  scores[n_rows] = 42.0f;
  sqlite_kernel_dot (query, rows, n_rows, dims, scores);
  g_assert_cmpfloat (scores[n_rows], ==, 42.0f);
}

static void
test_dot_writes_only_n_rows_scores (void)
{
  for_each_level (check_dot_writes_only_n_rows_scores, NULL);
}

static void
check_dot_multi_equals_dot (G_GNUC_UNUSED SqliteKernelLevel level,
                            G_GNUC_UNUSED gconstpointer     data)
{
  static const gsize dims_list[] = { 1, 7, 17, 63, 100, 384, 1536 };
  /* Odd, and several tiles at 384 dims and more. */
  const gsize n_rows = 97;
  const gsize max_queries = 9;

  for (gsize d = 0; d < G_N_ELEMENTS (dims_list); d++)
    {
      gsize dims = dims_list[d];
      g_autofree float *queries = g_new (float, max_queries * dims);
      g_autofree float *rows_buf = g_new (float, n_rows * dims + 1);
      g_autofree float *scores = g_new (float, max_queries * n_rows);
      g_autofree float *single = g_new (float, n_rows);
      float *rows = rows_buf + 1;

      fill_random (queries, max_queries * dims);
      fill_random (rows, n_rows * dims);

      for (gsize n_queries = 1; n_queries <= max_queries; n_queries++)
        {
          sqlite_kernel_dot_multi (queries, n_queries, rows, n_rows, dims, scores);
          for (gsize q = 0; q < n_queries; q++)
            {
              sqlite_kernel_dot (queries + q * dims, rows, n_rows, dims, single);
              g_assert_cmpmem (scores + q * n_rows, n_rows * sizeof (float),
                               single, n_rows * sizeof (float));
            }
        }
    }
}

static void
test_dot_multi_equals_dot (void)
{
  for_each_level (check_dot_multi_equals_dot, NULL);
}

static void
check_dot_one_equals_dot (G_GNUC_UNUSED SqliteKernelLevel level,
                          G_GNUC_UNUSED gconstpointer     data)
{
  static const gsize dims_list[] = { 1, 7, 16, 17, 63, 64, 100, 384, 1536 };
  SqliteKernelDotOne dot_one = sqlite_kernel_dot_one_func ();

  for (gsize d = 0; d < G_N_ELEMENTS (dims_list); d++)
    {
      gsize dims = dims_list[d];
      g_autofree float *a_buf = g_new (float, dims + 1);
      g_autofree float *b = g_new (float, dims);
      float *a = a_buf + 1;   /* unaligned */
      float want, got;

      fill_random (a, dims);
      fill_random (b, dims);
      sqlite_kernel_dot (a, b, 1, dims, &want);
      got = dot_one (a, b, dims);
      g_assert_cmpmem (&got, sizeof got, &want, sizeof want);
    }
}

/* The one-pair kernel (the ANN walk's distance) is the same as the scan's,
 * at every level. */
static void
test_dot_one_equals_dot (void)
{
  for_each_level (check_dot_one_equals_dot, NULL);
}

static double
norm_of (const float *v,
         gsize        dims)
{
  double sum = 0.0;

  for (gsize i = 0; i < dims; i++)
    sum += (double) v[i] * v[i];
  return sqrt (sum);
}

static void
test_normalize_gives_unit_norm (void)
{
  for (gsize d = 0; d < G_N_ELEMENTS (test_dims); d++)
    {
      gsize dims = test_dims[d];
      g_autofree float *v = g_new (float, dims);

      fill_random (v, dims);
      v[0] = 0.5f;   /* never all zeros */
      sqlite_kernel_normalize (v, dims);
      g_assert_cmpfloat_with_epsilon (norm_of (v, dims), 1.0, 1e-6);
    }
}

static void
test_normalize_returns_original_norm (void)
{
  float v[] = { 3.0f, 0.0f, -4.0f };
  /* Squares a float could not hold (2^200): the sum is in double. */
  float big[] = { ldexpf (3.0f, 100), ldexpf (4.0f, 100) };

  g_assert_cmpfloat (sqlite_kernel_normalize (v, G_N_ELEMENTS (v)), ==, 5.0);
  g_assert_cmpfloat (v[0], ==, 0.6f);
  g_assert_cmpfloat (v[1], ==, 0.0f);
  g_assert_cmpfloat (v[2], ==, -0.8f);

  g_assert_cmpfloat (sqlite_kernel_normalize (big, G_N_ELEMENTS (big)), ==, ldexp (5.0, 100));
  g_assert_cmpfloat (big[0], ==, 0.6f);
  g_assert_cmpfloat (big[1], ==, 0.8f);
}

static void
test_normalize_leaves_zero_vector_alone (void)
{
  float v[5] = { 0 };
  const float zeros[5] = { 0 };

  g_assert_cmpfloat (sqlite_kernel_normalize (v, G_N_ELEMENTS (v)), ==, 0.0);
  g_assert_cmpmem (v, sizeof v, zeros, sizeof zeros);
}

static void
test_normalize_leaves_non_finite_vector_alone (void)
{
  float with_inf[] = { 1.0f, INFINITY, 2.0f };
  float with_nan[] = { NAN, 1.0f };

  g_assert_cmpfloat (sqlite_kernel_normalize (with_inf, G_N_ELEMENTS (with_inf)), ==, 0.0);
  g_assert_cmpfloat (with_inf[0], ==, 1.0f);
  g_assert_true (isinf (with_inf[1]));
  g_assert_cmpfloat (with_inf[2], ==, 2.0f);

  g_assert_cmpfloat (sqlite_kernel_normalize (with_nan, G_N_ELEMENTS (with_nan)), ==, 0.0);
  g_assert_true (isnan (with_nan[0]));
  g_assert_cmpfloat (with_nan[1], ==, 1.0f);
}

static void
test_level_set_is_capped_at_cpu (void)
{
  SqliteKernelLevel initial = sqlite_kernel_get_level ();
  SqliteKernelLevel best = sqlite_kernel_set_level (SQLITE_KERNEL_AVX512);

  g_test_message ("this CPU's best level: %s", sqlite_kernel_level_name (best));
  g_assert_cmpint (sqlite_kernel_get_level (), ==, best);
#if !defined(__x86_64__) && !defined(__i386__)
  g_assert_cmpint (best, ==, SQLITE_KERNEL_PORTABLE);
#endif

  g_assert_cmpint (sqlite_kernel_set_level (SQLITE_KERNEL_PORTABLE), ==, SQLITE_KERNEL_PORTABLE);
  g_assert_cmpint (sqlite_kernel_get_level (), ==, SQLITE_KERNEL_PORTABLE);
  g_assert_cmpint (sqlite_kernel_set_level (SQLITE_KERNEL_AVX2), ==, MIN (best, SQLITE_KERNEL_AVX2));

  sqlite_kernel_set_level (initial);
}

static void
test_level_names (void)
{
  g_assert_cmpstr (sqlite_kernel_level_name (SQLITE_KERNEL_PORTABLE), ==, "portable");
  g_assert_cmpstr (sqlite_kernel_level_name (SQLITE_KERNEL_AVX2), ==, "avx2+fma");
  g_assert_cmpstr (sqlite_kernel_level_name (SQLITE_KERNEL_AVX512), ==, "avx512");
}

typedef struct
{
  const char        *value;
  SqliteKernelLevel  cap;   /* SQLITE_KERNEL_AVX512: none */
} SimdCap;

static const SimdCap simd_caps[] = {
  { "portable", SQLITE_KERNEL_PORTABLE },
  { "avx2", SQLITE_KERNEL_AVX2 },
  { "AVX2+FMA", SQLITE_KERNEL_AVX2 },
  { "avx512", SQLITE_KERNEL_AVX512 },
  { "", SQLITE_KERNEL_AVX512 },
};

/* STACHE_SIMD is read once, at the first use, so each value is tried in a
 * fresh process that sets it before touching the kernel. */
static void
test_stache_simd_caps_level (gconstpointer data)
{
  const SimdCap *cap = data;

  if (g_test_subprocess ())
    {
      SqliteKernelLevel level;

      g_setenv ("STACHE_SIMD", cap->value, TRUE);
      level = sqlite_kernel_get_level ();
      g_assert_cmpint (level, ==, MIN (cap->cap, sqlite_kernel_set_level (SQLITE_KERNEL_AVX512)));
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_stache_simd_ignores_unknown_value (void)
{
  if (g_test_subprocess ())
    {
      SqliteKernelLevel level;

      g_setenv ("STACHE_SIMD", "sse9", TRUE);
      level = sqlite_kernel_get_level ();
      g_assert_cmpint (level, ==, sqlite_kernel_set_level (SQLITE_KERNEL_AVX512));
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*STACHE_SIMD=sse9*ignored*");
}

/* Benchmark (-m perf) */

#define BENCH_ROWS 100000
#define BENCH_DIMS 384
#define BENCH_RUNS 5

/* The bandwidth to beat: every float of the array added up, in 32
 * independent sums so that the additions never wait on each other (the
 * compiler makes vectors of them) and memory is the only limit. */
static float
read_all (const float *v,
          gsize        n)
{
  float acc[32] = { 0 };
  float sum = 0.0f;
  gsize i;

  for (i = 0; i + 32 <= n; i += 32)
    for (guint k = 0; k < 32; k++)
      acc[k] += v[i + k];
  for (guint k = 0; k < n % 32; k++)
    sum += v[i + k];
  for (guint k = 0; k < 32; k++)
    sum += acc[k];
  return sum;
}

static volatile float bench_sink;

static double
best_read_seconds (const float *v,
                   gsize        n)
{
  double best = G_MAXDOUBLE;

  for (int run = 0; run < BENCH_RUNS; run++)
    {
      gint64 start = g_get_monotonic_time ();

      bench_sink = read_all (v, n);
      best = MIN (best, (g_get_monotonic_time () - start) / 1e6);
    }
  return best;
}

static double
best_dot_seconds (const float *queries,
                  gsize        n_queries,
                  const float *rows,
                  gsize        n_rows,
                  float       *scores,
                  int          repeat)
{
  double best = G_MAXDOUBLE;

  for (int run = 0; run < BENCH_RUNS; run++)
    {
      gint64 start = g_get_monotonic_time ();

      for (int i = 0; i < repeat; i++)
        sqlite_kernel_dot_multi (queries, n_queries, rows, n_rows, BENCH_DIMS, scores);
      best = MIN (best, (g_get_monotonic_time () - start) / 1e6);
    }
  return best;
}

typedef struct
{
  const float *rows;
  const float *queries;
  float       *scores;
  double       read_gbs;
} Bench;

static void
bench_level (SqliteKernelLevel level,
             gconstpointer     data)
{
  const Bench *bench = data;
  const double gb = (double) BENCH_ROWS * BENCH_DIMS * sizeof (float) / 1e9;
  const int cached_rows = 40;
  const int cached_repeat = 20000;
  double dot_gbs, multi_gbs, cached_ns;

  dot_gbs = gb / best_dot_seconds (bench->queries, 1, bench->rows, BENCH_ROWS, bench->scores, 1);
  multi_gbs = gb / best_dot_seconds (bench->queries, 4, bench->rows, BENCH_ROWS, bench->scores, 1);
  cached_ns = best_dot_seconds (bench->queries, 1, bench->rows, cached_rows, bench->scores, cached_repeat)
              * 1e9 / ((double) cached_rows * cached_repeat);

  g_test_message ("%-8s: dot %.1f GB/s (%.2f of the read), 4 queries at once %.1f GB/s of rows, "
                  "%.1f ns per %d-float row in cache",
                  sqlite_kernel_level_name (level), dot_gbs, dot_gbs / bench->read_gbs, multi_gbs,
                  cached_ns, BENCH_DIMS);
  g_test_maximized_result (dot_gbs, "%s: %.1f GB/s", sqlite_kernel_level_name (level), dot_gbs);
}

static void
test_perf_dot_bandwidth (void)
{
  const gsize n = (gsize) BENCH_ROWS * BENCH_DIMS;
  g_autofree float *rows = g_new (float, n);
  g_autofree float *queries = g_new (float, 4 * BENCH_DIMS);
  g_autofree float *scores = g_new (float, 4 * BENCH_ROWS);
  Bench bench = { rows, queries, scores, 0.0 };

  /* Written first, so no page fault is timed. */
  fill_random (rows, n);
  fill_random (queries, 4 * BENCH_DIMS);

  bench.read_gbs = n * sizeof (float) / 1e9 / best_read_seconds (rows, n);
  g_test_message ("plain read of %.0f MB: %.1f GB/s", n * sizeof (float) / 1e6, bench.read_gbs);

  for_each_level (bench_level, &bench);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sqlite-kernel/dot/matches-double-reference", test_dot_matches_double_reference);
  g_test_add_func ("/sqlite-kernel/dot/reads-rows-at-any-byte-offset", test_dot_reads_rows_at_any_byte_offset);
  g_test_add_func ("/sqlite-kernel/dot/writes-only-n-rows-scores", test_dot_writes_only_n_rows_scores);
  g_test_add_func ("/sqlite-kernel/dot-multi/equals-dot", test_dot_multi_equals_dot);
  g_test_add_func ("/sqlite-kernel/dot-one/equals-dot", test_dot_one_equals_dot);
  g_test_add_func ("/sqlite-kernel/normalize/gives-unit-norm", test_normalize_gives_unit_norm);
  g_test_add_func ("/sqlite-kernel/normalize/returns-original-norm", test_normalize_returns_original_norm);
  g_test_add_func ("/sqlite-kernel/normalize/leaves-zero-vector-alone", test_normalize_leaves_zero_vector_alone);
  g_test_add_func ("/sqlite-kernel/normalize/leaves-non-finite-vector-alone",
                   test_normalize_leaves_non_finite_vector_alone);
  g_test_add_func ("/sqlite-kernel/level/set-is-capped-at-cpu", test_level_set_is_capped_at_cpu);
  g_test_add_func ("/sqlite-kernel/level/names", test_level_names);
  for (gsize i = 0; i < G_N_ELEMENTS (simd_caps); i++)
    {
      g_autofree char *path = g_strdup_printf ("/sqlite-kernel/level/stache-simd-caps-level/%s",
                                               *simd_caps[i].value != '\0' ? simd_caps[i].value : "empty");

      g_test_add_data_func (path, &simd_caps[i], test_stache_simd_caps_level);
    }
  g_test_add_func ("/sqlite-kernel/level/stache-simd-ignores-unknown-value", test_stache_simd_ignores_unknown_value);
  if (g_test_perf ())
    g_test_add_func ("/sqlite-kernel/perf/dot-bandwidth", test_perf_dot_bandwidth);

  return g_test_run ();
}
