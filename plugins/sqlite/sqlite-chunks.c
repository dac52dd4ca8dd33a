/* sqlite-chunks.c: chunks, their keyword index and their vectors, written
 * and read together
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every change to chunks goes through an SqliteWrite inside the caller's
 * write transaction: the chunk row, its keyword index entry
 * (sqlite-keywords.c) and its vector are added or removed together, so they commit or vanish
 * together. Vector segments are edited in memory and each one is written
 * once per transaction, however many vectors of it changed.
 */
#include <string.h>

#include <glib/gi18n-lib.h>

#include "sqlite-chunks.h"
#include "sqlite-kernel.h"
#include "sqlite-keywords.h"
#include "sqlite-scanfile.h"

/* SQLite keeps a row's payload in its page up to (usable size - 35)
 * bytes; the segment row's header and the two BLOB headers need fewer
 * than this many. */
#define SEGMENT_ROW_OVERHEAD 64
/* Segments are never bigger than this, whatever the page size. */
#define SEGMENT_MAX_VECTORS 4096

typedef struct
{
  gint64    id;
  gint64   *rowids;    /* capacity entries */
  float    *vectors;   /* capacity × dims */
  gboolean  dirty;
} Segment;

typedef struct
{
  SqliteSpace  space;
  GHashTable  *segments;   /* segment index (gint64 *) → Segment * */
  GArray      *log;        /* ChangeEntry, when space.ann */
  gboolean     changed;
} WriteSpace;

typedef struct
{
  gint64 chunk;
  gint64 added;
} ChangeEntry;

struct _SqliteWrite
{
  SqliteDatabase *db;
  GHashTable     *by_id;    /* space id (gint64 *) → WriteSpace * (owned) */
  GHashTable     *by_key;   /* "dims:namespace" → WriteSpace * */
  WriteSpace     *last;     /* the one write_space_for() gave last */
  GArray         *scratch;  /* one normalised vector */
  SqliteKeywordBatch *keywords;   /* the chunks added, for the keyword index */
};

/* ---- spaces ---- */

void
sqlite_space_clear (SqliteSpace *space)
{
  g_clear_pointer (&space->namespace_, g_free);
}

void
sqlite_space_free (SqliteSpace *space)
{
  if (space == NULL)
    return;
  sqlite_space_clear (space);
  g_free (space);
}

guint
sqlite_segment_capacity (SqliteDatabase *db,
                         gsize           dims)
{
  gsize usable = db->page_size > 0 ? db->page_size : 4096;
  gsize row_bytes = dims * sizeof (float) + sizeof (gint64);
  gsize capacity;

  capacity = usable > 35 + SEGMENT_ROW_OVERHEAD ? (usable - 35 - SEGMENT_ROW_OVERHEAD) / row_bytes : 0;
  return (guint) CLAMP (capacity, 1, SEGMENT_MAX_VECTORS);
}

#define SPACE_COLUMNS "SELECT id, namespace, dims, capacity, count, generation, ann, stamp FROM vector_spaces"

static void
space_from_row (sqlite3_stmt *stmt,
                SqliteSpace  *space)
{
  space->id = sqlite3_column_int64 (stmt, 0);
  space->namespace_ = g_strdup (sqlite_column_text (stmt, 1));
  space->dims = (gsize) sqlite3_column_int64 (stmt, 2);
  space->capacity = (guint) sqlite3_column_int64 (stmt, 3);
  space->count = sqlite3_column_int64 (stmt, 4);
  space->generation = sqlite3_column_int64 (stmt, 5);
  space->ann = sqlite3_column_int64 (stmt, 6) != 0;
  space->stamp = sqlite3_column_int64 (stmt, 7);
}

static gboolean
space_is_sane (SqliteDatabase  *db,
               SqliteSpace     *space,
               GError         **error)
{
  if (space->dims == 0 || space->dims > 1000000 || space->capacity == 0 ||
      space->capacity > SEGMENT_MAX_VECTORS || space->count < 0 || space->count > G_MAXUINT32)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The vectors of namespace “%s” in the Stache database “%s” are damaged "
                     "(%lu dimensions, %u per segment, %ld vectors); run “stache check”"),
                   space->namespace_, db->path, (gulong) space->dims, space->capacity,
                   (long) space->count);
      return FALSE;
    }

  return TRUE;
}

sqlite3_stmt *
sqlite_space_segments (SqliteDatabase     *db,
                       const SqliteSpace  *space,
                       GError            **error)
{
  sqlite3_stmt *stmt = sqlite_database_prepare (db, "SELECT rowids, vectors FROM vector_segments "
                                                    "WHERE id BETWEEN ?1 AND ?2", error);

  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, SQLITE_SEGMENT_FIRST (space->id));
      sqlite3_bind_int64 (stmt, 2, SQLITE_SEGMENT_LAST (space->id));
    }

  return stmt;
}

