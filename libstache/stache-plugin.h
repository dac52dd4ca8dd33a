/* stache-plugin.h: the header for provider authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * <stache.h> is the application API: the store, the data objects, the
 * settings, the plugin loader and the six provider interfaces an
 * application may call. A plugin includes this header instead: it adds
 * what a provider needs to talk to a service and to read text, the HTTP
 * client (with retries, redaction of secrets and streamed answers) and
 * StacheRemoteProvider, the base class of providers that use it, the
 * JSON readers that check types, and the word helpers the built-in
 * providers share.
 */
#pragma once

#include <stache.h>

#define STACHE_INSIDE_PLUGIN_SDK
# include "stache-json.h"
# include "stache-http-client.h"
# include "stache-text.h"
# include "stache-stemmer.h"
# include "stache-remote-provider.h"
#undef STACHE_INSIDE_PLUGIN_SDK
