/* sqlite-ann.c: HNSW indexes for large vector spaces, kept as derived data
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The vectors in the database are the truth; an index is a cache of them,
 * never trusted blindly:
 *
 *  - A space's row counts its changes (generation). Once a space has an
 *    index (its `ann` flag), every write transaction also logs what it
 *    added and removed in vector_changes, tagged with the new generation.
 *  - An index remembers the generation it reflects (and the space's random
 *    stamp at that generation), in memory and in its saved file beside the
 *    database; the space's row records which generation and stamp were
 *    saved last, so a file that does not match (a database restored from
 *    a backup, a crash between the two writes) is not used. Before a search it catches up by
 *    replaying the log from there; when the log does not reach back that
 *    far (pruned, or written while nobody logged), or the file is missing,
 *    damaged (sqlite-hnsw.c checks it whole before use), of another space
 *    or from the future, the index is rebuilt from the vectors.
 *  - A search whose index is not at the generation its read transaction
 *    sees (a writer committed in between) scans exactly instead.
 *
 * Writers never touch an index: ingest stays as fast as without one, and
 * searches pay for the new vectors. A short log is replayed before the
 * search; a build, or a long log, is work of minutes at the sizes an index
 * is for, so by default (sqlite_ann_build=background) it runs on a thread
 * of its own, reading through a connection of its own, while searches scan
 * exactly; the index it made is taken up under the connection's mutex and
 * used from the next search that sees its generation. Closing the
 * database stops a build under way (within one insertion) and waits for
 * it. A saved index lets the log be pruned up to its generation.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "sqlite-ann.h"
#include "sqlite-hnsw.h"
#include "sqlite-kernel.h"

/* Chunk rowids are the index's labels. */
G_STATIC_ASSERT (sizeof (gint64) == sizeof (guint64));

/* A log this long since the saved index makes the catch-up save it again. */
#define SAVE_AFTER_CHANGES 4096
/* Changes a search replays itself before it goes on, when builds run in
 * the background: each costs about a millisecond (an insertion into the
 * graph); a longer log is replayed on the build thread. */
#define FOREGROUND_CHANGES 256
/* Vectors handed to the index builder at once. */
#define BUILD_BATCH 8192

typedef struct
{
  SqliteHnsw *index;
  gint64      generation;
  gint64      stamp;        /* the space's stamp at @generation */
  gint        ef;           /* the breadth measured to give the recall wanted */
} AnnSpace;

/* What the space's row says of its index. */
typedef struct
{
  gint64 generation;        /* of the file saved last, -1 for none */
  gint64 stamp;
  gint   ef;                /* 0: not measured; -1: the index is not good enough */
  gint64 checked;           /* vectors when it was measured */
} AnnRecord;

/* Recall@10 an index must reach on sample queries before searches use it,
 * trying breadths of ef_search, then 2, 4 and 8 times that. Some vectors
 * defeat HNSW at any breadth (the hashing embedder's bag-of-words vectors
 * of synthetic text reached 0.19 at 96 and 0.65 at 1024): such a space is
 * scanned exactly, and measured again once it has doubled. */
#define WANTED_RECALL 0.95
/* ...and it must answer sqlite_ann_min_speedup times faster than one exact
 * scan, or it is not worth its memory (on vectors it suits, at the sizes
 * it is meant for, it is 10 to 100 times faster). */
#define CALIBRATION_QUERIES 24
#define CALIBRATION_K 10
#define MAX_EF 2048

/* Work on one space's index on a thread of its own: a catch-up of @as
 * (when not NULL) or a new build. Fields other than @done and @failed are
 * set before the thread starts and not changed after; those two with the
 * connection's mutex held. */
typedef struct
{
  SqliteDatabase    *db;
  gint64             space_id;
  SqliteAnnSettings  settings;
  AnnSpace          *as;          /* the index to bring up to date, or NULL */
  GThread           *thread;
  GCancellable      *cancellable;
  gint               stop;        /* atomic: set with @cancellable */
  gboolean           done;
  gboolean           failed;
  gint64             generation;  /* of the space when the work began */
} AnnJob;

/* db->ann: the indexes in memory and the work under way, both used with
 * the connection's mutex held. */
typedef struct
{
  GHashTable *spaces;             /* space id → AnnSpace */
  GHashTable *jobs;               /* space id → AnnJob */
  GHashTable *failed;             /* space id → the generation a job failed at */
} AnnState;

static void
ann_space_free (gpointer data)
{
  AnnSpace *as = data;

  g_clear_pointer (&as->index, sqlite_hnsw_free);
  g_free (as);
}

static void
ann_job_free (AnnJob *job)
{
  g_clear_object (&job->cancellable);
  g_free (job);
}

/* Stops every job and waits for it: the connection is closing. Called
 * without the connection's mutex, which a finishing job takes. */