GPtrArray *
sqlite_space_list (SqliteDatabase  *db,
                   const char      *namespace_,
                   GError         **error)
{
  g_autoptr(GPtrArray) spaces = g_ptr_array_new_with_free_func ((GDestroyNotify) sqlite_space_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = sqlite_database_prepare (db, namespace_ != NULL
                                        ? SPACE_COLUMNS " WHERE namespace = ?1 ORDER BY id"
                                        : SPACE_COLUMNS " ORDER BY id",
                                  error);
  if (stmt == NULL)
    return NULL;
  if (namespace_ != NULL)
    sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SqliteSpace *space = g_new0 (SqliteSpace, 1);

      space_from_row (stmt, space);
      g_ptr_array_add (spaces, space);
      if (!space_is_sane (db, space, error))
        return NULL;
    }
  if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (db, error, _("reading the vector spaces"));
      return NULL;
    }

  return g_steal_pointer (&spaces);
}

/* ---- the write ---- */

static void
segment_free (gpointer data)
{
  Segment *segment = data;

  g_free (segment->rowids);
  g_free (segment->vectors);
  g_free (segment);
}

static void
write_space_free (gpointer data)
{
  WriteSpace *ws = data;

  sqlite_space_clear (&ws->space);
  g_hash_table_unref (ws->segments);
  g_clear_pointer (&ws->log, g_array_unref);
  g_free (ws);
}

SqliteWrite *
sqlite_write_new (SqliteDatabase *db)
{
  SqliteWrite *write = g_new0 (SqliteWrite, 1);

  write->db = db;
  write->by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, write_space_free);
  write->by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  write->scratch = g_array_new (FALSE, FALSE, sizeof (float));
  write->keywords = sqlite_keyword_batch_new (db->stemmer);

  return write;
}

void
sqlite_write_free (SqliteWrite *write)
{
  if (write == NULL)
    return;

  g_hash_table_unref (write->by_key);
  g_hash_table_unref (write->by_id);
  g_array_unref (write->scratch);
  sqlite_keyword_batch_free (write->keywords);
  g_free (write);
}

static char *
space_key (const char *namespace_,
           gsize       dims)
{
  return g_strdup_printf ("%lu:%s", (gulong) dims, namespace_);
}

static WriteSpace *
write_space_add (SqliteWrite *write,
                 SqliteSpace *space)
{
  WriteSpace *ws = g_new0 (WriteSpace, 1);

  ws->space = *space;
  ws->segments = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, segment_free);
  if (ws->space.ann)
    ws->log = g_array_new (FALSE, FALSE, sizeof (ChangeEntry));
  g_hash_table_insert (write->by_id, &ws->space.id, ws);
  g_hash_table_insert (write->by_key, space_key (ws->space.namespace_, ws->space.dims), ws);

  return ws;
}

static WriteSpace *
write_space_by_id (SqliteWrite  *write,
                   gint64        id,
                   GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  SqliteSpace space = { 0 };
  WriteSpace *ws;
  int rc;

  ws = g_hash_table_lookup (write->by_id, &id);
  if (ws != NULL)
    return ws;

  stmt = sqlite_database_prepare (write->db, SPACE_COLUMNS " WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("A chunk in the Stache database “%s” points to vector space %ld, which "
                     "does not exist; run “stache check”"),
                   write->db->path, (long) id);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      sqlite_database_set_error (write->db, error, _("reading a vector space"));
      return NULL;
    }

  space_from_row (stmt, &space);
  if (!space_is_sane (write->db, &space, error))
    {
      sqlite_space_clear (&space);
      return NULL;
    }

  return write_space_add (write, &space);
}

