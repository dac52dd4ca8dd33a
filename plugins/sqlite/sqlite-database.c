/* sqlite-database.c: the SQLite file shared by the sqlite providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Opening a file follows one rule: a file that is not ours is never
 * written to. Every check (is it SQLite at all, whose application id does
 * it carry, which tables does it hold, is it intact) only reads, and comes
 * before the first statement that may write (the switch to WAL, the
 * schema).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sqlite-chunks.h"
#include "sqlite-database.h"
#include "sqlite-keywords.h"

/* "STCH": marks a file as a Stache database (PRAGMA application_id). */
#define STACHE_APPLICATION_ID 0x53544348
/* Bumped when the schema changes; stored in PRAGMA user_version.
 * 1: vectors in the chunk rows, keyword index fed by triggers.
 * 2: vectors packed per namespace in vector_segments (sqlite-chunks.c),
 *    keyword rows written by the code that writes the chunks.
 * 3: the keyword index of our own (sqlite-keywords.c) rather than FTS5.
 * 4: the keyword index keeps stems, in the language keyword_language names.
 * 5: keyword segments record their documents' runs (whole-document scores). */
#define SCHEMA_VERSION 5
#define BUSY_TIMEOUT_MS 10000
/* Large pages let a segment of vectors sit in one page, where a scan
 * reads it in place (see sqlite-chunks.h); set on new files only. */
#define PAGE_SIZE 16384

/* Chunk rowids are never reused (AUTOINCREMENT): an ANN index names
 * chunks by rowid, and a stale index must not find another chunk under an
 * old name. Chunks with no document are kept too: document_id may be
 * NULL. */
static const char SCHEMA_SQL[] =
  "CREATE TABLE IF NOT EXISTS chunks ("
  "  rowid INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  namespace TEXT NOT NULL,"
  "  id TEXT NOT NULL,"
  "  document_id TEXT,"
  "  position INTEGER NOT NULL DEFAULT 0,"
  "  vector_slot INTEGER NOT NULL,"
  "  text TEXT NOT NULL,"
  "  metadata TEXT,"
  "  UNIQUE (namespace, id));"
  "CREATE INDEX IF NOT EXISTS chunks_document ON chunks (namespace, document_id);"
  SQLITE_KEYWORDS_SCHEMA
  "CREATE TABLE IF NOT EXISTS vector_spaces ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  namespace TEXT NOT NULL,"
  "  dims INTEGER NOT NULL,"
  "  capacity INTEGER NOT NULL,"
  "  count INTEGER NOT NULL,"
  "  generation INTEGER NOT NULL DEFAULT 0,"
  "  ann INTEGER NOT NULL DEFAULT 0,"
  "  stamp INTEGER NOT NULL DEFAULT 0,"
  /* The generation and stamp of the ANN index saved last (sqlite-ann.c) */
  "  ann_generation INTEGER NOT NULL DEFAULT -1,"
  "  ann_stamp INTEGER NOT NULL DEFAULT 0,"
  /* The search breadth the index was measured to need (-1: too poor a
   * recall at any breadth, so exact scans), at how many vectors */
  "  ann_ef INTEGER NOT NULL DEFAULT 0,"
  "  ann_checked INTEGER NOT NULL DEFAULT 0,"
  "  UNIQUE (namespace, dims));"
  "CREATE TABLE IF NOT EXISTS vector_segments ("
  "  id INTEGER PRIMARY KEY,"
  "  rowids BLOB NOT NULL,"
  "  vectors BLOB NOT NULL);"
  /* What changed in a space with an ANN index, so an index saved at an
   * older generation can catch up (sqlite-ann.c). */
  "CREATE TABLE IF NOT EXISTS vector_changes ("
  "  space INTEGER NOT NULL,"
  "  generation INTEGER NOT NULL,"
  "  chunk INTEGER NOT NULL,"
  "  added INTEGER NOT NULL);"
  "CREATE INDEX IF NOT EXISTS vector_changes_space ON vector_changes (space, generation);"
  "CREATE TABLE IF NOT EXISTS documents ("
  "  id TEXT PRIMARY KEY,"
  "  namespace TEXT,"
  "  source TEXT,"
  "  title TEXT,"
  "  media_type TEXT,"
  "  content_hash TEXT,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  chunk_count INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL DEFAULT 0,"
  "  updated INTEGER NOT NULL DEFAULT 0,"
  "  metadata TEXT,"
  "  summary TEXT);"
  /* A document without a namespace belongs to `default`, like a chunk. */
  "CREATE INDEX IF NOT EXISTS documents_namespace"
  "  ON documents (coalesce (namespace, 'default'), source, id);"
  /* The language of the keyword index's stems (sqlite_database_open()):
   * one row; "none" for words as they are */
  "CREATE TABLE IF NOT EXISTS keyword_language ("
  "  language TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS namespaces ("
  "  name TEXT PRIMARY KEY,"
  "  description TEXT,"
  "  metadata TEXT,"
  "  created INTEGER NOT NULL DEFAULT 0);";

static const char * const OUR_TABLES[] = { "chunks", "documents", "namespaces" };

