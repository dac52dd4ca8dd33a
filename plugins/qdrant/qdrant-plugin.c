/* qdrant-plugin.c: registers the `qdrant` provider with libpeas
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <libpeas/peas.h>
#include <stache-plugin.h>

#include "qdrant-vectordb.h"

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  qdrant_vector_db_register (G_TYPE_MODULE (module));

  peas_object_module_register_extension_type (module, STACHE_TYPE_VECTOR_DB_PROVIDER,
                                              QDRANT_TYPE_VECTOR_DB);
}