/* The space for vectors of @dims in @namespace_, created when missing. */
static WriteSpace *
write_space_for (SqliteWrite  *write,
                 const char   *namespace_,
                 gsize         dims,
                 GError      **error)
{
  g_autofree char *key = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  SqliteSpace space = { 0 };
  WriteSpace *ws;
  int rc;

  /* the documents of a batch mostly go to one space */
  if (write->last != NULL && write->last->space.dims == dims &&
      strcmp (write->last->space.namespace_, namespace_) == 0)
    return write->last;

  key = space_key (namespace_, dims);
  ws = g_hash_table_lookup (write->by_key, key);
  if (ws != NULL)
    return write->last = ws;

  stmt = sqlite_database_prepare (write->db, SPACE_COLUMNS " WHERE namespace = ?1 AND dims = ?2", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) dims);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      space_from_row (stmt, &space);
      if (!space_is_sane (write->db, &space, error))
        {
          sqlite_space_clear (&space);
          return NULL;
        }
      return write_space_add (write, &space);
    }
  if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (write->db, error, _("reading a vector space"));
      return NULL;
    }
  g_clear_pointer (&stmt, sqlite_statement_release);

  space.namespace_ = g_strdup (namespace_);
  space.dims = dims;
  space.capacity = sqlite_segment_capacity (write->db, dims);

  stmt = sqlite_database_prepare (write->db, "INSERT INTO vector_spaces (namespace, dims, capacity, count) "
                                             "VALUES (?1, ?2, ?3, 0)", error);
  if (stmt == NULL)
    {
      sqlite_space_clear (&space);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) dims);
  sqlite3_bind_int64 (stmt, 3, space.capacity);
  if (!sqlite_database_exec_step (write->db, stmt, _("creating a vector space"), error))
    {
      sqlite_space_clear (&space);
      return NULL;
    }
  space.id = sqlite3_last_insert_rowid (write->db->handle);

  ws = write_space_add (write, &space);
  ws->changed = TRUE;
  return ws;
}

static Segment *
segment_get (SqliteWrite  *write,
             WriteSpace   *ws,
             gint64        position,
             GError      **error)
{
  gint64 id = SQLITE_SEGMENT_ID (ws->space.id, position, ws->space.capacity);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  Segment *segment;
  int rc;

  segment = g_hash_table_lookup (ws->segments, &id);
  if (segment != NULL)
    return segment;

  segment = g_new0 (Segment, 1);
  segment->id = id;
  segment->rowids = g_new0 (gint64, ws->space.capacity);
  segment->vectors = g_new0 (float, (gsize) ws->space.capacity * ws->space.dims);
  g_hash_table_insert (ws->segments, &segment->id, segment);

  stmt = sqlite_database_prepare (write->db, "SELECT rowids, vectors FROM vector_segments WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      gsize n = (gsize) sqlite3_column_bytes (stmt, 0) / sizeof (gint64);

      if ((gsize) sqlite3_column_bytes (stmt, 0) != n * sizeof (gint64) || n > ws->space.capacity ||
          (gsize) sqlite3_column_bytes (stmt, 1) != n * ws->space.dims * sizeof (float))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("A vector segment of namespace “%s” in the Stache database “%s” is "
                         "damaged; run “stache check”"),
                       ws->space.namespace_, write->db->path);
          return NULL;
        }
      if (n > 0)
        {
          memcpy (segment->rowids, sqlite3_column_blob (stmt, 0), n * sizeof (gint64));
          memcpy (segment->vectors, sqlite3_column_blob (stmt, 1), n * ws->space.dims * sizeof (float));
        }
    }
  else if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (write->db, error, _("reading vectors"));
      return NULL;
    }

  return segment;
}

static void
log_change (WriteSpace *ws,
            gint64      chunk,
            gboolean    added)
{
  ChangeEntry entry = { chunk, added };

  if (ws->log != NULL)
    g_array_append_val (ws->log, entry);
}

/* Puts @vector (unit length already) at the end of @ws. */
static gboolean
space_append (SqliteWrite  *write,
              WriteSpace   *ws,
              gint64        chunk_rowid,
              const float  *vector,
              gint64       *out_slot,
              GError      **error)
{
  gint64 position = ws->space.count;
  gsize row = (gsize) (position % ws->space.capacity);
  Segment *segment;

  if (position >= G_MAXUINT32)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The namespace “%s” is full (%ld vectors)"), ws->space.namespace_, (long) position);
      return FALSE;
    }

  segment = segment_get (write, ws, position, error);
  if (segment == NULL)
    return FALSE;

  segment->rowids[row] = chunk_rowid;
  memcpy (segment->vectors + row * ws->space.dims, vector, ws->space.dims * sizeof (float));
  segment->dirty = TRUE;
  ws->space.count++;
  ws->changed = TRUE;
  log_change (ws, chunk_rowid, TRUE);

  *out_slot = SQLITE_SLOT (ws->space.id, position);
  return TRUE;
}

/* Removes the vector at @slot: the space's last vector moves into its
 * place, and its chunk row learns its new slot. */
