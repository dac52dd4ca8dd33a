/* sqlite-documents.c: the `sqlite` document index provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One row of the table documents per document, keyed by id. Deleting a
 * document deletes its chunks in the same transaction, so a deleted
 * document never answers a search. The `sqlite` vector database writes
 * document rows itself (sqlite_documents_write_row()) in the transaction
 * that writes their chunks, when both providers use the same file.
 */
#include <libpeas/peas.h>
#include <glib/gi18n-lib.h>
#include <stache-plugin.h>

#include "sqlite-chunks.h"
#include "sqlite-database.h"
#include "sqlite-documents.h"

struct _StacheSqliteDocuments
{
  StacheProvider  parent_instance;

  GMutex          open_mutex;
  SqliteDatabase *db;
};

static void stache_sqlite_documents_iface_init    (StacheDocumentIndexProviderInterface *iface);
static void stache_sqlite_documents_initable_init (GInitableIface                       *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (StacheSqliteDocuments, stache_sqlite_documents, STACHE_TYPE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_DOCUMENT_INDEX_PROVIDER,
                                                               stache_sqlite_documents_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               stache_sqlite_documents_initable_init))

#define DOCUMENT_COLUMNS \
  "SELECT id, namespace, source, title, media_type, content_hash, size, chunk_count, " \
  "created, updated, metadata, summary FROM documents"

static SqliteDatabase *
get_db (StacheSqliteDocuments  *self,
        GCancellable           *cancellable,
        GError                **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  return sqlite_database_ensure (&self->db, &self->open_mutex, STACHE_PROVIDER (self),
                                 cancellable, error);
}

/* Columns as in DOCUMENT_COLUMNS */
static StacheDocument *
document_from_row (sqlite3_stmt *stmt)
{
  StacheDocument *document = stache_document_new (sqlite_column_text (stmt, 0));
  g_autoptr(JsonObject) metadata = sqlite_json_from_text (sqlite_column_text (stmt, 10));

  stache_document_set_namespace (document, sqlite_column_text (stmt, 1));
  stache_document_set_source (document, sqlite_column_text (stmt, 2));
  stache_document_set_title (document, sqlite_column_text (stmt, 3));
  stache_document_set_media_type (document, sqlite_column_text (stmt, 4));
  stache_document_set_content_hash (document, sqlite_column_text (stmt, 5));
  stache_document_set_size (document, (guint64) sqlite3_column_int64 (stmt, 6));
  stache_document_set_chunk_count (document, (guint) sqlite3_column_int64 (stmt, 7));
  stache_document_set_created (document, sqlite3_column_int64 (stmt, 8));
  stache_document_set_updated (document, sqlite3_column_int64 (stmt, 9));
  if (metadata != NULL)
    stache_document_set_metadata (document, metadata);
  stache_document_set_summary (document, sqlite_column_text (stmt, 11));

  return document;
}

SqliteDatabase *
stache_sqlite_documents_get_database (StacheSqliteDocuments  *self,
                                      GCancellable           *cancellable,
                                      GError                **error)
{
  return get_db (self, cancellable, error);
}