static void
ann_state_free (gpointer data)
{
  AnnState *state = data;
  GHashTableIter iter;
  AnnJob *job;

  g_hash_table_iter_init (&iter, state->jobs);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &job))
    {
      g_atomic_int_set (&job->stop, 1);
      g_cancellable_cancel (job->cancellable);
    }
  g_hash_table_iter_init (&iter, state->jobs);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &job))
    {
      g_thread_join (job->thread);
      ann_job_free (job);
    }
  g_hash_table_unref (state->jobs);
  g_hash_table_unref (state->spaces);
  g_hash_table_unref (state->failed);
  g_free (state);
}

static AnnState *
state_of (SqliteDatabase *db)
{
  if (db->ann == NULL)
    {
      AnnState *state = g_new0 (AnnState, 1);

      state->spaces = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, ann_space_free);
      state->jobs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      state->failed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
      db->ann = state;
      db->ann_free = ann_state_free;
    }

  return db->ann;
}

static GHashTable *
spaces_of (SqliteDatabase *db)
{
  return state_of (db)->spaces;
}

char *
sqlite_ann_path (SqliteDatabase *db,
                 gint64          space_id)
{
  return g_strdup_printf ("%s-ann-%ld.hnsw", db->path, (long) space_id);
}

gboolean
sqlite_ann_applies (const SqliteAnnSettings  *settings,
                    const SqliteSpace        *space)
{
  return settings->threshold > 0 && space->count >= settings->threshold;
}

static gboolean
read_space (SqliteDatabase  *db,
            gint64           space_id,
            SqliteSpace     *space,
            AnnRecord       *record,
            gboolean        *found,
            GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = sqlite_database_prepare (db, "SELECT dims, count, generation, ann, capacity, namespace, stamp, "
                                      "ann_generation, ann_stamp, ann_ef, ann_checked "
                                      "FROM vector_spaces WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, space_id);
  rc = sqlite3_step (stmt);
  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW)
    {
      space->id = space_id;
      space->dims = (gsize) sqlite3_column_int64 (stmt, 0);
      space->count = sqlite3_column_int64 (stmt, 1);
      space->generation = sqlite3_column_int64 (stmt, 2);
      space->ann = sqlite3_column_int64 (stmt, 3) != 0;
      space->capacity = (guint) sqlite3_column_int64 (stmt, 4);
      space->namespace_ = g_strdup (sqlite_column_text (stmt, 5));
      space->stamp = sqlite3_column_int64 (stmt, 6);
      record->generation = sqlite3_column_int64 (stmt, 7);
      record->stamp = sqlite3_column_int64 (stmt, 8);
      record->ef = (gint) CLAMP (sqlite3_column_int64 (stmt, 9), -1, MAX_EF);
      record->checked = sqlite3_column_int64 (stmt, 10);
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (db, error, _("reading a vector space"));

  return TRUE;
}

/* Marks @space_id as having an index, in a write transaction of its own:
 * writers log their changes to it from then on. */
static gboolean
set_ann_flag (SqliteDatabase  *db,
              gint64           space_id,
              GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean ok;

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;
  stmt = sqlite_database_prepare (db, "UPDATE vector_spaces SET ann = 1 WHERE id = ?1", error);
  ok = stmt != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (stmt, 1, space_id);
      ok = sqlite_database_exec_step (db, stmt, _("keeping the search index"), error);
    }
  g_clear_pointer (&stmt, sqlite_statement_release);

  return sqlite_database_end (db, ok, error);
}

/* Saves @as beside the database (or, for an index not good enough, removes
 * the files: only the measurement is kept). Uses no connection. */
static gboolean
save_file (SqliteDatabase  *db,
           gint64           space_id,
           AnnSpace        *as,
           GError         **error)
{
  g_autofree char *path = sqlite_ann_path (db, space_id);

  if (as->ef < 0)
    {
      sqlite_hnsw_delete_files (path, NULL);
      return TRUE;
    }

  return sqlite_hnsw_save (as->index, path, (guint64) as->generation, (guint64) as->stamp, error);
}

/* Records which generation and stamp the saved file holds, and forgets the
 * log it no longer needs, in a write transaction of its own. */
static gboolean
record_saved (SqliteDatabase  *db,
              gint64           space_id,
              AnnSpace        *as,
              gint64           count,
              GError         **error)
{
  static const char * const sql[] = {
    "UPDATE vector_spaces SET ann_generation = ?2, ann_stamp = ?3, ann_ef = ?4, ann_checked = ?5 "
    "WHERE id = ?1",
    "DELETE FROM vector_changes WHERE space = ?1 AND generation <= ?2",
  };
  gboolean ok;

  ok = sqlite_database_begin (db, TRUE, error);
  for (guint i = 0; ok && i < G_N_ELEMENTS (sql); i++)
    {
      g_autoptr(sqlite3_stmt) stmt = sqlite_database_prepare (db, sql[i], error);

      ok = stmt != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (stmt, 1, space_id);
          sqlite3_bind_int64 (stmt, 2, as->ef < 0 ? -1 : as->generation);
          if (sqlite3_bind_parameter_count (stmt) >= 5)
            {
              sqlite3_bind_int64 (stmt, 3, as->stamp);
              sqlite3_bind_int64 (stmt, 4, as->ef);
              sqlite3_bind_int64 (stmt, 5, count);
            }
          ok = sqlite_database_exec_step (db, stmt, _("keeping the search index"), error);
        }
      if (!ok)
        sqlite_database_rollback (db);
    }

  return ok && sqlite_database_commit (db, error);
}