static gboolean
space_remove (SqliteWrite  *write,
              gint64        slot,
              gint64        chunk_rowid,
              GError      **error)
{
  WriteSpace *ws = write_space_by_id (write, SQLITE_SLOT_SPACE (slot), error);
  gint64 position = SQLITE_SLOT_POSITION (slot);
  gint64 last;
  Segment *hole, *tail;
  gsize hole_row, tail_row, dims;

  if (ws == NULL)
    return FALSE;

  last = ws->space.count - 1;
  hole = segment_get (write, ws, position, error);
  tail = hole != NULL ? segment_get (write, ws, last, error) : NULL;
  if (tail == NULL)
    return FALSE;

  hole_row = (gsize) (position % ws->space.capacity);
  tail_row = (gsize) (last % ws->space.capacity);
  dims = ws->space.dims;

  if (position > last || hole->rowids[hole_row] != chunk_rowid)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The vector of a chunk in namespace “%s” of the Stache database “%s” is "
                     "not where the chunk says; run “stache check”"),
                   ws->space.namespace_, write->db->path);
      return FALSE;
    }

  if (position != last)
    {
      g_autoptr(sqlite3_stmt) move = NULL;
      gint64 moved = tail->rowids[tail_row];

      hole->rowids[hole_row] = moved;
      memcpy (hole->vectors + hole_row * dims, tail->vectors + tail_row * dims, dims * sizeof (float));

      move = sqlite_database_prepare (write->db, "UPDATE chunks SET vector_slot = ?2 WHERE rowid = ?1", error);
      if (move == NULL)
        return FALSE;
      sqlite3_bind_int64 (move, 1, moved);
      sqlite3_bind_int64 (move, 2, slot);
      if (!sqlite_database_exec_step (write->db, move, _("moving a vector"), error))
        return FALSE;
    }

  tail->rowids[tail_row] = 0;
  hole->dirty = tail->dirty = TRUE;
  ws->space.count--;
  ws->changed = TRUE;
  log_change (ws, chunk_rowid, FALSE);

  return TRUE;
}

gboolean
sqlite_write_append_vector (SqliteWrite  *write,
                            const char   *namespace_,
                            gint64        chunk_rowid,
                            const float  *vector,
                            gsize         dims,
                            gint64       *out_slot,
                            GError      **error)
{
  WriteSpace *ws = write_space_for (write, namespace_, dims, error);
  float *unit;

  if (ws == NULL)
    return FALSE;

  g_array_set_size (write->scratch, dims);
  unit = (float *) (gpointer) write->scratch->data;
  memcpy (unit, vector, dims * sizeof (float));
  sqlite_kernel_normalize (unit, dims);

  return space_append (write, ws, chunk_rowid, unit, out_slot, error);
}

/* ---- chunk rows ---- */

/* Removes one chunk row and everything hanging off it. */
static gboolean
delete_chunk (SqliteWrite  *write,
              gint64        rowid,
              gint64        slot,
              const char   *text,
              GError      **error)
{
  g_autoptr(sqlite3_stmt) row = NULL;

  if (!sqlite_keyword_batch_remove (write->keywords, write->db, rowid, text, error))
    return FALSE;

  if (!space_remove (write, slot, rowid, error))
    return FALSE;

  row = sqlite_database_prepare (write->db, "DELETE FROM chunks WHERE rowid = ?1", error);
  if (row == NULL)
    return FALSE;
  sqlite3_bind_int64 (row, 1, rowid);

  return sqlite_database_exec_step (write->db, row, _("deleting a chunk"), error);
}

/* Deletes the rows @select yields (columns: rowid, vector_slot, text).
 * They are collected first: deleting while stepping would disturb the
 * statement. Each row's slot is read again just before it goes, since an
 * earlier deletion may have moved its vector. */
