/* sqlite-rank.c: BM25 for the keyword index, with top-k pruning
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FTS5's own bm25() costs about a microsecond for every row that matches
 * the query: it gathers the positions of every phrase and looks up the
 * row's length in the %_docsize table. A query of a few ordinary words
 * matches a third of a large store, and ranking it all is most of a
 * keyword search.
 *
 * stache_rank() gives the same scores as bm25() (k1 = 1.2, b = 0.75, the
 * same idf and average length, lower is better) for the rows that can be
 * among the best @limit, and skips the rest without the length lookup.
 * Called as
 *
 *   stache_rank (chunks_fts, limit, hits_1, …, hits_n)
 *
 * with, for each phrase of the MATCH expression in order, the number of
 * rows that hold it (the caller has these from the fts5vocab table
 * already; bm25() finds them by walking every posting of every phrase). It keeps the best @limit scores seen so
 * far; for each row it counts the occurrences of each phrase (tf), and
 * bounds the row's score from above by taking its length to be as short
 * as those occurrences allow (BM25 falls as a row gets longer). A row
 * whose bound is below the @limit-th best score so far cannot be among the
 * best @limit: it gets 0, the score of no match at all, and its length is
 * never read. Every other row gets its exact bm25() score. The bound is
 * strict, so ties with the last kept row are still scored exactly.
 *
 * So `ORDER BY stache_rank (…) LIMIT n` gives the rows and scores that
 * `ORDER BY bm25 (…) LIMIT n` gives, in the same order (rowid breaks
 * ties), when @limit ≥ n and the rows are visited once, as FTS5 does.
 */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <sqlite3.h>

#include "sqlite-rank.h"

#define BM25_K1 1.2
#define BM25_B  0.75

/* The state of one query, kept by FTS5 with the cursor (auxdata). */
typedef struct
{
  int     n_phrases;
  double *idf;        /* per phrase */
  double *tf;         /* per phrase, for the current row */
  double  avgdl;
  guint   limit;
  guint   n_best;     /* a min-heap of the best scores so far */
  double *best;
} RankQuery;

static void
rank_query_free (void *data)
{
  RankQuery *q = data;

  g_free (q->idf);
  g_free (q->tf);
  g_free (q->best);
  g_free (q);
}

static void
heap_sift_down (double *heap,
                guint   n,
                guint   i)
{
  for (;;)
    {
      guint smallest = i, l = 2 * i + 1, r = 2 * i + 2;
      double t;

      if (l < n && heap[l] < heap[smallest])
        smallest = l;
      if (r < n && heap[r] < heap[smallest])
        smallest = r;
      if (smallest == i)
        return;
      t = heap[i];
      heap[i] = heap[smallest];
      heap[smallest] = t;
      i = smallest;
    }
}

static void
heap_offer (RankQuery *q,
            double     score)
{
  if (q->n_best < q->limit)
    {
      guint i = q->n_best++;

      q->best[i] = score;
      while (i > 0 && q->best[(i - 1) / 2] > q->best[i])
        {
          double t = q->best[i];

          q->best[i] = q->best[(i - 1) / 2];
          q->best[(i - 1) / 2] = t;
          i = (i - 1) / 2;
        }
      return;
    }

  if (score > q->best[0])
    {
      q->best[0] = score;
      heap_sift_down (q->best, q->n_best, 0);
    }
}

static double
bm25_sum (const RankQuery *q,
          double           length)
{
  double norm = BM25_K1 * (1 - BM25_B + BM25_B * length / q->avgdl);
  double score = 0;

  for (int i = 0; i < q->n_phrases; i++)
    if (q->tf[i] > 0)
      score += q->idf[i] * (q->tf[i] * (BM25_K1 + 1)) / (q->tf[i] + norm);

  return score;
}