/* Both. The index is derived data: failing to save only costs a later
 * rebuild, so it is no error. */
static void
save_and_prune (SqliteDatabase *db,
                gint64          space_id,
                AnnSpace       *as,
                gint64          count)
{
  g_autoptr(GError) error = NULL;

  if (!save_file (db, space_id, as, &error) ||
      !record_saved (db, space_id, as, count, &error))
    g_debug ("The search index of vector space %ld was not saved: %s", (long) space_id,
             error != NULL ? error->message : "?");
}

/* A new index of every vector of the space, as its read transaction sees
 * them; run inside that transaction. */
static AnnSpace *
build (SqliteDatabase           *db,
       const SqliteAnnSettings  *settings,
       const SqliteSpace        *space,
       const gint               *stop,
       GCancellable             *cancellable,
       GError                  **error)
{
  g_autoptr(sqlite3_stmt) segments = NULL;
  g_autoptr(SqliteHnsw) index = NULL;
  g_autofree guint64 *labels = g_new (guint64, BUILD_BATCH);
  g_autofree float *vectors = g_new (float, (gsize) BUILD_BATCH * space->dims);
  guint threads = MAX (1, MIN (g_get_num_processors (), 8));
  gsize pending = 0;
  AnnSpace *as;
  int rc;

  index = sqlite_hnsw_new (space->dims, (gsize) space->count + 1, settings->m, settings->ef_construction,
                           (guint64) space->id);
  if (index == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED, _("Cannot create a search index"));
      return NULL;
    }
  segments = sqlite_space_segments (db, space, error);
  if (segments == NULL)
    return NULL;

  while ((rc = sqlite3_step (segments)) == SQLITE_ROW)
    {
      gsize n = (gsize) sqlite3_column_bytes (segments, 0) / sizeof (gint64);
      const guint8 *rowids = sqlite3_column_blob (segments, 0);
      const guint8 *rows = sqlite3_column_blob (segments, 1);

      if ((gsize) sqlite3_column_bytes (segments, 1) != n * space->dims * sizeof (float) || n > BUILD_BATCH)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("A vector segment of namespace “%s” in “%s” is damaged; run “stache check”"),
                       space->namespace_, db->path);
          return NULL;
        }

      if (pending + n > BUILD_BATCH)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
              !sqlite_hnsw_add_batch_stoppable (index, labels, vectors, pending, threads, stop, error))
            return NULL;
          pending = 0;
        }
      for (gsize i = 0; i < n; i++)
        {
          gint64 rowid;

          memcpy (&rowid, rowids + i * sizeof rowid, sizeof rowid);
          labels[pending + i] = (guint64) rowid;
        }
      memcpy (vectors + pending * space->dims, rows, n * space->dims * sizeof (float));
      pending += n;
    }
  if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (db, error, _("reading vectors"));
      return NULL;
    }
  if (pending > 0 &&
      !sqlite_hnsw_add_batch_stoppable (index, labels, vectors, pending, threads, stop, error))
    return NULL;

  as = g_new0 (AnnSpace, 1);
  as->index = g_steal_pointer (&index);
  as->generation = space->generation;
  as->stamp = space->stamp;
  return as;
}

/* The vector at position @p of @space into @out, and its chunk's rowid. */
static gboolean
read_position (SqliteDatabase     *db,
               const SqliteSpace  *space,
               gint64              p,
               float              *out,
               gint64             *out_rowid,
               GError            **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gsize row = (gsize) (p % space->capacity);

  stmt = sqlite_database_prepare (db, "SELECT rowids, vectors FROM vector_segments WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, SQLITE_SEGMENT_ID (space->id, p, space->capacity));
  if (sqlite3_step (stmt) != SQLITE_ROW ||
      (gsize) sqlite3_column_bytes (stmt, 0) < (row + 1) * sizeof (gint64) ||
      (gsize) sqlite3_column_bytes (stmt, 1) < (row + 1) * space->dims * sizeof (float))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("A vector segment of namespace “%s” in “%s” is damaged; run “stache check”"),
                   space->namespace_, db->path);
      return FALSE;
    }
  memcpy (out_rowid, (const guint8 *) sqlite3_column_blob (stmt, 0) + row * sizeof (gint64), sizeof (gint64));
  memcpy (out, (const guint8 *) sqlite3_column_blob (stmt, 1) + row * space->dims * sizeof (float),
          space->dims * sizeof (float));
  return TRUE;
}