char *
sqlite_database_default_path (void)
{
  const char *data_home = g_getenv ("XDG_DATA_HOME");

  /* Read here rather than with g_get_user_data_dir(), which caches the
   * first answer for the life of the process. */
  if (data_home != NULL && g_path_is_absolute (data_home))
    return g_build_filename (data_home, "stache", "stache.db", NULL);

  return g_build_filename (g_get_home_dir (), ".local", "share", "stache", "stache.db", NULL);
}

static char *
resolve_path (StacheProvider *provider)
{
  g_autofree char *setting = NULL;

  setting = stache_settings_get_string (stache_provider_get_settings (provider), "sqlite_path", NULL);
  if (setting != NULL)
    g_strstrip (setting);

  if (setting == NULL || setting[0] == '\0')
    return sqlite_database_default_path ();

  if (g_str_equal (setting, "~"))
    return g_strdup (g_get_home_dir ());
  if (g_str_has_prefix (setting, "~/"))
    return g_build_filename (g_get_home_dir (), setting + 2, NULL);

  return g_steal_pointer (&setting);
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

gboolean
sqlite_database_set_error (SqliteDatabase  *db,
                           GError         **error,
                           const char      *doing)
{
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
               /* Translators: SQLite failed while <searching> in “<file>”: <SQLite's message> */
               _("SQLite failed while %s in “%s”: %s"),
               doing, db->path, sqlite3_errmsg (db->handle));
  return FALSE;
}

static gboolean
refuse (SqliteDatabase  *db,
        GError         **error,
        const char      *reason)
{
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
               /* Translators: the second %s says why, e.g. “it is not an SQLite database” */
               _("“%s” is not a Stache database (%s); it was left untouched. "
                 "Set sqlite_path (SQLITE_PATH) to another file."),
               db->path, reason);
  return FALSE;
}

/* Runs a PRAGMA that answers one integer. Returns the SQLite result code,
 * with @error set unless it is SQLITE_OK. */
static int
read_int_pragma (SqliteDatabase  *db,
                 const char      *sql,
                 gint64          *out,
                 GError         **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  *out = 0;
  rc = sqlite3_prepare_v2 (db->handle, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *out = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
      else if (rc == SQLITE_DONE)
        {
          rc = SQLITE_OK;
        }
    }

  if (rc != SQLITE_OK)
    sqlite_database_set_error (db, error, _("reading its header"));

  sqlite3_finalize (stmt);
  return rc;
}

/* Everything here only reads. */
static gboolean
check_ours (SqliteDatabase  *db,
            gboolean        *out_has_schema,
            gint64          *out_version,
            GError         **error)
{
  g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func (g_free);
  GError *local_error = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 app_id, version;
  gboolean has_ours = TRUE;
  int rc;

  *out_has_schema = FALSE;
  *out_version = 0;

  rc = read_int_pragma (db, "PRAGMA application_id", &app_id, &local_error);
  if (rc == SQLITE_NOTADB)
    {
      g_clear_error (&local_error);
      return refuse (db, error, _("it is not an SQLite database"));
    }
  if (rc != SQLITE_OK)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (app_id != 0 && app_id != STACHE_APPLICATION_ID)
    {
      g_autofree char *reason = g_strdup_printf (_("it belongs to another application "
                                                   "(application_id 0x%08lx)"),
                                                 (gulong) (guint32) app_id);
      return refuse (db, error, reason);
    }

  if (read_int_pragma (db, "PRAGMA user_version", &version, error) != SQLITE_OK)
    return FALSE;

  rc = sqlite3_prepare_v2 (db->handle,
                           "SELECT name FROM sqlite_master WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                           -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_ptr_array_add (tables, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
    }
  if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (db, error, _("listing its tables"));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);

  for (guint i = 0; i < G_N_ELEMENTS (OUR_TABLES); i++)
    {
      gboolean found = FALSE;

      for (guint j = 0; j < tables->len && !found; j++)
        found = g_str_equal (g_ptr_array_index (tables, j), OUR_TABLES[i]);
      has_ours &= found;
    }

  /* Files we create carry our application id from their first commit; an
   * unmarked file is only accepted when it is empty (or holds exactly our
   * tables, from a tool that dropped the mark). */
  if (app_id == 0 && tables->len > 0 && !has_ours)
    {
      g_autoptr(GString) reason = g_string_new (_("it holds other tables: "));

      for (guint i = 0; i < tables->len && i < 3; i++)
        g_string_append_printf (reason, "%s%s", i > 0 ? ", " : "",
                                (const char *) g_ptr_array_index (tables, i));
      if (tables->len > 3)
        g_string_append (reason, ", …");
      return refuse (db, error, reason->str);
    }

  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The Stache database “%s” was written by a newer version of Stache "
                     "(schema %ld, this one knows up to %d); it was left untouched"),
                   db->path, (long) version, SCHEMA_VERSION);
      return FALSE;
    }

  *out_has_schema = app_id == STACHE_APPLICATION_ID && has_ours;
  *out_version = version;
  return TRUE;
}

/* PRAGMA quick_check reads every page: it runs after a migration and
 * when asked (`stache check`), never on a plain open, whose cost must not
 * grow with the file. */
