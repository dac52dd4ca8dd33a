/* sqlite-documents.h: the `sqlite` document index provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

#include "sqlite-database.h"

G_BEGIN_DECLS

#define STACHE_SQLITE_TYPE_DOCUMENTS (stache_sqlite_documents_get_type ())
G_DECLARE_FINAL_TYPE (StacheSqliteDocuments, stache_sqlite_documents, STACHE_SQLITE, DOCUMENTS, StacheProvider)

void            stache_sqlite_documents_register     (GTypeModule            *module);

/* The connection the provider writes to (opened when needed). */
SqliteDatabase *stache_sqlite_documents_get_database (StacheSqliteDocuments  *self,
                                                      GCancellable           *cancellable,
                                                      GError                **error);
/* Writes @document's row inside the caller's transaction. */
gboolean        sqlite_documents_write_row           (SqliteDatabase         *db,
                                                      StacheDocument         *document,
                                                      GError                **error);

G_END_DECLS
