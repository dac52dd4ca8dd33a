/* qdrant-vectordb.h: the `qdrant` vector database provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define QDRANT_TYPE_VECTOR_DB (qdrant_vector_db_get_type ())
G_DECLARE_FINAL_TYPE (QdrantVectorDb, qdrant_vector_db, QDRANT, VECTOR_DB, StacheRemoteProvider)

void qdrant_vector_db_register (GTypeModule *module);

G_END_DECLS