static gboolean
check_integrity (SqliteDatabase  *db,
                 const char      *pragma,
                 GError         **error)
{
  g_autofree char *problem = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db->handle, pragma, -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          const char *answer = (const char *) sqlite3_column_text (stmt, 0);

          if (g_strcmp0 (answer, "ok") != 0)
            problem = g_strdup (answer != NULL ? answer : _("no answer"));
          rc = SQLITE_OK;
        }
    }

  if (rc != SQLITE_OK && rc != SQLITE_DONE)
    problem = g_strdup (sqlite3_errmsg (db->handle));
  sqlite3_finalize (stmt);

  if (problem != NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The Stache database “%s” is damaged (%s: %s)"),
                   db->path, pragma, problem);
      return FALSE;
    }

  return TRUE;
}

static gboolean
exec (SqliteDatabase  *db,
      const char      *sql,
      const char      *doing,
      GError         **error)
{
  if (sqlite3_exec (db->handle, sql, NULL, NULL, NULL) != SQLITE_OK)
    return sqlite_database_set_error (db, error, doing);

  return TRUE;
}

/* Runs a PRAGMA that may need an exclusive lock, retrying while another
 * connection holds one: SQLite answers BUSY at once there, without the
 * busy handler. */
static int
exec_retrying (SqliteDatabase *db,
               const char     *sql)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  for (guint waited_ms = 0; ; waited_ms += 20)
    {
      rc = sqlite3_prepare_v2 (db->handle, sql, -1, &stmt, NULL);
      if (rc == SQLITE_OK)
        while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
          ;
      sqlite3_finalize (stmt);
      stmt = NULL;
      if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited_ms >= BUSY_TIMEOUT_MS)
        break;
      g_usleep (20 * 1000);
    }

  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static gboolean
configure (SqliteDatabase  *db,
           gboolean         is_new,
           GError         **error)
{
  gint64 page_size;

  /* The page size of a file is fixed by its first write (and by WAL mode
   * after that), so it is chosen here, before anything else writes. */
  if (is_new && !exec (db, "PRAGMA page_size = " G_STRINGIFY (PAGE_SIZE), _("choosing the page size"), error))
    return FALSE;

  if (!db->read_only && exec_retrying (db, "PRAGMA journal_mode = WAL") != SQLITE_OK)
    return sqlite_database_set_error (db, error, _("switching to WAL mode"));

  if (read_int_pragma (db, "PRAGMA page_size", &page_size, error) != SQLITE_OK)
    return FALSE;
  db->page_size = (gsize) page_size;

  /* Searches read every vector of a namespace: mapping the file saves a
   * copy per page (SQLite falls back to read() where mapping fails, and
   * caps the size at what it was built for). A checkpoint every 4096
   * pages (64 MiB of log) rather than every 1000 suits batched ingest. */
  return exec (db, GLIB_SIZEOF_VOID_P >= 8
                     ? "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                       "PRAGMA mmap_size = 68719476736; PRAGMA cache_size = -32768; "
                       "PRAGMA wal_autocheckpoint = 4096; PRAGMA journal_size_limit = 67108864"
                     : "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                       "PRAGMA mmap_size = 67108864; PRAGMA wal_autocheckpoint = 4096; "
                       "PRAGMA journal_size_limit = 67108864",
               _("configuring the connection"), error);
}

