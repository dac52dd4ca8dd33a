/* sqlite-documents.h: the `sqlite` document index provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache.h>

G_BEGIN_DECLS

#define STACHE_SQLITE_TYPE_DOCUMENTS (stache_sqlite_documents_get_type ())
G_DECLARE_FINAL_TYPE (StacheSqliteDocuments, stache_sqlite_documents, STACHE_SQLITE, DOCUMENTS, StacheProvider)

void stache_sqlite_documents_register (GTypeModule *module);

G_END_DECLS
