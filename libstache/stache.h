/* stache.h: the application API of libstache (plugins include
 * <stache-plugin.h>, which adds the provider SDK)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#define STACHE_INSIDE
# include "stache-version.h"
# include "stache-enums.h"
# include "stache-error.h"
# include "stache-settings.h"
# include "stache-provider.h"
# include "stache-chunk.h"
# include "stache-search-result.h"
# include "stache-document.h"
# include "stache-namespace.h"
# include "stache-completion.h"
# include "stache-llm-provider.h"
# include "stache-embedding-provider.h"
# include "stache-vector-db-provider.h"
# include "stache-namespace-provider.h"
# include "stache-reranker-provider.h"
# include "stache-document-index-provider.h"
# include "stache-provider-info.h"
# include "stache-plugin-loader.h"
# include "stache-factory.h"
# include "stache-filter.h"
# include "stache-ingest-result.h"
# include "stache-answer.h"
# include "stache-store.h"
#undef STACHE_INSIDE