static gboolean
create_schema (SqliteDatabase  *db,
               GError         **error)
{
  g_autofree char *sql = NULL;

  sql = g_strdup_printf ("%s INSERT INTO keyword_language VALUES ('none'); "
                         "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                         SCHEMA_SQL, STACHE_APPLICATION_ID, SCHEMA_VERSION);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  return sqlite_database_end (db, exec (db, sql, _("creating the tables"), error), error);
}

/* ---- migration from schema 1 ---- */

static gint64
count_rows (SqliteDatabase *db,
            const char     *sql)
{
  gint64 n = 0;

  read_int_pragma (db, sql, &n, NULL);
  return n;
}

/* Schema 1 kept each vector (with its norm) in the chunk row, and fed the
 * keyword index by triggers. The chunk rows keep their rowids and text, so
 * the keyword index stays valid as it is; the vectors move into the
 * segments of their namespace, normalised. */
static gboolean
migrate_from_1 (SqliteDatabase  *db,
                GError         **error)
{
  g_autoptr(sqlite3_stmt) rows = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autofree float *vector = NULL;
  gsize allocated = 0;
  SqliteWrite *write = NULL;
  gint64 n_chunks, done = 0, last_report = 0;
  gsize target_page_size;
  gboolean ok = FALSE;
  int rc;

  n_chunks = count_rows (db, "SELECT count (*) FROM chunks");
  /* Translators: printed once, on stderr, when an old store is first opened */
  g_printerr (_("Stache: moving the database “%s” to a new layout for faster search "
                "(%ld chunks); this happens once…\n"), db->path, (long) n_chunks);

  /* Segments are sized for the large pages the file gets below. */
  target_page_size = db->page_size;
  db->page_size = MAX (db->page_size, PAGE_SIZE);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  if (!exec (db,
             "DROP TRIGGER IF EXISTS chunks_fts_insert;"
             "DROP TRIGGER IF EXISTS chunks_fts_delete;"
             "DROP TRIGGER IF EXISTS chunks_fts_update;"
             "DROP INDEX IF EXISTS chunks_document;"
             "ALTER TABLE chunks RENAME TO chunks_schema1;",
             _("moving the old tables aside"), error) ||
      !exec (db, SCHEMA_SQL, _("creating the tables"), error))
    goto out;

  rows = sqlite_database_prepare (db, "SELECT rowid, namespace, id, document_id, position, text, "
                                      "metadata, dims, vector FROM chunks_schema1 "
                                      "ORDER BY namespace, rowid", error);
  insert = sqlite_database_prepare (db, "INSERT INTO chunks (rowid, namespace, id, document_id, "
                                        "position, vector_slot, text, metadata) "
                                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", error);
  if (rows == NULL || insert == NULL)
    goto out;

  write = sqlite_write_new (db);
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW)
    {
      gsize dims = (gsize) sqlite3_column_int64 (rows, 7);
      const void *blob = sqlite3_column_blob (rows, 8);
      gint64 rowid = sqlite3_column_int64 (rows, 0);
      gint64 slot;

      if (dims == 0 || (gsize) sqlite3_column_bytes (rows, 8) != dims * sizeof (float))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("The vector of chunk “%s” in “%s” is damaged; the database was "
                         "left as it was"),
                       sqlite_column_text (rows, 2), db->path);
          goto out;
        }
      if (dims > allocated)
        {
          vector = g_renew (float, vector, dims);
          allocated = dims;
        }
      memcpy (vector, blob, dims * sizeof (float));

      if (!sqlite_write_append_vector (write, sqlite_column_text (rows, 1), rowid, vector, dims,
                                       &slot, error))
        goto out;

      sqlite3_reset (insert);
      sqlite3_bind_int64 (insert, 1, rowid);
      sqlite_bind_text (insert, 2, sqlite_column_text (rows, 1));
      sqlite_bind_text (insert, 3, sqlite_column_text (rows, 2));
      sqlite_bind_text (insert, 4, sqlite_column_text (rows, 3));
      sqlite3_bind_int64 (insert, 5, sqlite3_column_int64 (rows, 4));
      sqlite3_bind_int64 (insert, 6, slot);
      sqlite_bind_text (insert, 7, sqlite_column_text (rows, 5));
      sqlite_bind_text (insert, 8, sqlite_column_text (rows, 6));
      if (!sqlite_database_exec_step (db, insert, _("moving a chunk"), error))
        goto out;

      if (++done - last_report >= 100000)
        {
          last_report = done;
          g_printerr (_("Stache: %ld of %ld chunks moved\n"), (long) done, (long) n_chunks);
        }
    }
  if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (db, error, _("reading the old chunks"));
      goto out;
    }

  g_clear_pointer (&rows, sqlite_statement_release);
  g_clear_pointer (&insert, sqlite_statement_release);
  ok = sqlite_write_finish (write, error) &&
       exec (db, "DROP TABLE chunks_schema1; PRAGMA user_version = 2",
             _("dropping the old tables"), error);

out:
  g_clear_pointer (&write, sqlite_write_free);
  g_clear_pointer (&rows, sqlite_statement_release);
  g_clear_pointer (&insert, sqlite_statement_release);
  /* The statements cached on the renamed table are useless now. */
  g_hash_table_remove_all (db->statements);
  if (!sqlite_database_end (db, ok, ok ? error : NULL))
    {
      db->page_size = target_page_size;
      return FALSE;
    }

  /* Then large pages, and the old rows' space given back: a page size only
   * changes by VACUUM, outside WAL mode, and only when no other connection
   * has the file open. Where that fails the store works the same, only a
   * scan copies each segment once from its overflow pages. */
  db->page_size = target_page_size;
  if (target_page_size < PAGE_SIZE &&
      exec_retrying (db, "PRAGMA journal_mode = DELETE") == SQLITE_OK &&
      sqlite3_exec (db->handle, "PRAGMA page_size = " G_STRINGIFY (PAGE_SIZE) "; VACUUM",
                    NULL, NULL, NULL) == SQLITE_OK)
    {
      gint64 page_size;

      if (read_int_pragma (db, "PRAGMA page_size", &page_size, NULL) == SQLITE_OK)
        db->page_size = (gsize) page_size;
    }
  if (exec_retrying (db, "PRAGMA journal_mode = WAL") != SQLITE_OK)
    return sqlite_database_set_error (db, error, _("switching to WAL mode"));

  /* (then on to schema 3, which checks the file) */
  return TRUE;
}

/* ---- migration from schema 2 ---- */

static void
report_indexed (gint64 done,
                gint64 total)
{
  static gint64 last_report;

  if (done < last_report)
    last_report = 0;
  if (done - last_report >= 100000 && done < total)
    {
      last_report = done;
      g_printerr (_("Stache: %ld of %ld chunks indexed\n"), (long) done, (long) total);
    }
}

/* Schema 2 kept the keyword index in FTS5 (chunks_fts); schema 3 has one
 * of its own (sqlite-keywords.c), built here from the chunk rows, in one
 * transaction: a kill leaves schema 2 as it was. */
