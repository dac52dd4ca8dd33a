/* sqlite-plugin.c: registers the embedded SQLite providers with libpeas
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The three providers share one database file (setting sqlite_path,
 * default $XDG_DATA_HOME/stache/stache.db); each instance keeps its own
 * connection.
 */
#include <libpeas/peas.h>
#include <stache-plugin.h>

#include "sqlite-documents.h"
#include "sqlite-namespaces.h"
#include "sqlite-vector-db.h"

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  stache_sqlite_vector_db_register (G_TYPE_MODULE (module));
  stache_sqlite_namespaces_register (G_TYPE_MODULE (module));
  stache_sqlite_documents_register (G_TYPE_MODULE (module));

  peas_object_module_register_extension_type (module, STACHE_TYPE_VECTOR_DB_PROVIDER,
                                              STACHE_SQLITE_TYPE_VECTOR_DB);
  peas_object_module_register_extension_type (module, STACHE_TYPE_NAMESPACE_PROVIDER,
                                              STACHE_SQLITE_TYPE_NAMESPACES);
  peas_object_module_register_extension_type (module, STACHE_TYPE_DOCUMENT_INDEX_PROVIDER,
                                              STACHE_SQLITE_TYPE_DOCUMENTS);
}
