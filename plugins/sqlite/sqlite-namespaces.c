/* sqlite-namespaces.c: the `sqlite` namespace provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Namespaces created explicitly are rows of the table namespaces. Ingest
 * may put chunks and documents into a namespace nobody created; such a
 * namespace exists too (it is listed, found and deleted), it just has no
 * description, metadata or creation time.
 *
 * The namespaces under `a` are the names in the range ['a/', 'a0'): '0'
 * follows '/' in ASCII, and names are ASCII. Unlike LIKE, the range treats
 * '_' literally and can use an index.
 */
#include <string.h>

#include <libpeas/peas.h>
#include <glib/gi18n-lib.h>
#include <stache-plugin.h>

#include "sqlite-chunks.h"
#include "sqlite-database.h"
#include "sqlite-namespaces.h"

struct _StacheSqliteNamespaces
{
  StacheProvider  parent_instance;

  GMutex          open_mutex;
  SqliteDatabase *db;
};

static void stache_sqlite_namespaces_iface_init    (StacheNamespaceProviderInterface *iface);
static void stache_sqlite_namespaces_initable_init (GInitableIface                   *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (StacheSqliteNamespaces, stache_sqlite_namespaces, STACHE_TYPE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_NAMESPACE_PROVIDER,
                                                               stache_sqlite_namespaces_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               stache_sqlite_namespaces_initable_init))

/* A document without a namespace is in `default`. */
#define DOC_NS "coalesce (namespace, 'default')"
#define UNDER(column) "(" column " > (?1 || '/') AND " column " < (?1 || '0'))"

static SqliteDatabase *
get_db (StacheSqliteNamespaces  *self,
        GCancellable            *cancellable,
        GError                 **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  return sqlite_database_ensure (&self->db, &self->open_mutex, STACHE_PROVIDER (self),
                                 cancellable, error);
}

/* Columns: name, description, metadata, created */
static StacheNamespace *
namespace_from_row (sqlite3_stmt *stmt)
{
  StacheNamespace *namespace_ = stache_namespace_new (sqlite_column_text (stmt, 0));
  g_autoptr(JsonObject) metadata = sqlite_json_from_text (sqlite_column_text (stmt, 2));

  stache_namespace_set_description (namespace_, sqlite_column_text (stmt, 1));
  if (metadata != NULL)
    stache_namespace_set_metadata (namespace_, metadata);
  stache_namespace_set_created (namespace_, sqlite3_column_int64 (stmt, 3));

  return namespace_;
}

/* Runs @sql, which selects one integer, with ?1 bound to @name. */
static gboolean
query_int (SqliteDatabase  *db,
           const char      *sql,
           const char      *name,
           gint64          *out,
           GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = sqlite_database_prepare (db, sql, error);

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return sqlite_database_set_error (db, error, _("looking a namespace up"));

  *out = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static gboolean
holds_data (SqliteDatabase  *db,
            const char      *name,
            gboolean        *out,
            GError         **error)
{
  gint64 found;

  if (!query_int (db,
                  "SELECT EXISTS (SELECT 1 FROM chunks WHERE namespace = ?1) "
                  "OR EXISTS (SELECT 1 FROM documents WHERE " DOC_NS " = ?1)",
                  name, &found, error))
    return FALSE;

  *out = found != 0;
  return TRUE;
}

static StacheNamespace *
stache_sqlite_namespaces_create_namespace (StacheNamespaceProvider  *provider,
                                           const char               *name,
                                           const char               *description,
                                           JsonObject               *metadata,
                                           GCancellable             *cancellable,
                                           GError                  **error)
{
  StacheSqliteNamespaces *self = STACHE_SQLITE_NAMESPACES (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *metadata_text = sqlite_json_to_text (metadata);
  gint64 created = g_get_real_time () / G_USEC_PER_SEC;
  StacheNamespace *namespace_;
  SqliteDatabase *db;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;
  locker = g_mutex_locker_new (&db->mutex);

  /* A namespace that only exists because something was stored in it gets
   * its row now; one that has a row already exists. */
  stmt = sqlite_database_prepare (db, "INSERT INTO namespaces (name, description, metadata, created) "
                                      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO NOTHING", error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite_bind_text (stmt, 2, description);
  sqlite_bind_text (stmt, 3, metadata_text);
  sqlite3_bind_int64 (stmt, 4, created);
  if (!sqlite_database_exec_step (db, stmt, _("creating a namespace"), error))
    return NULL;

  if (sqlite3_changes (db->handle) == 0)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_EXISTS,
                   _("The namespace “%s” already exists"), name);
      return NULL;
    }

  namespace_ = stache_namespace_new (name);
  stache_namespace_set_description (namespace_, description);
  if (metadata != NULL)
    stache_namespace_set_metadata (namespace_, metadata);
  stache_namespace_set_created (namespace_, created);

  return namespace_;
}

static StacheNamespace *
stache_sqlite_namespaces_get_namespace (StacheNamespaceProvider  *provider,
                                        const char               *name,
                                        GCancellable             *cancellable,
                                        GError                  **error)
{
  StacheSqliteNamespaces *self = STACHE_SQLITE_NAMESPACES (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  SqliteDatabase *db;
  gboolean implicit;
  int rc;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;
  locker = g_mutex_locker_new (&db->mutex);

  stmt = sqlite_database_prepare (db, "SELECT name, description, metadata, created FROM namespaces "
                                      "WHERE name = ?1", error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return namespace_from_row (stmt);
  if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (db, error, _("looking a namespace up"));
      return NULL;
    }

  if (!holds_data (db, name, &implicit, error))
    return NULL;

  if (!implicit)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND,
                   _("There is no namespace “%s”"), name);
      return NULL;
    }

  return stache_namespace_new (name);
}