static gboolean
migrate_from_2 (SqliteDatabase  *db,
                GError         **error)
{
  gint64 n_chunks = count_rows (db, "SELECT count (*) FROM chunks");
  gboolean ok;

  /* Translators: printed once, on stderr, when an older store is first opened */
  g_printerr (_("Stache: building a new keyword index for the database “%s” (%ld chunks); "
                "this happens once…\n"), db->path, (long) n_chunks);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;
  ok = exec (db, SQLITE_KEYWORDS_SCHEMA, _("creating the tables"), error) &&
       sqlite_keywords_rebuild (db, report_indexed, NULL, error);
  /* Statements cached on the old index go before it does */
  g_hash_table_remove_all (db->statements);
  ok = ok && exec (db, "DROP TABLE IF EXISTS chunks_fts; PRAGMA user_version = 3",
                   _("dropping the old tables"), error);
  if (!sqlite_database_end (db, ok, ok ? error : NULL))
    return FALSE;

  return check_integrity (db, "PRAGMA quick_check", error);
}

/* ---- migration from schema 3 ---- */

/* Schema 3's keyword index kept words as they are: it says so, and the
 * first open that wants stems rebuilds it (use_language()). */
static gboolean
migrate_from_3 (SqliteDatabase  *db,
                GError         **error)
{
  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;
  return sqlite_database_end (db,
                              exec (db, "CREATE TABLE IF NOT EXISTS keyword_language (language TEXT NOT NULL);"
                                        "DELETE FROM keyword_language;"
                                        "INSERT INTO keyword_language VALUES ('none');"
                                        "PRAGMA user_version = 4",
                                    _("recording the keyword index's language"), error),
                              error);
}

/* ---- the keyword index's language ---- */

static char *
stored_language (SqliteDatabase *db)
{
  g_autoptr(sqlite3_stmt) read = sqlite_database_prepare (db, "SELECT language FROM keyword_language LIMIT 1",
                                                          NULL);

  if (read != NULL && sqlite3_step (read) == SQLITE_ROW)
    return g_strdup ((const char *) sqlite3_column_text (read, 0));
  return g_strdup ("none");
}

/* ---- migration from schema 4 ---- */

/* Schema 5's keyword segments know which chunks make a document: the index
 * is rebuilt from the chunk rows in the language it had, in one
 * transaction (a kill leaves schema 4 as it was). */
static gboolean
migrate_from_4 (SqliteDatabase  *db,
                GError         **error)
{
  g_autofree char *language = NULL;
  gint64 n_chunks = count_rows (db, "SELECT count (*) FROM chunks");
  gboolean ok;

  if (n_chunks > 0)
    /* Translators: printed once, on stderr, when an older store is first opened */
    g_printerr (_("Stache: building a new keyword index for the database “%s” (%ld chunks); "
                  "this happens once…\n"), db->path, (long) n_chunks);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;
  language = stored_language (db);
  db->stemmer = stache_stemmer_new (language, error);
  ok = db->stemmer != NULL &&
       /* (a store of schema 2 had the table made new, with the column) */
       (count_rows (db, "SELECT count (*) FROM pragma_table_info ('keyword_segments') WHERE name = 'runs'") > 0 ||
        exec (db, "ALTER TABLE keyword_segments ADD COLUMN runs BLOB", _("creating the tables"), error)) &&
       sqlite_keywords_rebuild (db, n_chunks > 0 ? report_indexed : NULL, NULL, error) &&
       exec (db, "PRAGMA user_version = 5", _("creating the tables"), error);
  /* (use_language() decides the language the process uses) */
  g_clear_object (&db->stemmer);
  return sqlite_database_end (db, ok, ok ? error : NULL);
}

/* Inside a transaction: FALSE with @error when another process rebuilt
 * the keyword index in another language since this one opened the file
 * (its words would not meet the index's). */
gboolean
sqlite_database_check_language (SqliteDatabase  *db,
                                GError         **error)
{
  g_autofree char *stored = NULL;
  const char *mine;

  if (db->stemmer == NULL)
    return TRUE;
  mine = stache_stemmer_get_language (db->stemmer);
  stored = stored_language (db);
  if (g_strcmp0 (stored, mine) == 0)
    return TRUE;

  g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
               _("The keyword index of the Stache database “%s” was rebuilt for the text language “%s” "
                 "by another process; this one uses “%s” (setting “%s”): open the store again"),
               db->path, stored, mine, STACHE_TEXT_LANGUAGE_KEY);
  return FALSE;
}

/* Makes the keyword index speak @language: the first open of the file in
 * this process decides (later ones with another language get the same
 * index, with a warning). An index built in another language is rebuilt
 * from the chunk texts, in one transaction, as derived data; a read-only
 * file is used in the language it has. */