/* Reads the vector of chunk @rowid from its segment. */
static gboolean
read_vector (SqliteDatabase     *db,
             const SqliteSpace  *space,
             gint64              rowid,
             float              *vector,
             gboolean           *found,
             GError            **error)
{
  g_autoptr(sqlite3_stmt) chunk = NULL;
  gint64 slot, stored;
  int rc;

  *found = FALSE;
  chunk = sqlite_database_prepare (db, "SELECT vector_slot FROM chunks WHERE rowid = ?1", error);
  if (chunk == NULL)
    return FALSE;
  sqlite3_bind_int64 (chunk, 1, rowid);
  rc = sqlite3_step (chunk);
  if (rc == SQLITE_DONE)
    return TRUE;   /* deleted since: a later entry of the log says so */
  if (rc != SQLITE_ROW)
    return sqlite_database_set_error (db, error, _("reading vectors"));

  slot = sqlite3_column_int64 (chunk, 0);
  if (SQLITE_SLOT_SPACE (slot) != space->id)
    return TRUE;   /* moved to another space (another vector length) */
  if (!read_position (db, space, SQLITE_SLOT_POSITION (slot), vector, &stored, error))
    return FALSE;
  if (stored != rowid)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The vector of a chunk in namespace “%s” of “%s” is not where the chunk says; "
                     "run “stache check”"),
                   space->namespace_, db->path);
      return FALSE;
    }
  *found = TRUE;
  return TRUE;
}

/* Replays the log from @as's generation up to @space's, inside a read
 * transaction. FALSE without an error when the log does not reach back
 * far enough: the caller rebuilds. */
static gboolean
catch_up (SqliteDatabase     *db,
          const SqliteSpace  *space,
          AnnSpace           *as,
          gint64              max_changes,
          const gint         *stop,
          gboolean           *too_long,
          gsize              *out_applied,
          GError            **error)
{
  g_autoptr(sqlite3_stmt) coverage = NULL;
  g_autoptr(sqlite3_stmt) log = NULL;
  g_autofree float *vector = g_new (float, space->dims);
  gsize applied = 0;
  int rc;

  *out_applied = 0;
  *too_long = FALSE;
  if (!space->ann || as->generation > space->generation)
    return FALSE;

  /* Every transaction that changed the space logged at least one entry
   * under its generation: all of them must be there. */
  coverage = sqlite_database_prepare (db, "SELECT count (DISTINCT generation), count (*) FROM vector_changes "
                                          "WHERE space = ?1 AND generation > ?2", error);
  if (coverage == NULL)
    return FALSE;
  sqlite3_bind_int64 (coverage, 1, space->id);
  sqlite3_bind_int64 (coverage, 2, as->generation);
  if (sqlite3_step (coverage) != SQLITE_ROW)
    return sqlite_database_set_error (db, error, _("reading the changes of a vector space"));
  if (sqlite3_column_int64 (coverage, 0) != space->generation - as->generation)
    return FALSE;
  if (max_changes >= 0 && sqlite3_column_int64 (coverage, 1) > max_changes)
    {
      *too_long = TRUE;
      return FALSE;
    }

  log = sqlite_database_prepare (db, "SELECT chunk, added FROM vector_changes "
                                     "WHERE space = ?1 AND generation > ?2 ORDER BY generation, rowid",
                                 error);
  if (log == NULL)
    return FALSE;
  sqlite3_bind_int64 (log, 1, space->id);
  sqlite3_bind_int64 (log, 2, as->generation);
  while ((rc = sqlite3_step (log)) == SQLITE_ROW)
    {
      gint64 rowid = sqlite3_column_int64 (log, 0);

      if (stop != NULL && g_atomic_int_get ((gint *) stop))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Operation was cancelled"));
          return FALSE;
        }
      if (sqlite3_column_int64 (log, 1))
        {
          gboolean found;

          if (!read_vector (db, space, rowid, vector, &found, error))
            return FALSE;
          if (found && !sqlite_hnsw_add (as->index, (guint64) rowid, vector, error))
            return FALSE;
        }
      else
        {
          sqlite_hnsw_remove (as->index, (guint64) rowid);
        }
      applied++;
    }
  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (db, error, _("reading the changes of a vector space"));

  as->generation = space->generation;
  as->stamp = space->stamp;
  *out_applied = applied;
  return TRUE;
}


typedef struct
{
  float  score;
  gint64 rowid;
} Best;

