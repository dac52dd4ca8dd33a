/* sqlite-namespaces.h: the `sqlite` namespace provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define STACHE_SQLITE_TYPE_NAMESPACES (stache_sqlite_namespaces_get_type ())
G_DECLARE_FINAL_TYPE (StacheSqliteNamespaces, stache_sqlite_namespaces, STACHE_SQLITE, NAMESPACES, StacheProvider)

void stache_sqlite_namespaces_register (GTypeModule *module);

G_END_DECLS