static gboolean
use_language (SqliteDatabase  *db,
              const char      *language,
              GError         **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&db->mutex);
  g_autoptr(StacheStemmer) stemmer = NULL;
  g_autofree char *stored = NULL;
  gint64 n_chunks;
  gboolean ok;

  if (db->stemmer != NULL)
    {
      if (g_strcmp0 (stache_stemmer_get_language (db->stemmer), language) != 0)
        g_warning ("The Stache database “%s” is already open with the text language “%s”; “%s” "
                   "is not used for it in this process", db->path,
                   stache_stemmer_get_language (db->stemmer), language);
      return TRUE;
    }

  stored = stored_language (db);
  if (db->read_only || g_strcmp0 (stored, language) == 0)
    {
      db->stemmer = stache_stemmer_new (stored, error);
      return db->stemmer != NULL;
    }

  stemmer = stache_stemmer_new (language, error);
  if (stemmer == NULL)
    {
      g_prefix_error (error, _("Setting “%s”: "), STACHE_TEXT_LANGUAGE_KEY);
      return FALSE;
    }

  n_chunks = count_rows (db, "SELECT count (*) FROM chunks");
  if (n_chunks > 0)
    /* Translators: printed on stderr when the text_language setting changed */
    g_printerr (_("Stache: rebuilding the keyword index of “%s” for the text language “%s” "
                  "(it was “%s”; %ld chunks)…\n"), db->path, language, stored, (long) n_chunks);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;
  db->stemmer = g_steal_pointer (&stemmer);
  {
    /* (the language first: the rebuild's writes check it) */
    g_autoptr(sqlite3_stmt) record = sqlite_database_prepare (db, "UPDATE keyword_language SET language = ?1",
                                                              NULL);

    ok = record != NULL;
    if (ok)
      {
        sqlite3_bind_text (record, 1, language, -1, SQLITE_STATIC);
        ok = sqlite3_step (record) == SQLITE_DONE;
      }
    if (!ok)
      sqlite_database_set_error (db, error, _("recording the keyword index's language"));
  }
  ok = ok && sqlite_keywords_rebuild (db, n_chunks > 0 ? report_indexed : NULL, NULL, error);
  if (!sqlite_database_end (db, ok, ok ? error : NULL))
    {
      /* The index stays as it was: so does its language */
      g_clear_object (&db->stemmer);
      return FALSE;
    }

  return TRUE;
}

/* ---- opening: one connection per file and process ---- */

static GMutex registry_lock;
static GHashTable *registry;   /* path → SqliteDatabase *, with registry_lock */

static void database_close (SqliteDatabase *db);
static int  open_handle    (SqliteDatabase *db,
                            const char     *dir);

/* A connection not opened yet: one reference, no handle */
static SqliteDatabase *
database_new (const char *path)
{
  SqliteDatabase *db = g_new0 (SqliteDatabase, 1);

  g_mutex_init (&db->mutex);
  g_mutex_init (&db->queue_mutex);
  db->searches = g_ptr_array_new ();
  db->ref_count = 1;
  db->path = g_strdup (path);
  db->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_statement);

  return db;
}

static SqliteDatabase *
database_open (const char    *path,
               GError       **error)
{
  g_autofree char *dir = NULL;
  SqliteDatabase *db;
  GStatBuf st;
  gboolean existed, has_schema = FALSE, ok;
  gint64 version = 0;
  int rc;

  db = database_new (path);

  dir = g_path_get_dirname (db->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Cannot create the folder “%s” for the Stache database “%s”: %s"),
                   dir, db->path, g_strerror (saved_errno));
      database_close (db);
      return NULL;
    }

  existed = g_stat (db->path, &st) == 0 && st.st_size > 0;
  /* A store the user may not write (a shared or archived copy, a
   * read-only mount) is opened read-only and serves searches; writes fail
   * saying so (sqlite_database_begin()). */
  db->read_only = existed && (g_access (db->path, W_OK) != 0 || g_access (dir, W_OK) != 0);

  rc = open_handle (db, dir);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Cannot open the Stache database “%s”: %s"), db->path,
                   db->handle != NULL ? sqlite3_errmsg (db->handle) : sqlite3_errstr (rc));
      database_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db->handle, BUSY_TIMEOUT_MS);

  g_mutex_lock (&db->mutex);
  ok = check_ours (db, &has_schema, &version, error) &&
       configure (db, !existed, error);
  if (ok && db->read_only && (!has_schema || version < SCHEMA_VERSION))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The Stache database “%s” is read-only and must first be upgraded: open it "
                     "once where it can be written"), db->path);
      ok = FALSE;
    }
  else if (ok && has_schema && version < SCHEMA_VERSION)
    {
      if (version == 1)
        ok = migrate_from_1 (db, error);
      if (ok && version <= 2)
        ok = migrate_from_2 (db, error);
      if (ok && version <= 3)
        ok = migrate_from_3 (db, error);
      if (ok)
        ok = migrate_from_4 (db, error);
    }
  else if (ok && !has_schema)
    ok = create_schema (db, error);
  g_mutex_unlock (&db->mutex);

  if (!ok)
    {
      database_close (db);
      return NULL;
    }

  return db;
}

/* Opens @db->handle: read-write (creating the file) normally; read-only
 * when @db->read_only. A WAL-mode file needs its shared-memory file
 * beside it; in a folder that cannot be written, and with no log beside
 * the file left to read, the file is opened as immutable instead (SQLite
 * then needs no shared memory, and nothing else can be writing there). */
static int
open_handle (SqliteDatabase *db,
             const char     *dir)
{
  g_autofree char *wal = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *escaped = NULL;
  GStatBuf st;
  int rc;

  if (!db->read_only)
    return sqlite3_open_v2 (db->path, &db->handle,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);

  wal = g_strconcat (db->path, "-wal", NULL);
  if (g_access (dir, W_OK) == 0 || (g_stat (wal, &st) == 0 && st.st_size > 0))
    return sqlite3_open_v2 (db->path, &db->handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL);

  escaped = g_uri_escape_string (db->path, "/", FALSE);
  uri = g_strconcat ("file:", escaped, "?immutable=1", NULL);
  rc = sqlite3_open_v2 (uri, &db->handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX, NULL);

  return rc;
}