static gboolean
delete_selected (SqliteWrite   *write,
                 sqlite3_stmt  *select,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  int rc;

  while ((rc = sqlite3_step (select)) == SQLITE_ROW)
    {
      gint64 rowid = sqlite3_column_int64 (select, 0);

      g_array_append_val (rowids, rowid);
      g_ptr_array_add (texts, g_strdup (sqlite_column_text (select, 2)));
    }
  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (write->db, error, _("finding the chunks to delete"));
  sqlite3_reset (select);

  for (guint i = 0; i < rowids->len; i++)
    {
      gint64 rowid = g_array_index (rowids, gint64, i), vector_slot;
      g_autoptr(sqlite3_stmt) slot = NULL;

      if (i % SQLITE_CANCEL_CHECK_INTERVAL == SQLITE_CANCEL_CHECK_INTERVAL - 1 &&
          g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      slot = sqlite_database_prepare (write->db, "SELECT vector_slot FROM chunks WHERE rowid = ?1", error);
      if (slot == NULL)
        return FALSE;
      sqlite3_bind_int64 (slot, 1, rowid);
      if (sqlite3_step (slot) != SQLITE_ROW)
        return sqlite_database_set_error (write->db, error, _("finding a chunk to delete"));
      vector_slot = sqlite3_column_int64 (slot, 0);
      g_clear_pointer (&slot, sqlite_statement_release);
      if (!delete_chunk (write, rowid, vector_slot, g_ptr_array_index (texts, i), error))
        return FALSE;
    }

  return TRUE;
}

gboolean
sqlite_write_delete_rowids (SqliteWrite    *write,
                            const gint64   *rowids,
                            gsize           n,
                            GCancellable   *cancellable,
                            GError        **error)
{
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(sqlite3_stmt) select = NULL;

      select = sqlite_database_prepare (write->db, "SELECT rowid, vector_slot, text FROM chunks "
                                                   "WHERE rowid = ?1", error);
      if (select == NULL)
        return FALSE;
      sqlite3_bind_int64 (select, 1, rowids[i]);
      if (!delete_selected (write, select, cancellable, error))
        return FALSE;
    }

  return TRUE;
}

gboolean
sqlite_write_delete_document (SqliteWrite    *write,
                              const char     *namespace_,
                              const char     *document_id,
                              GCancellable   *cancellable,
                              GError        **error)
{
  g_autoptr(sqlite3_stmt) select = NULL;

  select = sqlite_database_prepare (write->db, namespace_ != NULL
                                                 ? "SELECT rowid, vector_slot, text FROM chunks "
                                                   "WHERE namespace = ?1 AND document_id = ?2"
                                                 : "SELECT rowid, vector_slot, text FROM chunks "
                                                   "WHERE document_id = ?2",
                                    error);
  if (select == NULL)
    return FALSE;
  if (namespace_ != NULL)
    sqlite3_bind_text (select, 1, namespace_, -1, SQLITE_STATIC);
  sqlite3_bind_text (select, 2, document_id, -1, SQLITE_STATIC);

  return delete_selected (write, select, cancellable, error);
}

gboolean
sqlite_write_delete_namespace (SqliteWrite    *write,
                               const char     *namespace_,
                               GCancellable   *cancellable,
                               GError        **error)
{
  g_autoptr(sqlite3_stmt) texts = NULL;
  g_autoptr(sqlite3_stmt) chunks = NULL;
  g_autoptr(GPtrArray) spaces = NULL;
  guint64 n_rows = 0;
  int rc;

  /* Whole spaces go at once, without moving vectors around. */
  spaces = sqlite_space_list (write->db, namespace_, error);
  if (spaces == NULL)
    return FALSE;
  for (guint i = 0; i < spaces->len; i++)
    {
      SqliteSpace *space = g_ptr_array_index (spaces, i);
      WriteSpace *ws = write_space_by_id (write, space->id, error);

      if (ws == NULL)
        return FALSE;
      g_hash_table_remove_all (ws->segments);
      ws->space.count = 0;
      ws->changed = TRUE;
      if (ws->log != NULL)
        g_array_set_size (ws->log, 0);
    }

  texts = sqlite_database_prepare (write->db, "SELECT rowid, text FROM chunks WHERE namespace = ?1", error);
  if (texts == NULL)
    return FALSE;
  sqlite3_bind_text (texts, 1, namespace_, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (texts)) == SQLITE_ROW)
    {
      if (++n_rows % SQLITE_CANCEL_CHECK_INTERVAL == 0 &&
          g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (!sqlite_keyword_batch_remove (write->keywords, write->db, sqlite3_column_int64 (texts, 0),
                                        sqlite_column_text (texts, 1), error))
        return FALSE;
    }
  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (write->db, error, _("deleting a namespace"));

  chunks = sqlite_database_prepare (write->db, "DELETE FROM chunks WHERE namespace = ?1", error);
  if (chunks == NULL)
    return FALSE;
  sqlite3_bind_text (chunks, 1, namespace_, -1, SQLITE_STATIC);

  return sqlite_database_exec_step (write->db, chunks, _("deleting a namespace"), error);
}