static GList *
stache_sqlite_namespaces_list_namespaces (StacheNamespaceProvider  *provider,
                                          const char               *parent,
                                          GCancellable             *cancellable,
                                          GError                  **error)
{
  /* The namespaces of chunks are those of the vector spaces (a row per
   * namespace and vector length); those of documents come from a walk of
   * the documents_namespace index, one step per namespace, rather than a
   * scan of every document: listing costs the same at any store size. */
  static const char sql[] =
    "WITH RECURSIVE document_ns (name) AS ("
    "  SELECT (SELECT min (" DOC_NS ") FROM documents)"
    "  UNION ALL"
    "  SELECT (SELECT min (" DOC_NS ") FROM documents WHERE " DOC_NS " > document_ns.name)"
    "  FROM document_ns WHERE document_ns.name IS NOT NULL),"
    "all_names (name) AS ("
    "  SELECT name FROM namespaces"
    "  UNION SELECT namespace FROM vector_spaces"
    "  UNION SELECT name FROM document_ns WHERE name IS NOT NULL) "
    "SELECT a.name, n.description, n.metadata, n.created "
    "FROM all_names AS a LEFT JOIN namespaces AS n ON n.name = a.name "
    "WHERE ?1 IS NULL OR " UNDER ("a.name") " "
    "ORDER BY a.name";
  StacheSqliteNamespaces *self = STACHE_SQLITE_NAMESPACES (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GList *namespaces = NULL;
  gsize prefix_len = parent != NULL ? strlen (parent) + 1 : 0;
  SqliteDatabase *db;
  int rc;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;
  locker = g_mutex_locker_new (&db->mutex);

  stmt = sqlite_database_prepare (db, sql, error);
  if (stmt == NULL)
    return NULL;

  sqlite_bind_text (stmt, 1, parent);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *name = sqlite_column_text (stmt, 0);

      /* Direct children only: nothing after the parent's '/' is a '/'. */
      if (parent != NULL && strchr (name + prefix_len, '/') != NULL)
        continue;

      namespaces = g_list_prepend (namespaces, namespace_from_row (stmt));
    }

  if (rc != SQLITE_DONE)
    {
      g_list_free_full (namespaces, g_object_unref);
      sqlite_database_set_error (db, error, _("listing namespaces"));
      return NULL;
    }

  return g_list_reverse (namespaces);
}