static void
database_close (SqliteDatabase *db)
{
  if (db->ann_free != NULL)
    db->ann_free (db->ann);
  if (db->scan_free != NULL)
    db->scan_free (db->scan);
  if (db->keyword_runs_free != NULL)
    db->keyword_runs_free (db->keyword_runs);
  /* Statements first: a connection with statements left cannot close. */
  g_clear_pointer (&db->statements, g_hash_table_unref);
  if (db->handle != NULL)
    sqlite3_close (db->handle);
  g_free (db->path);
  g_clear_object (&db->stemmer);
  g_ptr_array_unref (db->searches);
  g_mutex_clear (&db->queue_mutex);
  g_mutex_clear (&db->mutex);
  g_free (db);
}

/* A connection of its own to @db's file, read-only, for a worker thread
 * that must not hold @db's mutex for long (an ANN index built in the
 * background, sqlite-ann.c). Not in the registry: close it with
 * sqlite_database_close_reader(). */
SqliteDatabase *
sqlite_database_open_reader (SqliteDatabase  *db,
                             GError         **error)
{
  g_autofree char *dir = g_path_get_dirname (db->path);
  SqliteDatabase *reader;
  int rc;

  reader = database_new (db->path);
  reader->read_only = TRUE;
  reader->page_size = db->page_size;

  rc = open_handle (reader, dir);
  if (rc == SQLITE_OK)
    {
      sqlite3_busy_timeout (reader->handle, BUSY_TIMEOUT_MS);
      if (GLIB_SIZEOF_VOID_P >= 8)
        sqlite3_exec (reader->handle, "PRAGMA mmap_size = 68719476736", NULL, NULL, NULL);
    }
  else
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Cannot open the Stache database “%s”: %s"), reader->path,
                   reader->handle != NULL ? sqlite3_errmsg (reader->handle) : sqlite3_errstr (rc));
      database_close (reader);
      return NULL;
    }

  return reader;
}

void
sqlite_database_close_reader (SqliteDatabase *reader)
{
  if (reader != NULL)
    database_close (reader);
}

/* Drops one reference; the last one closes the connection. */
void
sqlite_database_release (SqliteDatabase *db)
{
  gboolean last;

  if (db == NULL)
    return;

  g_mutex_lock (&registry_lock);
  last = --db->ref_count == 0;
  if (last && registry != NULL && g_hash_table_lookup (registry, db->path) == db)
    g_hash_table_remove (registry, db->path);
  g_mutex_unlock (&registry_lock);

  if (last)
    database_close (db);
}

static SqliteDatabase *
sqlite_database_acquire (const char  *path,
                         GError     **error)
{
  SqliteDatabase *db;

  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (g_str_hash, g_str_equal);

  db = g_hash_table_lookup (registry, path);
  if (db != NULL)
    {
      db->ref_count++;
    }
  else
    {
      /* Opened with the lock held, so two stores opening the same new file
       * at once share one connection (and one migration). */
      db = database_open (path, error);
      if (db != NULL)
        g_hash_table_insert (registry, db->path, db);
    }
  g_mutex_unlock (&registry_lock);

  return db;
}

SqliteDatabase *
sqlite_database_open (StacheProvider  *provider,
                      GCancellable    *cancellable,
                      GError         **error)
{
  g_autofree char *path = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *language = NULL;
  StacheSettings *settings;
  SqliteDatabase *db;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  path = resolve_path (provider);
  canonical = g_canonicalize_filename (path, NULL);
  db = sqlite_database_acquire (canonical, error);
  if (db == NULL)
    return NULL;

  settings = stache_provider_get_settings (provider);
  language = settings != NULL ? stache_settings_get_nonempty (settings, STACHE_TEXT_LANGUAGE_KEY, "english")
                              : g_strdup ("english");
  if (!use_language (db, language, error))
    {
      sqlite_database_release (db);
      return NULL;
    }

  return db;
}

SqliteDatabase *
sqlite_database_ensure (SqliteDatabase  **slot,
                        GMutex           *slot_mutex,
                        StacheProvider   *provider,
                        GCancellable     *cancellable,
                        GError          **error)
{
  SqliteDatabase *db;

  g_mutex_lock (slot_mutex);
  if (*slot == NULL)
    *slot = sqlite_database_open (provider, cancellable, error);
  db = *slot;
  g_mutex_unlock (slot_mutex);

  return db;
}

/* Everything `stache check` looks at: SQLite's own integrity check, the
 * keyword index against the chunks, and the vector segments against the
 * chunks. Reads the whole file. */
gboolean
sqlite_database_verify (SqliteDatabase  *db,
                        GCancellable    *cancellable,
                        GError         **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&db->mutex);
  gboolean ok;

  if (!check_integrity (db, "PRAGMA integrity_check", error))
    return FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  if (!sqlite_database_begin (db, FALSE, error))
    return FALSE;
  ok = sqlite_keywords_verify (db, cancellable, error) &&
       sqlite_chunks_verify (db, cancellable, error);
  return sqlite_database_end (db, ok, ok ? error : NULL);
}