gboolean
sqlite_write_insert_chunks (SqliteWrite    *write,
                            const char     *namespace_,
                            GPtrArray      *chunks,
                            const float    *vectors,
                            gsize           dims,
                            GCancellable   *cancellable,
                            GError        **error)
{
  g_autoptr(sqlite3_stmt) existing = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  WriteSpace *ws;
  float *unit;

  if (chunks->len == 0)
    return TRUE;

  ws = write_space_for (write, namespace_, dims, error);
  if (ws == NULL)
    return FALSE;
  g_array_set_size (write->scratch, dims);
  unit = (float *) (gpointer) write->scratch->data;

  for (guint i = 0; i < chunks->len; i++)
    {
      StacheChunk *chunk = g_ptr_array_index (chunks, i);
      const char *text = stache_chunk_get_text (chunk);
      g_autofree char *metadata = sqlite_json_to_text (stache_chunk_get_metadata (chunk));
      gint64 rowid, chunk_slot;
      int rc;

      if (i % SQLITE_CANCEL_CHECK_INTERVAL == SQLITE_CANCEL_CHECK_INTERVAL - 1 &&
          g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (text == NULL)
        text = "";

      /* The slot is known before the row is written: the vector goes to
       * the end of the space. */
      chunk_slot = SQLITE_SLOT (ws->space.id, ws->space.count);

      insert = sqlite_database_prepare (write->db,
                                        "INSERT INTO chunks (namespace, id, document_id, position, "
                                        "vector_slot, text, metadata) "
                                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                                        "ON CONFLICT (namespace, id) DO NOTHING", error);
      if (insert == NULL)
        return FALSE;
      sqlite3_bind_text (insert, 1, namespace_, -1, SQLITE_STATIC);
      sqlite3_bind_text (insert, 2, stache_chunk_get_id (chunk), -1, SQLITE_STATIC);
      sqlite_bind_text (insert, 3, stache_chunk_get_document_id (chunk));
      sqlite3_bind_int64 (insert, 4, stache_chunk_get_position (chunk));
      sqlite3_bind_int64 (insert, 5, chunk_slot);
      sqlite3_bind_text (insert, 6, text, -1, SQLITE_STATIC);
      sqlite_bind_text (insert, 7, metadata);
      rc = sqlite3_step (insert);
      if (rc == SQLITE_DONE && sqlite3_changes (write->db->handle) == 0)
        {
          /* A chunk id the namespace holds already: the new chunk replaces
           * it (rare: a document's own chunks were deleted before). */
          existing = sqlite_database_prepare (write->db, "SELECT rowid, vector_slot, text FROM chunks "
                                                         "WHERE namespace = ?1 AND id = ?2", error);
          if (existing == NULL)
            return FALSE;
          sqlite3_bind_text (existing, 1, namespace_, -1, SQLITE_STATIC);
          sqlite3_bind_text (existing, 2, stache_chunk_get_id (chunk), -1, SQLITE_STATIC);
          if (sqlite3_step (existing) != SQLITE_ROW)
            return sqlite_database_set_error (write->db, error, _("looking a chunk up"));
          {
            g_autofree char *old_text = g_strdup (sqlite_column_text (existing, 2));
            gint64 old_rowid = sqlite3_column_int64 (existing, 0);
            gint64 old_slot = sqlite3_column_int64 (existing, 1);

            sqlite3_reset (existing);
            if (!delete_chunk (write, old_rowid, old_slot, old_text, error))
              return FALSE;
          }
          g_clear_pointer (&existing, sqlite_statement_release);

          /* The space may have shrunk: the slot again, and the row. */
          chunk_slot = SQLITE_SLOT (ws->space.id, ws->space.count);
          sqlite3_reset (insert);
          sqlite3_bind_int64 (insert, 5, chunk_slot);
          rc = sqlite3_step (insert);
        }
      if (rc != SQLITE_DONE)
        {
          g_autofree char *doing = g_strdup_printf (_("storing chunk “%s”"), stache_chunk_get_id (chunk));

          return sqlite_database_set_error (write->db, error, doing);
        }
      rowid = sqlite3_last_insert_rowid (write->db->handle);
      g_clear_pointer (&insert, sqlite_statement_release);

      sqlite_keyword_batch_add (write->keywords, rowid, namespace_, stache_chunk_get_document_id (chunk), text);

      memcpy (unit, vectors + (gsize) i * dims, dims * sizeof (float));
      sqlite_kernel_normalize (unit, dims);
      if (!space_append (write, ws, rowid, unit, &chunk_slot, error))
        return FALSE;
    }

  return TRUE;
}

/* ---- writing back ---- */

static gboolean
flush_space (SqliteWrite  *write,
             WriteSpace   *ws,
             GError      **error)
{
  GHashTableIter iter;
  Segment *segment;
  gint64 generation = ws->space.generation + 1;
  /* Tells this change from any other that reached the same generation:
   * a copy of the database restored from a backup counts on from an older
   * generation, and the caches beside it must not pass for its own. */
  gint64 stamp = (gint64) (((guint64) g_random_int () << 31) ^ (guint64) g_random_int ()) & G_MAXINT64;

  g_hash_table_iter_init (&iter, ws->segments);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &segment))
    {
      g_autoptr(sqlite3_stmt) stmt = NULL;
      gint64 index = segment->id & G_GINT64_CONSTANT (0xffffffff);
      gint64 n = CLAMP (ws->space.count - index * ws->space.capacity, 0, (gint64) ws->space.capacity);

      if (!segment->dirty)
        continue;

      if (n == 0)
        {
          stmt = sqlite_database_prepare (write->db, "DELETE FROM vector_segments WHERE id = ?1", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, segment->id);
        }
      else
        {
          stmt = sqlite_database_prepare (write->db, "INSERT OR REPLACE INTO vector_segments (id, rowids, vectors) "
                                                     "VALUES (?1, ?2, ?3)", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, segment->id);
          sqlite3_bind_blob64 (stmt, 2, segment->rowids, (sqlite3_uint64) n * sizeof (gint64), SQLITE_STATIC);
          sqlite3_bind_blob64 (stmt, 3, segment->vectors,
                               (sqlite3_uint64) n * ws->space.dims * sizeof (float), SQLITE_STATIC);
        }
      if (!sqlite_database_exec_step (write->db, stmt, _("writing vectors"), error))
        return FALSE;
      segment->dirty = FALSE;
    }

  if (ws->space.count == 0)
    {
      /* An empty space goes, and with it what its ANN index needed; its id
       * is never used again. */
      static const char * const sql[] = {
        "DELETE FROM vector_segments WHERE id BETWEEN ?1 AND ?2",
        "DELETE FROM vector_changes WHERE space = ?3",
        "DELETE FROM vector_spaces WHERE id = ?3",
      };

      for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
        {
          g_autoptr(sqlite3_stmt) stmt = sqlite_database_prepare (write->db, sql[i], error);

          if (stmt == NULL)
            return FALSE;
          if (i == 0)
            {
              sqlite3_bind_int64 (stmt, 1, SQLITE_SEGMENT_FIRST (ws->space.id));
              sqlite3_bind_int64 (stmt, 2, SQLITE_SEGMENT_LAST (ws->space.id));
            }
          else
            {
              sqlite3_bind_int64 (stmt, 3, ws->space.id);
            }
          if (!sqlite_database_exec_step (write->db, stmt, _("removing an empty vector space"), error))
            return FALSE;
        }
      /* Its derived files: caches, so removing them early is harmless
       * even if this transaction is rolled back. */
      sqlite_scan_file_remove (write->db, ws->space.id);
      return TRUE;
    }

  {
    g_autoptr(sqlite3_stmt) stmt = NULL;

    stmt = sqlite_database_prepare (write->db, "UPDATE vector_spaces SET count = ?2, generation = ?3, "
                                               "stamp = ?4 WHERE id = ?1", error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64 (stmt, 1, ws->space.id);
    sqlite3_bind_int64 (stmt, 2, ws->space.count);
    sqlite3_bind_int64 (stmt, 3, generation);
    sqlite3_bind_int64 (stmt, 4, stamp);
    if (!sqlite_database_exec_step (write->db, stmt, _("writing vectors"), error))
      return FALSE;
  }

  for (guint i = 0; ws->log != NULL && i < ws->log->len; i++)
    {
      const ChangeEntry *entry = &g_array_index (ws->log, ChangeEntry, i);
      g_autoptr(sqlite3_stmt) stmt = NULL;

      stmt = sqlite_database_prepare (write->db, "INSERT INTO vector_changes (space, generation, chunk, added) "
                                                 "VALUES (?1, ?2, ?3, ?4)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, ws->space.id);
      sqlite3_bind_int64 (stmt, 2, generation);
      sqlite3_bind_int64 (stmt, 3, entry->chunk);
      sqlite3_bind_int64 (stmt, 4, entry->added);
      if (!sqlite_database_exec_step (write->db, stmt, _("writing vectors"), error))
        return FALSE;
    }

  ws->space.generation = generation;
  ws->space.stamp = stamp;
  return TRUE;
}

gboolean
sqlite_write_finish (SqliteWrite  *write,
                     GError      **error)
{
  GHashTableIter iter;
  WriteSpace *ws;

  if (!sqlite_keyword_batch_flush (write->keywords, write->db, error))
    return FALSE;

  g_hash_table_iter_init (&iter, write->by_id);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &ws))
    {
      if (ws->changed && !flush_space (write, ws, error))
        return FALSE;
      ws->changed = FALSE;
      if (ws->log != NULL)
        g_array_set_size (ws->log, 0);
    }

  return TRUE;
}

