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
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sqlite-database.h"

/* "STCH": marks a file as a Stache database (PRAGMA application_id). */
#define STACHE_APPLICATION_ID 0x53544348
/* Bumped when the schema changes; stored in PRAGMA user_version. */
#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000

/* Chunks keep the columns the vector scan reads (dims, norm, vector) ahead
 * of the long text, so a scan never walks the text's overflow pages.
 * Chunks with no document are kept too: document_id may be NULL. */
static const char SCHEMA_SQL[] =
  "CREATE TABLE IF NOT EXISTS chunks ("
  "  rowid INTEGER PRIMARY KEY,"
  "  namespace TEXT NOT NULL,"
  "  id TEXT NOT NULL,"
  "  dims INTEGER NOT NULL,"
  "  norm REAL NOT NULL,"
  "  vector BLOB NOT NULL,"
  "  document_id TEXT,"
  "  position INTEGER NOT NULL DEFAULT 0,"
  "  text TEXT NOT NULL,"
  "  metadata TEXT,"
  "  UNIQUE (namespace, id));"
  "CREATE INDEX IF NOT EXISTS chunks_document ON chunks (namespace, document_id);"
  "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5 ("
  "  text, content = 'chunks', content_rowid = 'rowid',"
  "  tokenize = 'unicode61 remove_diacritics 2');"
  "CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN"
  "  INSERT INTO chunks_fts (rowid, text) VALUES (new.rowid, new.text);"
  "END;"
  "CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN"
  "  INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);"
  "END;"
  "CREATE TRIGGER IF NOT EXISTS chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN"
  "  INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);"
  "  INSERT INTO chunks_fts (rowid, text) VALUES (new.rowid, new.text);"
  "END;"
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
            GError         **error)
{
  g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func (g_free);
  GError *local_error = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 app_id, version;
  gboolean has_ours = TRUE;
  int rc;

  *out_has_schema = FALSE;

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

  *out_has_schema = app_id == STACHE_APPLICATION_ID && version == SCHEMA_VERSION && has_ours;
  return TRUE;
}

static gboolean
check_integrity (SqliteDatabase  *db,
                 GError         **error)
{
  g_autofree char *problem = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db->handle, "PRAGMA quick_check", -1, &stmt, NULL);
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
                   _("The Stache database “%s” is damaged (PRAGMA quick_check: %s); "
                     "it was left untouched"),
                   db->path, problem);
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

static gboolean
configure (SqliteDatabase  *db,
           GError         **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  /* The first statement that may write. Changing the journal mode of a
   * new file needs an exclusive lock, and SQLite answers BUSY at once,
   * without the busy handler, while another process creates the same file:
   * so retry for as long as the busy timeout would have waited. */
  for (guint waited_ms = 0; ; waited_ms += 20)
    {
      rc = sqlite3_prepare_v2 (db->handle, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
      if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
      if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited_ms >= BUSY_TIMEOUT_MS)
        break;
      sqlite3_finalize (stmt);
      stmt = NULL;
      g_usleep (20 * 1000);
    }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      sqlite_database_set_error (db, error, _("switching to WAL mode"));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);

  /* Searches read every vector of a namespace: mapping the file saves a
   * copy per page (SQLite falls back to read() where mapping fails). */
  return exec (db, GLIB_SIZEOF_VOID_P >= 8
                     ? "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA mmap_size = 1073741824"
                     : "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA mmap_size = 67108864",
               _("configuring the connection"), error);
}

static gboolean
create_schema (SqliteDatabase  *db,
               GError         **error)
{
  g_autofree char *sql = NULL;

  sql = g_strdup_printf ("%s PRAGMA application_id = %d; PRAGMA user_version = %d;",
                         SCHEMA_SQL, STACHE_APPLICATION_ID, SCHEMA_VERSION);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  return sqlite_database_end (db, exec (db, sql, _("creating the tables"), error), error);
}

SqliteDatabase *
sqlite_database_open (StacheProvider  *provider,
                      GCancellable    *cancellable,
                      GError         **error)
{
  g_autofree char *dir = NULL;
  SqliteDatabase *db;
  GStatBuf st;
  gboolean existed, has_schema = FALSE, ok;
  int rc;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  db = g_new0 (SqliteDatabase, 1);
  g_mutex_init (&db->mutex);
  db->path = resolve_path (provider);
  db->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_statement);

  dir = g_path_get_dirname (db->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Cannot create the folder “%s” for the Stache database “%s”: %s"),
                   dir, db->path, g_strerror (saved_errno));
      sqlite_database_free (db);
      return NULL;
    }

  existed = g_stat (db->path, &st) == 0 && st.st_size > 0;

  rc = sqlite3_open_v2 (db->path, &db->handle,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Cannot open the Stache database “%s”: %s"), db->path,
                   db->handle != NULL ? sqlite3_errmsg (db->handle) : sqlite3_errstr (rc));
      sqlite_database_free (db);
      return NULL;
    }
  sqlite3_busy_timeout (db->handle, BUSY_TIMEOUT_MS);

  g_mutex_lock (&db->mutex);
  ok = check_ours (db, &has_schema, error) &&
       (!existed || check_integrity (db, error)) &&
       configure (db, error) &&
       (has_schema || create_schema (db, error));
  g_mutex_unlock (&db->mutex);

  if (!ok)
    {
      sqlite_database_free (db);
      return NULL;
    }

  return db;
}

void
sqlite_database_free (SqliteDatabase *db)
{
  if (db == NULL)
    return;

  /* Statements first: a connection with statements left cannot close. */
  g_clear_pointer (&db->statements, g_hash_table_unref);
  if (db->handle != NULL)
    sqlite3_close (db->handle);
  g_free (db->path);
  g_mutex_clear (&db->mutex);
  g_free (db);
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

char *
sqlite_json_to_text (JsonObject *object)
{
  g_autoptr(JsonNode) node = NULL;

  if (object == NULL)
    return NULL;

  node = json_node_init_object (json_node_alloc (), object);
  return json_to_string (node, FALSE);
}

JsonObject *
sqlite_json_from_text (const char *text)
{
  g_autoptr(JsonNode) node = NULL;

  if (text == NULL || text[0] == '\0')
    return NULL;

  node = json_from_string (text, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_dup_object (node);
}
