/* sqlite-vector-db.h: the `sqlite` vector database provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define STACHE_SQLITE_TYPE_VECTOR_DB (stache_sqlite_vector_db_get_type ())
G_DECLARE_FINAL_TYPE (StacheSqliteVectorDb, stache_sqlite_vector_db, STACHE_SQLITE, VECTOR_DB, StacheProvider)

void stache_sqlite_vector_db_register (GTypeModule *module);

G_END_DECLS