/* Keeps the CALIBRATION_K best of a query, worst first. */
static void
best_offer (Best   *best,
            float   score,
            gint64  rowid)
{
  guint i;

  if (score <= best[0].score)
    return;
  for (i = 1; i < CALIBRATION_K && best[i].score < score; i++)
    best[i - 1] = best[i];
  best[i - 1].score = score;
  best[i - 1].rowid = rowid;
}

/* Measures the recall@10 of @as against exact answers, on queries near
 * stored vectors (not stored themselves, like real queries),
 * and sets as->ef to the first breadth that reaches WANTED_RECALL, or -1.
 * Runs inside the read transaction the index was built in. */
static gboolean
calibrate (SqliteDatabase           *db,
           const SqliteAnnSettings  *settings,
           const SqliteSpace        *space,
           AnnSpace                 *as,
           GCancellable             *cancellable,
           GError                  **error)
{
  const gsize dims = space->dims, nq = CALIBRATION_QUERIES;
  g_autofree float *queries = g_new0 (float, nq * dims);
  g_autofree float *other = g_new (float, dims);
  g_autofree Best *best = g_new (Best, nq * CALIBRATION_K);
  g_autofree float *scores = g_new (float, nq * space->capacity);
  g_autoptr(sqlite3_stmt) segments = NULL;
  guint64 labels[CALIBRATION_K];
  float found_scores[CALIBRATION_K];
  gint64 started, exact_us;
  int rc;

  as->ef = (gint) MAX (settings->ef_search, CALIBRATION_K);
  if (space->count < 4 * (gint64) nq)
    return TRUE;

  for (gsize q = 0; q < nq; q++)
    {
      gint64 a = (gint64) q * space->count / (gint64) nq + (gint64) q % 7;
      GRand *rand = g_rand_new_with_seed ((guint32) (space->id * 7919 + q));
      gint64 rowid;

      /* A stored vector moved by noise of half its length: a query near
       * the data, as a query is near the texts it should find, but not
       * one of them. */
      if (!read_position (db, space, MIN (a, space->count - 1), queries + q * dims, &rowid, error))
        {
          g_rand_free (rand);
          return FALSE;
        }
      for (gsize j = 0; j < dims; j++)
        {
          double u1 = g_rand_double_range (rand, 1e-12, 1), u2 = g_rand_double (rand);

          other[j] = (float) (sqrt (-2 * log (u1)) * cos (2 * G_PI * u2));
        }
      g_rand_free (rand);
      sqlite_kernel_normalize (other, dims);
      for (gsize j = 0; j < dims; j++)
        queries[q * dims + j] += 0.5f * other[j];
      sqlite_kernel_normalize (queries + q * dims, dims);
      for (guint i = 0; i < CALIBRATION_K; i++)
        best[q * CALIBRATION_K + i] = (Best) { -G_MAXFLOAT, 0 };
    }

  /* The exact answers: one pass over the vectors for all the queries; and
   * what one exact scan costs, timed on a pass for the first query alone. */
  segments = sqlite_space_segments (db, space, error);
  if (segments == NULL)
    return FALSE;
  started = g_get_monotonic_time ();
  while ((rc = sqlite3_step (segments)) == SQLITE_ROW)
    {
      gsize n = (gsize) sqlite3_column_bytes (segments, 0) / sizeof (gint64);

      if (n <= space->capacity && (gsize) sqlite3_column_bytes (segments, 1) == n * dims * sizeof (float))
        sqlite_kernel_dot (queries, sqlite3_column_blob (segments, 1), n, dims, scores);
    }
  exact_us = g_get_monotonic_time () - started;
  sqlite3_reset (segments);
  while ((rc = sqlite3_step (segments)) == SQLITE_ROW)
    {
      gsize n = (gsize) sqlite3_column_bytes (segments, 0) / sizeof (gint64);
      const guint8 *rowids = sqlite3_column_blob (segments, 0);

      if (n > space->capacity || (gsize) sqlite3_column_bytes (segments, 1) != n * dims * sizeof (float))
        continue;
      sqlite_kernel_dot_multi (queries, nq, sqlite3_column_blob (segments, 1), n, dims, scores);
      for (gsize q = 0; q < nq; q++)
        for (gsize i = 0; i < n; i++)
          {
            gint64 rowid;

            memcpy (&rowid, rowids + i * sizeof rowid, sizeof rowid);
            best_offer (best + q * CALIBRATION_K, scores[q * n + i], rowid);
          }
    }
  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (db, error, _("reading vectors"));

  for (guint ef = as->ef; ef <= MAX_EF; ef *= 2)
    {
      gsize found = 0, wanted = 0;
      gint64 ann_us;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      started = g_get_monotonic_time ();

      for (gsize q = 0; q < nq; q++)
        {
          gsize n = sqlite_hnsw_search (as->index, queries + q * dims, CALIBRATION_K, ef, NULL, NULL,
                                        labels, found_scores);

          for (guint i = 0; i < CALIBRATION_K; i++)
            {
              if (best[q * CALIBRATION_K + i].score == -G_MAXFLOAT)
                continue;
              wanted++;
              for (gsize j = 0; j < n; j++)
                if ((gint64) labels[j] == best[q * CALIBRATION_K + i].rowid)
                  {
                    found++;
                    break;
                  }
            }
        }

      ann_us = (g_get_monotonic_time () - started) / (gint64) nq;

      g_debug ("Search index of namespace “%s”: recall@%d %.3f at ef_search %u, %ld µs a query "
               "against %ld µs for an exact scan", space->namespace_, CALIBRATION_K,
               wanted > 0 ? (double) found / wanted : 1.0, ef, (long) ann_us, (long) exact_us);
      /* Wider only gets slower: past this, an exact scan is the better deal. */
      if (ann_us * (gint64) settings->min_speedup > exact_us && !settings->ef_search_set)
        break;
      if (wanted == 0 || (double) found / wanted >= WANTED_RECALL)
        {
          as->ef = (gint) ef;
          return TRUE;
        }
    }

  as->ef = -1;
  return TRUE;
}