gboolean
sqlite_documents_write_row (SqliteDatabase  *db,
                            StacheDocument  *document,
                            GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *metadata = sqlite_json_to_text (stache_document_get_metadata (document));

  stmt = sqlite_database_prepare (db,
                                  "INSERT OR REPLACE INTO documents (id, namespace, source, title, "
                                  "media_type, content_hash, size, chunk_count, created, updated, "
                                  "metadata, summary) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite_bind_text (stmt, 1, stache_document_get_id (document));
  sqlite_bind_text (stmt, 2, stache_document_get_namespace (document));
  sqlite_bind_text (stmt, 3, stache_document_get_source (document));
  sqlite_bind_text (stmt, 4, stache_document_get_title (document));
  sqlite_bind_text (stmt, 5, stache_document_get_media_type (document));
  sqlite_bind_text (stmt, 6, stache_document_get_content_hash (document));
  sqlite3_bind_int64 (stmt, 7, (sqlite3_int64) stache_document_get_size (document));
  sqlite3_bind_int64 (stmt, 8, stache_document_get_chunk_count (document));
  sqlite3_bind_int64 (stmt, 9, stache_document_get_created (document));
  sqlite3_bind_int64 (stmt, 10, stache_document_get_updated (document));
  sqlite_bind_text (stmt, 11, metadata);
  sqlite_bind_text (stmt, 12, stache_document_get_summary (document));

  return sqlite_database_exec_step (db, stmt, _("indexing a document"), error);
}

static gboolean
stache_sqlite_documents_index_document (StacheDocumentIndexProvider  *provider,
                                        StacheDocument               *document,
                                        GCancellable                 *cancellable,
                                        GError                      **error)
{
  StacheSqliteDocuments *self = STACHE_SQLITE_DOCUMENTS (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  SqliteDatabase *db;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return FALSE;
  locker = g_mutex_locker_new (&db->mutex);

  return sqlite_documents_write_row (db, document, error);
}

static StacheDocument *
stache_sqlite_documents_get_document (StacheDocumentIndexProvider  *provider,
                                      const char                   *id,
                                      GCancellable                 *cancellable,
                                      GError                      **error)
{
  StacheSqliteDocuments *self = STACHE_SQLITE_DOCUMENTS (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  SqliteDatabase *db;
  int rc;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;
  locker = g_mutex_locker_new (&db->mutex);

  stmt = sqlite_database_prepare (db, DOCUMENT_COLUMNS " WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return document_from_row (stmt);

  if (rc == SQLITE_DONE)
    g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND, _("There is no document “%s”"), id);
  else
    sqlite_database_set_error (db, error, _("looking a document up"));

  return NULL;
}

static GList *
stache_sqlite_documents_list_documents (StacheDocumentIndexProvider  *provider,
                                        const char                   *namespace_,
                                        GCancellable                 *cancellable,
                                        GError                      **error)
{
  StacheSqliteDocuments *self = STACHE_SQLITE_DOCUMENTS (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GList *documents = NULL;
  SqliteDatabase *db;
  guint64 n_rows = 0;
  int rc;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;
  locker = g_mutex_locker_new (&db->mutex);

  /* A document without a namespace is in `default`, as a chunk is. */
  stmt = sqlite_database_prepare (db, namespace_ != NULL
                                        ? DOCUMENT_COLUMNS " WHERE coalesce (namespace, 'default') = ?1 "
                                          "ORDER BY source, id"
                                        : DOCUMENT_COLUMNS " ORDER BY source, id",
                                  error);
  if (stmt == NULL)
    return NULL;
  if (namespace_ != NULL)
    sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (++n_rows % SQLITE_CANCEL_CHECK_INTERVAL == 0 &&
          g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_list_free_full (documents, g_object_unref);
          return NULL;
        }

      documents = g_list_prepend (documents, document_from_row (stmt));
    }

  if (rc != SQLITE_DONE)
    {
      g_list_free_full (documents, g_object_unref);
      sqlite_database_set_error (db, error, _("listing documents"));
      return NULL;
    }

  return g_list_reverse (documents);
}

static gboolean
delete_in_transaction (SqliteDatabase  *db,
                       const char      *id,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(sqlite3_stmt) find = NULL;
  g_autoptr(sqlite3_stmt) delete_document = NULL;
  g_autofree char *namespace_ = NULL;
  SqliteWrite *write;
  gboolean ok;
  int rc;

  find = sqlite_database_prepare (db, "SELECT coalesce (namespace, 'default') FROM documents "
                                      "WHERE id = ?1", error);
  if (find == NULL)
    return FALSE;

  sqlite3_bind_text (find, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (find);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND, _("There is no document “%s”"), id);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return sqlite_database_set_error (db, error, _("looking a document up"));

  namespace_ = g_strdup (sqlite_column_text (find, 0));
  sqlite3_reset (find);

  write = sqlite_write_new (db);
  ok = sqlite_write_delete_document (write, namespace_, id, cancellable, error) &&
       sqlite_write_finish (write, error);
  sqlite_write_free (write);
  if (!ok)
    return FALSE;

  delete_document = sqlite_database_prepare (db, "DELETE FROM documents WHERE id = ?1", error);
  if (delete_document == NULL)
    return FALSE;
  sqlite3_bind_text (delete_document, 1, id, -1, SQLITE_STATIC);

  return sqlite_database_exec_step (db, delete_document, _("deleting a document"), error);
}

static gboolean
stache_sqlite_documents_delete_document (StacheDocumentIndexProvider  *provider,
                                         const char                   *id,
                                         GCancellable                 *cancellable,
                                         GError                      **error)
{
  StacheSqliteDocuments *self = STACHE_SQLITE_DOCUMENTS (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  SqliteDatabase *db;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return FALSE;
  locker = g_mutex_locker_new (&db->mutex);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  return sqlite_database_end (db, delete_in_transaction (db, id, cancellable, error), error);
}

/* ---- GInitable: the file is opened (and checked) when created ---- */

static gboolean
stache_sqlite_documents_initable_init_impl (GInitable     *initable,
                                            GCancellable  *cancellable,
                                            GError       **error)
{
  return get_db (STACHE_SQLITE_DOCUMENTS (initable), cancellable, error) != NULL;
}

static void
stache_sqlite_documents_initable_init (GInitableIface *iface)
{
  iface->init = stache_sqlite_documents_initable_init_impl;
}

/* ---- GObject ---- */

static void
stache_sqlite_documents_finalize (GObject *object)
{
  StacheSqliteDocuments *self = STACHE_SQLITE_DOCUMENTS (object);

  g_clear_pointer (&self->db, sqlite_database_release);
  g_mutex_clear (&self->open_mutex);

  G_OBJECT_CLASS (stache_sqlite_documents_parent_class)->finalize (object);
}

static void
stache_sqlite_documents_class_init (StacheSqliteDocumentsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = stache_sqlite_documents_finalize;
}

static void
stache_sqlite_documents_class_finalize (StacheSqliteDocumentsClass *klass)
{
}

static void
stache_sqlite_documents_init (StacheSqliteDocuments *self)
{
  g_mutex_init (&self->open_mutex);
}

static void
stache_sqlite_documents_iface_init (StacheDocumentIndexProviderInterface *iface)
{
  iface->index_document = stache_sqlite_documents_index_document;
  iface->get_document = stache_sqlite_documents_get_document;
  iface->list_documents = stache_sqlite_documents_list_documents;
  iface->delete_document = stache_sqlite_documents_delete_document;
}

void
stache_sqlite_documents_register (GTypeModule *module)
{
  stache_sqlite_documents_register_type (module);
}