static gboolean
delete_in_transaction (SqliteDatabase  *db,
                       const char      *name,
                       gboolean         cascade,
                       GError         **error)
{
  static const char * const delete_sql[] = {
    "DELETE FROM documents WHERE " DOC_NS " = ?1 OR " UNDER (DOC_NS),
    "DELETE FROM namespaces WHERE name = ?1 OR " UNDER ("name"),
  };
  gint64 has_row, n_chunks, n_documents, n_children;

  if (!query_int (db, "SELECT count (*) FROM namespaces WHERE name = ?1", name, &has_row, error) ||
      !query_int (db, "SELECT coalesce (sum (count), 0) FROM vector_spaces "
                      "WHERE namespace = ?1 OR " UNDER ("namespace"),
                  name, &n_chunks, error) ||
      !query_int (db, "SELECT count (*) FROM documents WHERE " DOC_NS " = ?1 OR " UNDER (DOC_NS),
                  name, &n_documents, error) ||
      !query_int (db, "SELECT count (*) FROM namespaces WHERE " UNDER ("name"),
                  name, &n_children, error))
    return FALSE;

  if (has_row == 0 && n_chunks == 0 && n_documents == 0 && n_children == 0)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND,
                   _("There is no namespace “%s”"), name);
      return FALSE;
    }

  if (!cascade && (n_chunks > 0 || n_documents > 0 || n_children > 0))
    {
      g_autofree char *chunks = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%ld chunk", "%ld chunks",
                                                              (gulong) n_chunks),
                                                 (long) n_chunks);
      g_autofree char *documents = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%ld document",
                                                                 "%ld documents", (gulong) n_documents),
                                                    (long) n_documents);
      g_autofree char *children = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%ld child namespace",
                                                                "%ld child namespaces", (gulong) n_children),
                                                   (long) n_children);

      /* TRANSLATORS: the three counts are "2 chunks", "1 document" and
       * "0 child namespaces" */
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_EMPTY,
                   _("The namespace “%s” is not empty: with its child namespaces it holds "
                     "%s, %s and %s. Delete with cascade to delete them as well."),
                   name, chunks, documents, children);
      return FALSE;
    }

  /* Chunks go with their vectors and keyword rows, namespace by
   * namespace: every namespace that holds chunks has a vector space. */
  {
    g_autoptr(sqlite3_stmt) names = NULL;
    g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);
    SqliteWrite *write;
    gboolean ok = TRUE;
    int rc;

    names = sqlite_database_prepare (db, "SELECT DISTINCT namespace FROM vector_spaces "
                                         "WHERE namespace = ?1 OR " UNDER ("namespace"), error);
    if (names == NULL)
      return FALSE;
    sqlite3_bind_text (names, 1, name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step (names)) == SQLITE_ROW)
      g_ptr_array_add (doomed, g_strdup (sqlite_column_text (names, 0)));
    if (rc != SQLITE_DONE)
      return sqlite_database_set_error (db, error, _("deleting a namespace"));
    sqlite3_reset (names);

    write = sqlite_write_new (db);
    for (guint i = 0; ok && i < doomed->len; i++)
      ok = sqlite_write_delete_namespace (write, g_ptr_array_index (doomed, i), NULL, error);
    ok = ok && sqlite_write_finish (write, error);
    sqlite_write_free (write);
    if (!ok)
      return FALSE;
  }

  for (guint i = 0; i < G_N_ELEMENTS (delete_sql); i++)
    {
      g_autoptr(sqlite3_stmt) stmt = sqlite_database_prepare (db, delete_sql[i], error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
      if (!sqlite_database_exec_step (db, stmt, _("deleting a namespace"), error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
stache_sqlite_namespaces_delete_namespace (StacheNamespaceProvider  *provider,
                                           const char               *name,
                                           gboolean                  cascade,
                                           GCancellable             *cancellable,
                                           GError                  **error)
{
  StacheSqliteNamespaces *self = STACHE_SQLITE_NAMESPACES (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  SqliteDatabase *db;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return FALSE;
  locker = g_mutex_locker_new (&db->mutex);

  /* The checks and the deletion in one write transaction: nothing can be
   * added in between. */
  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  return sqlite_database_end (db, delete_in_transaction (db, name, cascade, error), error);
}

/* ---- GInitable: the file is opened (and checked) when created ---- */

static gboolean
stache_sqlite_namespaces_initable_init_impl (GInitable     *initable,
                                             GCancellable  *cancellable,
                                             GError       **error)
{
  return get_db (STACHE_SQLITE_NAMESPACES (initable), cancellable, error) != NULL;
}

static void
stache_sqlite_namespaces_initable_init (GInitableIface *iface)
{
  iface->init = stache_sqlite_namespaces_initable_init_impl;
}

/* ---- GObject ---- */

static void
stache_sqlite_namespaces_finalize (GObject *object)
{
  StacheSqliteNamespaces *self = STACHE_SQLITE_NAMESPACES (object);

  g_clear_pointer (&self->db, sqlite_database_release);
  g_mutex_clear (&self->open_mutex);

  G_OBJECT_CLASS (stache_sqlite_namespaces_parent_class)->finalize (object);
}

static void
stache_sqlite_namespaces_class_init (StacheSqliteNamespacesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = stache_sqlite_namespaces_finalize;
}

static void
stache_sqlite_namespaces_class_finalize (StacheSqliteNamespacesClass *klass)
{
}

static void
stache_sqlite_namespaces_init (StacheSqliteNamespaces *self)
{
  g_mutex_init (&self->open_mutex);
}

static void
stache_sqlite_namespaces_iface_init (StacheNamespaceProviderInterface *iface)
{
  iface->create_namespace = stache_sqlite_namespaces_create_namespace;
  iface->delete_namespace = stache_sqlite_namespaces_delete_namespace;
  iface->list_namespaces = stache_sqlite_namespaces_list_namespaces;
  iface->get_namespace = stache_sqlite_namespaces_get_namespace;
}

void
stache_sqlite_namespaces_register (GTypeModule *module)
{
  stache_sqlite_namespaces_register_type (module);
}