/* Reads the space inside a new read transaction; FALSE with @error set on
 * failure, TRUE with *found = FALSE (and no transaction) when it is gone. */
static gboolean
begin_with_space (SqliteDatabase  *db,
                  gint64           space_id,
                  SqliteSpace     *space,
                  AnnRecord       *record,
                  gboolean        *found,
                  GError         **error)
{
  if (!sqlite_database_begin (db, FALSE, error))
    return FALSE;
  if (!read_space (db, space_id, space, record, found, error))
    {
      sqlite_database_rollback (db);
      return FALSE;
    }
  if (!*found)
    sqlite_database_rollback (db);

  return TRUE;
}

/* The work of @job, on its thread: through a connection of its own, a
 * catch-up of job->as from the log or a new index, measured; saved; then,
 * with the main connection's mutex, recorded in the database and put
 * where searches find it. */
static gpointer
run_job (gpointer data)
{
  AnnJob *job = data;
  SqliteDatabase *db = job->db;
  g_auto(SqliteSpace) space = { 0 };
  g_autoptr(GError) error = NULL;
  AnnRecord record = { -1, 0, 0, 0 };
  AnnSpace *built = NULL;
  AnnSpace caught = { 0 };
  SqliteDatabase *reader;
  gboolean found = FALSE, ok = FALSE, caught_up = FALSE, too_long;
  gsize applied = 0;

  reader = sqlite_database_open_reader (db, &error);
  if (reader != NULL && begin_with_space (reader, job->space_id, &space, &record, &found, &error) && found)
    {
      if (job->as != NULL)
        {
          /* The index is not used by searches meanwhile (its generation
           * is behind theirs); its generation changes only below, with
           * the mutex held. */
          caught.index = job->as->index;
          caught.generation = job->as->generation;
          caught.stamp = job->as->stamp;
          caught.ef = job->as->ef;
          g_debug ("Bringing the search index of namespace “%s” up to date in the background",
                   space.namespace_);
          caught_up = catch_up (reader, &space, &caught, -1, &job->stop, &too_long, &applied, &error);
          /* As before a search: past a quarter of deleted nodes, a fresh
           * graph (the one in use is replaced when it is ready). */
          if (caught_up && 3 * sqlite_hnsw_deleted (caught.index) > sqlite_hnsw_count (caught.index))
            caught_up = FALSE;
          ok = caught_up;
        }
      if (!caught_up && error == NULL)
        {
          g_debug ("Building the search index of namespace “%s” (%ld vectors) in the background",
                   space.namespace_, (long) space.count);
          built = build (reader, &job->settings, &space, &job->stop, job->cancellable, &error);
          if (built != NULL && !calibrate (reader, &job->settings, &space, built, job->cancellable, &error))
            g_clear_pointer (&built, ann_space_free);
          ok = built != NULL;
        }
      sqlite_database_rollback (reader);
    }
  else if (reader != NULL && error == NULL)
    {
      ok = TRUE;   /* the space is gone */
    }
  sqlite_database_close_reader (reader);

  /* Saved outside the mutex: searches go on meanwhile. */
  if (ok && found && !g_cancellable_is_cancelled (job->cancellable))
    {
      g_autoptr(GError) save_error = NULL;
      AnnSpace *saving = built != NULL ? built : &caught;
      gboolean saved = (built == NULL && applied < SAVE_AFTER_CHANGES) ||
                       save_file (db, job->space_id, saving, &save_error);

      g_mutex_lock (&db->mutex);
      if (!g_cancellable_is_cancelled (job->cancellable))
        {
          AnnState *state = state_of (db);

          if (saved && (built != NULL || applied >= SAVE_AFTER_CHANGES) &&
              !record_saved (db, job->space_id, saving, space.count, &save_error))
            saved = FALSE;
          if (!saved)
            g_debug ("The search index of vector space %ld was not saved: %s", (long) job->space_id,
                     save_error != NULL ? save_error->message : "?");

          if (built == NULL)
            {
              job->as->generation = caught.generation;
              job->as->stamp = caught.stamp;
            }
          else if (built->ef < 0 && !job->settings.ef_search_set)
            {
              g_debug ("The search index of namespace “%s” does not reach a recall of %.2f: exact scans",
                       space.namespace_, WANTED_RECALL);
              g_hash_table_remove (state->spaces, &job->space_id);
              g_clear_pointer (&built, ann_space_free);
            }
          else
            {
              g_hash_table_replace (state->spaces, g_memdup2 (&job->space_id, sizeof job->space_id),
                                    g_steal_pointer (&built));
            }
        }
      job->done = TRUE;
      g_mutex_unlock (&db->mutex);
    }
  else
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !g_error_matches (error, SQLITE_HNSW_ERROR, SQLITE_HNSW_ERROR_STOPPED))
        g_debug ("The search index of vector space %ld was not built: %s", (long) job->space_id,
                 error->message);
      g_mutex_lock (&db->mutex);
      job->failed = !ok;
      job->done = TRUE;
      g_mutex_unlock (&db->mutex);
    }

  g_clear_pointer (&built, ann_space_free);
  return NULL;
}