/* ---- checking ---- */

static gboolean
verify_failed (SqliteDatabase  *db,
               GError         **error,
               const char      *what)
{
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
               _("The vectors of the Stache database “%s” do not match its chunks: %s"),
               db->path, what);
  return FALSE;
}

gboolean
sqlite_chunks_verify (SqliteDatabase  *db,
                      GCancellable    *cancellable,
                      GError         **error)
{
  g_autoptr(GPtrArray) spaces = sqlite_space_list (db, NULL, error);
  g_autoptr(sqlite3_stmt) total = NULL;
  gint64 n_vectors = 0;

  if (spaces == NULL)
    return FALSE;

  for (guint s = 0; s < spaces->len; s++)
    {
      SqliteSpace *space = g_ptr_array_index (spaces, s);
      g_autoptr(sqlite3_stmt) segments = NULL;
      g_autoptr(sqlite3_stmt) chunk = NULL;
      gint64 expected_index = 0, seen = 0;
      int rc;

      segments = sqlite_database_prepare (db, "SELECT id, rowids, vectors FROM vector_segments "
                                              "WHERE id BETWEEN ?1 AND ?2", error);
      chunk = sqlite_database_prepare (db, "SELECT vector_slot, namespace FROM chunks WHERE rowid = ?1", error);
      if (segments == NULL || chunk == NULL)
        return FALSE;
      sqlite3_bind_int64 (segments, 1, SQLITE_SEGMENT_FIRST (space->id));
      sqlite3_bind_int64 (segments, 2, SQLITE_SEGMENT_LAST (space->id));

      while ((rc = sqlite3_step (segments)) == SQLITE_ROW)
        {
          gint64 index = sqlite3_column_int64 (segments, 0) & G_GINT64_CONSTANT (0xffffffff);
          gsize n = (gsize) sqlite3_column_bytes (segments, 1) / sizeof (gint64);
          const gint64 *rowids = sqlite3_column_blob (segments, 1);
          g_autofree char *what = NULL;

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;

          if (index != expected_index || n == 0 || n > space->capacity ||
              (gsize) sqlite3_column_bytes (segments, 2) != n * space->dims * sizeof (float) ||
              (index * space->capacity + (gint64) n < space->count && n != space->capacity))
            {
              what = g_strdup_printf (_("segment %ld of namespace “%s” has the wrong size or place"),
                                      (long) index, space->namespace_);
              return verify_failed (db, error, what);
            }

          for (gsize i = 0; i < n; i++)
            {
              gint64 rowid;

              memcpy (&rowid, rowids + i, sizeof rowid);
              sqlite3_reset (chunk);
              sqlite3_bind_int64 (chunk, 1, rowid);
              if (sqlite3_step (chunk) != SQLITE_ROW ||
                  sqlite3_column_int64 (chunk, 0) != SQLITE_SLOT (space->id, index * space->capacity + (gint64) i) ||
                  g_strcmp0 (sqlite_column_text (chunk, 1), space->namespace_) != 0)
                {
                  what = g_strdup_printf (_("vector %ld of namespace “%s” belongs to no chunk that "
                                            "points back to it"),
                                          (long) (index * space->capacity + (gint64) i), space->namespace_);
                  return verify_failed (db, error, what);
                }
            }
          seen += (gint64) n;
          expected_index++;
          /* The blob pointer of the next row is not valid after a step of
           * @chunk (the same connection may move pages). */
        }
      if (rc != SQLITE_DONE)
        return sqlite_database_set_error (db, error, _("reading vectors"));

      /* A cache that differs goes (it is only a copy); so is reported. */
      if (!sqlite_scan_file_verify (db, space))
        g_debug ("scan file of space %ld removed", (long) space->id);

      if (seen != space->count)
        {
          g_autofree char *what = g_strdup_printf (_("namespace “%s” should hold %ld vectors but holds %ld"),
                                                   space->namespace_, (long) space->count, (long) seen);
          return verify_failed (db, error, what);
        }
      n_vectors += seen;
    }

  total = sqlite_database_prepare (db, "SELECT count (*) FROM chunks", error);
  if (total == NULL)
    return FALSE;
  if (sqlite3_step (total) != SQLITE_ROW)
    return sqlite_database_set_error (db, error, _("counting chunks"));
  if (sqlite3_column_int64 (total, 0) != n_vectors)
    {
      g_autofree char *what = g_strdup_printf (_("%ld chunks but %ld vectors"),
                                               (long) sqlite3_column_int64 (total, 0), (long) n_vectors);
      return verify_failed (db, error, what);
    }

  return TRUE;
}