static RankQuery *
rank_query_new (const Fts5ExtensionApi  *api,
                Fts5Context             *fts,
                sqlite3_context         *context,
                int                      n_values,
                sqlite3_value          **values)
{
  RankQuery *q;
  sqlite3_int64 n_rows = 0, n_tokens = 0;
  int n_phrases = api->xPhraseCount (fts);
  sqlite3_int64 limit;

  if (n_values != 1 + n_phrases)
    {
      sqlite3_result_error (context, "stache_rank: wants a limit and a row count per phrase", -1);
      return NULL;
    }
  limit = sqlite3_value_int64 (values[0]);
  if (limit < 1 || limit > 1000000)
    {
      sqlite3_result_error (context, "stache_rank: the limit must be from 1 to 1000000", -1);
      return NULL;
    }
  if (api->xRowCount (fts, &n_rows) != SQLITE_OK ||
      api->xColumnTotalSize (fts, -1, &n_tokens) != SQLITE_OK)
    {
      sqlite3_result_error (context, "stache_rank: cannot read the index's totals", -1);
      return NULL;
    }

  q = g_new0 (RankQuery, 1);
  q->n_phrases = n_phrases;
  q->idf = g_new (double, MAX (n_phrases, 1));
  q->tf = g_new (double, MAX (n_phrases, 1));
  for (int i = 0; i < n_phrases; i++)
    {
      /* bm25()'s idf, clamped the same way */
      double hits = (double) sqlite3_value_int64 (values[1 + i]);
      double idf = log (((double) n_rows - hits + 0.5) / (hits + 0.5));

      q->idf[i] = idf <= 0.0 ? 1e-6 : idf;
    }
  /* As bm25() has it */
  q->avgdl = (double) n_tokens / (double) MAX (n_rows, 1);
  if (q->avgdl <= 0)
    q->avgdl = 1;
  q->limit = (guint) limit;
  q->best = g_new (double, q->limit);

  return q;
}

static void
stache_rank (const Fts5ExtensionApi  *api,
             Fts5Context             *fts,
             sqlite3_context         *context,
             int                      n_values,
             sqlite3_value          **values)
{
  RankQuery *q = api->xGetAuxdata (fts, 0);
  double total_tf = 0, bound, score;
  int length = 0;

  if (q == NULL)
    {
      q = rank_query_new (api, fts, context, n_values, values);
      if (q == NULL)
        return;
      if (api->xSetAuxdata (fts, q, rank_query_free) != SQLITE_OK)
        {
          sqlite3_result_error_nomem (context);
          return;
        }
    }

  for (int i = 0; i < q->n_phrases; i++)
    {
      Fts5PhraseIter iter;
      int column, offset, count = 0;

      if (api->xPhraseFirst (fts, i, &iter, &column, &offset) != SQLITE_OK)
        {
          sqlite3_result_error (context, "stache_rank: cannot read a phrase's positions", -1);
          return;
        }
      for (; column >= 0; api->xPhraseNext (fts, &iter, &column, &offset))
        count++;
      q->tf[i] = count;
      total_tf += count;
    }

  /* The row is at least as long as the occurrences found in it. */
  bound = bm25_sum (q, total_tf);
  if (q->n_best == q->limit && bound < q->best[0])
    {
      sqlite3_result_double (context, 0.0);
      return;
    }

  if (api->xColumnSize (fts, -1, &length) != SQLITE_OK)
    {
      sqlite3_result_error (context, "stache_rank: cannot read a row's length", -1);
      return;
    }
  score = bm25_sum (q, length);
  heap_offer (q, score);
  sqlite3_result_double (context, -score);
}

static fts5_api *
fts5_api_of (sqlite3 *handle)
{
  fts5_api *api = NULL;
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (handle, "SELECT fts5 (?1)", -1, &stmt, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_pointer (stmt, 1, (void *) &api, "fts5_api_ptr", NULL);
  sqlite3_step (stmt);
  sqlite3_finalize (stmt);

  return api;
}

gboolean
sqlite_rank_register (sqlite3 *handle)
{
  fts5_api *api = fts5_api_of (handle);

  if (api == NULL || api->iVersion < 2)
    return FALSE;

  return api->xCreateFunction (api, "stache_rank", NULL, stache_rank, NULL) == SQLITE_OK;
}
