/* stache-namespace.h: a named collection of documents
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include "stache-version.h"

G_BEGIN_DECLS

#define STACHE_TYPE_NAMESPACE (stache_namespace_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheNamespace, stache_namespace, STACHE, NAMESPACE, GObject)

STACHE_AVAILABLE_IN_ALL
StacheNamespace *stache_namespace_new             (const char      *name);
STACHE_AVAILABLE_IN_ALL
const char      *stache_namespace_get_name        (StacheNamespace *self);
STACHE_AVAILABLE_IN_ALL
void             stache_namespace_set_name        (StacheNamespace *self,
                                                   const char      *name);
STACHE_AVAILABLE_IN_ALL
char            *stache_namespace_dup_parent_name (StacheNamespace *self);
STACHE_AVAILABLE_IN_ALL
const char      *stache_namespace_get_description (StacheNamespace *self);
STACHE_AVAILABLE_IN_ALL
void             stache_namespace_set_description (StacheNamespace *self,
                                                   const char      *description);
STACHE_AVAILABLE_IN_ALL
gint64           stache_namespace_get_created     (StacheNamespace *self);
STACHE_AVAILABLE_IN_ALL
void             stache_namespace_set_created     (StacheNamespace *self,
                                                   gint64           created);
STACHE_AVAILABLE_IN_ALL
JsonObject      *stache_namespace_get_metadata    (StacheNamespace *self);
STACHE_AVAILABLE_IN_ALL
void             stache_namespace_set_metadata    (StacheNamespace *self,
                                                   JsonObject      *metadata);

G_END_DECLS
