/* sqlite-database.h: the SQLite file shared by the sqlite providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <sqlite3.h>
#include <stache-plugin.h>

G_BEGIN_DECLS

/* One connection to a Stache database file, shared by every provider of
 * the process that uses that file (the vector database, namespace and
 * document index providers of any number of stores): they see one page
 * cache and one mmap, and one transaction can span all three. Every use of
 * @handle, and of the statements prepared on it, happens with @mutex held.
 * Opened by sqlite_database_ensure(), released with
 * sqlite_database_release(). */
typedef struct
{
  sqlite3    *handle;
  char       *path;
  GMutex      mutex;
  GHashTable *statements;   /* SQL text → sqlite3_stmt *, prepared once */
  gsize       page_size;    /* of the file, read once it is configured */
  gboolean    read_only;    /* the file or its folder cannot be written: searches only */
  gint        ref_count;    /* changed with the registry's lock held */
  gpointer    ann;          /* the ANN indexes of its vector spaces (sqlite-ann.c) */
  GDestroyNotify ann_free;
  gpointer    scan;         /* mapped scan files (sqlite-scanfile.c) */
  GDestroyNotify scan_free;
  GMutex      queue_mutex;  /* guards @searches */
  GPtrArray  *searches;     /* vector searches waiting for @mutex (sqlite-vector-db.c) */
  StacheStemmer *stemmer;   /* the keyword index's language; set once, by the first open */
  gpointer    keyword_runs; /* the keyword index's documents, read last (sqlite-keywords.c) */
  GDestroyNotify keyword_runs_free;
} SqliteDatabase;

/* The namespace chunks go to when none is given. */
#define SQLITE_DEFAULT_NAMESPACE "default"

/* How many rows a long loop handles between two looks at the cancellable. */
#define SQLITE_CANCEL_CHECK_INTERVAL 4096

char           *sqlite_database_default_path (void);

SqliteDatabase *sqlite_database_open         (StacheProvider   *provider,
                                              GCancellable     *cancellable,
                                              GError          **error);
void            sqlite_database_release      (SqliteDatabase   *db);

SqliteDatabase *sqlite_database_ensure       (SqliteDatabase  **slot,
                                              GMutex           *slot_mutex,
                                              StacheProvider   *provider,
                                              GCancellable     *cancellable,
                                              GError          **error);

SqliteDatabase *sqlite_database_open_reader  (SqliteDatabase   *db,
                                              GError          **error);
void            sqlite_database_close_reader (SqliteDatabase   *reader);

gboolean        sqlite_database_check_language (SqliteDatabase *db,
                                                GError        **error);
gboolean        sqlite_database_verify       (SqliteDatabase   *db,
                                              GCancellable     *cancellable,
                                              GError          **error);

gboolean        sqlite_database_set_error    (SqliteDatabase   *db,
                                              GError          **error,
                                              const char       *doing);

sqlite3_stmt   *sqlite_database_prepare      (SqliteDatabase   *db,
                                              const char       *sql,
                                              GError          **error);
void            sqlite_statement_release     (sqlite3_stmt     *stmt);

gboolean        sqlite_database_begin        (SqliteDatabase   *db,
                                              gboolean          write,
                                              GError          **error);
gboolean        sqlite_database_commit       (SqliteDatabase   *db,
                                              GError          **error);
void            sqlite_database_rollback     (SqliteDatabase   *db);
gboolean        sqlite_database_end          (SqliteDatabase   *db,
                                              gboolean          ok,
                                              GError          **error);

gboolean        sqlite_database_exec_step    (SqliteDatabase   *db,
                                              sqlite3_stmt     *stmt,
                                              const char       *doing,
                                              GError          **error);

void            sqlite_bind_text             (sqlite3_stmt     *stmt,
                                              int               index,
                                              const char       *text);
const char     *sqlite_column_text           (sqlite3_stmt     *stmt,
                                              int               index);

char           *sqlite_json_to_text          (JsonObject       *object);
JsonObject     *sqlite_json_from_text        (const char       *text);

/* Resets a statement from the cache when it goes out of scope; declare it
 * after the GMutexLocker of the connection, so it is reset first. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite_statement_release)

G_END_DECLS