sqlite3_stmt *
sqlite_database_prepare (SqliteDatabase  *db,
                         const char      *sql,
                         GError         **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (db->statements, sql);

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  if (sqlite3_prepare_v3 (db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      sqlite_database_set_error (db, error, _("preparing a statement"));
      sqlite3_finalize (stmt);
      return NULL;
    }

  g_hash_table_insert (db->statements, g_strdup (sql), stmt);
  return stmt;
}

void
sqlite_statement_release (sqlite3_stmt *stmt)
{
  /* A statement left unreset would keep its read transaction open. */
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

gboolean
sqlite_database_begin (SqliteDatabase  *db,
                       gboolean         write,
                       GError         **error)
{
  if (write && db->read_only)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The Stache database “%s” is read-only (the file or its folder cannot be "
                     "written): it can be searched, not changed"), db->path);
      return FALSE;
    }

  /* A writer takes the write lock up front (IMMEDIATE), so the busy
   * timeout applies; upgrading a read transaction later could fail with
   * SQLITE_BUSY at once when another connection wrote in between. */
  return exec (db, write ? "BEGIN IMMEDIATE" : "BEGIN", _("starting a transaction"), error);
}

gboolean
sqlite_database_commit (SqliteDatabase  *db,
                        GError         **error)
{
  if (!exec (db, "COMMIT", _("committing"), error))
    {
      sqlite_database_rollback (db);
      return FALSE;
    }

  return TRUE;
}

void
sqlite_database_rollback (SqliteDatabase *db)
{
  if (!sqlite3_get_autocommit (db->handle))
    sqlite3_exec (db->handle, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
sqlite_database_end (SqliteDatabase  *db,
                     gboolean         ok,
                     GError         **error)
{
  if (!ok)
    {
      sqlite_database_rollback (db);
      return FALSE;
    }

  return sqlite_database_commit (db, error);
}

gboolean
sqlite_database_exec_step (SqliteDatabase  *db,
                           sqlite3_stmt    *stmt,
                           const char      *doing,
                           GError         **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return sqlite_database_set_error (db, error, doing);

  return TRUE;
}

void
sqlite_bind_text (sqlite3_stmt *stmt,
                  int           index,
                  const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

const char *
sqlite_column_text (sqlite3_stmt *stmt,
                    int           index)
{
  return (const char *) sqlite3_column_text (stmt, index);
}

static void write_json_node (GString  *out,
                             JsonNode *node);

static void
write_json_string (GString    *out,
                   const char *text)
{
  static const char hex[] = "0123456789abcdef";
  const char *run = text;

  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;

      g_string_append_len (out, run, p - run);
      run = p + 1;
      g_string_append_c (out, '\\');
      switch (c)
        {
        case '"': g_string_append_c (out, '"'); break;
        case '\\': g_string_append_c (out, '\\'); break;
        case '\n': g_string_append_c (out, 'n'); break;
        case '\r': g_string_append_c (out, 'r'); break;
        case '\t': g_string_append_c (out, 't'); break;
        case '\b': g_string_append_c (out, 'b'); break;
        case '\f': g_string_append_c (out, 'f'); break;
        default:
          g_string_append (out, "u00");
          g_string_append_c (out, hex[c >> 4]);
          g_string_append_c (out, hex[c & 0xf]);
          break;
        }
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

static void
write_json_object (GString    *out,
                   JsonObject *object)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      write_json_string (out, name);
      g_string_append_c (out, ':');
      write_json_node (out, member);
    }
  g_string_append_c (out, '}');
}

static void
write_json_node (GString  *out,
                 JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      write_json_object (out, json_node_get_object (node));
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        guint n = json_array_get_length (array);

        g_string_append_c (out, '[');
        for (guint i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            write_json_node (out, json_array_get_element (array, i));
          }
        g_string_append_c (out, ']');
      }
      break;

    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          write_json_string (out, json_node_get_string (node));
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_DOUBLE:
          {
            char buffer[G_ASCII_DTOSTR_BUF_SIZE];
            double value = json_node_get_double (node);

            /* JSON has no NaN or infinity */
            if (!isfinite (value))
              {
                g_string_append (out, "null");
                break;
              }
            g_ascii_dtostr (buffer, sizeof buffer, value);
            g_string_append (out, buffer);
            /* Read back as a double, not as a whole number */
            if (strpbrk (buffer, ".eE") == NULL)
              g_string_append (out, ".0");
          }
          break;
        default:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        }
      break;

    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}

/* json_to_string() with json-glib's generator costs several microseconds
 * for a small object, a real share of a chunk's write: this writes the
 * same JSON (compact, members in order) directly. */
char *
sqlite_json_to_text (JsonObject *object)
{
  GString *out;

  if (object == NULL)
    return NULL;

  out = g_string_sized_new (128);
  write_json_object (out, object);
  return g_string_free (out, FALSE);
}

JsonObject *
sqlite_json_from_text (const char *text)
{
  g_autoptr(JsonNode) node = NULL;

  if (text == NULL || text[0] == '\0')
    return NULL;

  /* The file may be damaged or crafted: nesting is limited like any JSON
   * from outside */
  node = stache_json_parse (text, -1, 0, FALSE, "stored metadata", NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_dup_object (node);
}
