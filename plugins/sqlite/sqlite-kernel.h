/* sqlite-kernel.h: float32 dot products for the vector scan
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The instruction sets the kernel has code for, in order: each level's
 * CPU can run every level below it. */
typedef enum
{
  SQLITE_KERNEL_PORTABLE,
  SQLITE_KERNEL_AVX2,     /* AVX2 and FMA */
  SQLITE_KERNEL_AVX512,   /* AVX-512F */
} SqliteKernelLevel;

/* The level in use: the best this CPU runs, decided once per process (the
 * build machine is not the run machine), capped by the environment
 * variable STACHE_SIMD=portable|avx2|avx512 as read at the first use. */
SqliteKernelLevel sqlite_kernel_get_level  (void);

/* "portable", "avx2+fma" or "avx512". */
const char       *sqlite_kernel_level_name (SqliteKernelLevel level);

/* For tests and benchmarks: use @level from now on, for every thread, or
 * the best the CPU has if that is less. Returns the level now in use. */
SqliteKernelLevel sqlite_kernel_set_level  (SqliteKernelLevel level);

/* scores[r] = dot (query, rows + r * dims) for r < n_rows, summed in
 * float. @rows and @query need no alignment at all, not even that of a
 * float, so blobs can be scanned where SQLite's pages hold them; any
 * @dims >= 1. */
void   sqlite_kernel_dot       (const float *query,
                                const float *rows,
                                gsize        n_rows,
                                gsize        dims,
                                float       *scores);

/* scores[q * n_rows + r] = dot (queries + q * dims, rows + r * dims), with
 * each row read from memory once for all the queries. Every score is bit
 * for bit the one sqlite_kernel_dot() gives at the same level, so results
 * do not depend on how queries are batched. */
void   sqlite_kernel_dot_multi (const float *queries,
                                gsize        n_queries,
                                const float *rows,
                                gsize        n_rows,
                                gsize        dims,
                                float       *scores);

/* dot (a, b) over @dims floats, bit for bit what sqlite_kernel_dot()
 * gives for one row at the level in use when this was called: the
 * function for that level, to call many times without the dispatch. */
typedef float (*SqliteKernelDotOne) (const float *a,
                                     const float *b,
                                     gsize        dims);

SqliteKernelDotOne sqlite_kernel_dot_one_func (void);

/* Scales @v (@dims floats) to unit length in place, summing the squares in
 * double, and returns its Euclidean norm from before. A vector whose norm
 * is zero or not finite is left as it is, and 0 is returned. */
double sqlite_kernel_normalize (float *v,
                                gsize  dims);

G_END_DECLS