/* Starts a job for @space_id unless one runs, or one failed at this
 * generation already (it would again: a damaged segment, which exact
 * scans report). With the mutex held. */
static void
start_job (SqliteDatabase           *db,
           const SqliteAnnSettings  *settings,
           const SqliteSpace        *space,
           AnnSpace                 *as)
{
  AnnState *state = state_of (db);
  const gint64 *failed_at = g_hash_table_lookup (state->failed, &space->id);
  g_autoptr(GError) error = NULL;
  AnnJob *job;

  if (g_hash_table_contains (state->jobs, &space->id) ||
      (failed_at != NULL && *failed_at == space->generation))
    return;

  job = g_new0 (AnnJob, 1);
  job->db = db;
  job->space_id = space->id;
  job->settings = *settings;
  job->as = as;
  job->cancellable = g_cancellable_new ();
  job->generation = space->generation;
  job->thread = g_thread_try_new ("stache-ann", run_job, job, &error);
  if (job->thread == NULL)
    {
      g_debug ("No thread to build the search index of vector space %ld: %s", (long) space->id,
               error->message);
      ann_job_free (job);
      return;
    }
  g_hash_table_insert (state->jobs, g_memdup2 (&space->id, sizeof space->id), job);
}

/* Whether a job runs for @space_id; one that has finished is joined and
 * forgotten. With the mutex held. */
static gboolean
job_running (SqliteDatabase *db,
             gint64          space_id)
{
  AnnState *state = state_of (db);
  AnnJob *job = g_hash_table_lookup (state->jobs, &space_id);

  if (job == NULL)
    return FALSE;
  if (!job->done)
    return TRUE;

  /* done is set last, under the mutex we hold: the thread is returning. */
  g_thread_join (job->thread);
  if (job->failed)
    g_hash_table_replace (state->failed, g_memdup2 (&space_id, sizeof space_id),
                          g_memdup2 (&job->generation, sizeof job->generation));
  g_hash_table_remove (state->jobs, &space_id);
  ann_job_free (job);
  return FALSE;
}

gboolean
sqlite_ann_prepare (SqliteDatabase           *db,
                    const SqliteAnnSettings  *settings,
                    gint64                    space_id,
                    GCancellable             *cancellable,
                    GError                  **error)
{
  GHashTable *spaces = spaces_of (db);
  g_auto(SqliteSpace) space = { 0 };
  GError *local_error = NULL;
  AnnSpace *as, *built;
  gboolean found, caught_up = FALSE, too_long = FALSE;
  AnnRecord record = { -1, 0, 0, 0 };
  gsize applied = 0;

  /* Searches scan exactly until the work under way is done. */
  if (job_running (db, space_id))
    return TRUE;

  if (!begin_with_space (db, space_id, &space, &record, &found, error))
    return FALSE;
  if (!found)
    return TRUE;

  /* Measured not good enough: exact scans, until the space has doubled
   * (or the user asked for a breadth of their own). */
  if (record.ef < 0 && space.count < 2 * record.checked && !settings->ef_search_set)
    {
      g_hash_table_remove (spaces, &space_id);
      return sqlite_database_end (db, TRUE, error);
    }

  as = g_hash_table_lookup (spaces, &space_id);
  if (as == NULL)
    {
      g_autofree char *path = sqlite_ann_path (db, space_id);
      g_autoptr(GError) load_error = NULL;
      guint64 generation = 0, owner = 0;
      SqliteHnsw *index = sqlite_hnsw_load (path, space.dims, &generation, &owner, &load_error);

      /* Only the file this space's row says was saved last. */
      if (index != NULL && (gint64) generation == record.generation && (gint64) owner == record.stamp &&
          (record.ef > 0 || settings->ef_search_set))
        {
          as = g_new0 (AnnSpace, 1);
          as->index = index;
          as->generation = (gint64) generation;
          as->stamp = (gint64) owner;
          as->ef = record.ef;
          g_hash_table_insert (spaces, g_memdup2 (&space_id, sizeof space_id), as);
        }
      else
        {
          g_clear_pointer (&index, sqlite_hnsw_free);
          g_debug ("The saved search index of namespace “%s” is not used: %s", space.namespace_,
                   load_error != NULL ? load_error->message
                                      : "it is not the one the database saved last");
        }
    }

  if (as != NULL && as->generation == space.generation && as->stamp == space.stamp)
    return sqlite_database_end (db, TRUE, error);

  if (as != NULL)
    {
      caught_up = catch_up (db, &space, as, settings->background ? FOREGROUND_CHANGES : -1, NULL,
                            &too_long, &applied, &local_error);
      if (local_error != NULL)
        {
          sqlite_database_rollback (db);
          g_propagate_error (error, local_error);
          return FALSE;
        }
      /* Deleted nodes are never freed and are still walked by searches:
       * past a quarter of all nodes, a fresh graph is better. */
      if (caught_up && 3 * sqlite_hnsw_deleted (as->index) > sqlite_hnsw_count (as->index))
        caught_up = FALSE;
    }

  if (caught_up)
    {
      if (!sqlite_database_end (db, TRUE, error))
        return FALSE;
      if (applied >= SAVE_AFTER_CHANGES)
        save_and_prune (db, space_id, as, space.count);
      return TRUE;
    }

  /* A long log: replayed on the build thread, into the same index. */
  if (too_long)
    {
      sqlite_database_rollback (db);
      start_job (db, settings, &space, as);
      return TRUE;
    }

  /* A rebuild. Writers log their changes from here on, so the index can
   * catch up with them later; the flag is set in a write transaction of
   * its own, before the vectors are read. */
  sqlite_database_rollback (db);
  if (!space.ann &&
      !set_ann_flag (db, space_id, error))
    return FALSE;

  if (settings->background)
    {
      /* The index that could not catch up is of no more use. */
      g_hash_table_remove (spaces, &space_id);
      start_job (db, settings, &space, NULL);
      return TRUE;
    }

  sqlite_space_clear (&space);
  if (!begin_with_space (db, space_id, &space, &record, &found, error))
    return FALSE;
  if (!found)
    return TRUE;

  g_debug ("Building the search index of namespace “%s” (%ld vectors)", space.namespace_, (long) space.count);
  built = build (db, settings, &space, NULL, cancellable, &local_error);
  if (built != NULL && !calibrate (db, settings, &space, built, cancellable, &local_error))
    g_clear_pointer (&built, ann_space_free);
  sqlite_database_rollback (db);
  if (built == NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  save_and_prune (db, space_id, built, space.count);
  if (built->ef < 0 && !settings->ef_search_set)
    {
      g_debug ("The search index of namespace “%s” does not reach a recall of %.2f: exact scans",
               space.namespace_, WANTED_RECALL);
      ann_space_free (built);
      g_hash_table_remove (spaces, &space_id);
      return TRUE;
    }
  g_hash_table_replace (spaces, g_memdup2 (&space_id, sizeof space_id), built);
  return TRUE;
}

typedef struct
{
  SqliteAnnAccept accept;
  gpointer        user_data;
} AcceptData;

static gboolean
accept_label (guint64  label,
              gpointer user_data)
{
  AcceptData *data = user_data;

  return data->accept ((gint64) label, data->user_data);
}

gssize
sqlite_ann_search (SqliteDatabase           *db,
                   const SqliteAnnSettings  *settings,
                   const SqliteSpace        *space,
                   const float              *unit_query,
                   gsize                     k,
                   SqliteAnnAccept           accept,
                   gpointer                  user_data,
                   gint64                   *rowids,
                   float                    *scores,
                   GError                  **error)
{
  AnnSpace *as = db->ann != NULL ? g_hash_table_lookup (((AnnState *) db->ann)->spaces, &space->id) : NULL;
  AcceptData data = { accept, user_data };
  gsize n;

  /* Not at the generation this transaction sees, or not good enough: the
   * caller scans. */
  if (as == NULL || (as->ef <= 0 && !settings->ef_search_set) ||
      as->generation != space->generation || as->stamp != space->stamp)
    return -2;

  n = sqlite_hnsw_search (as->index, unit_query, k,
                          MAX (settings->ef_search_set ? settings->ef_search : (guint) as->ef, (guint) k),
                          accept != NULL ? accept_label : NULL, &data, (guint64 *) rowids, scores);
  return (gssize) n;
}
