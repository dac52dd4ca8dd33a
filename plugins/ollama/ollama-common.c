/* ollama-common.c: settings, HTTP client and response checks shared by the
 * `ollama` providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both providers talk to one server (setting `ollama_url`, default
 * http://localhost:11434) and may ask it to keep the model loaded for a
 * while after the request (setting `ollama_keep_alive`, such as "5m" or
 * "-1", sent as "keep_alive"; unset leaves the server's default). Ollama
 * needs no key. Each provider instance has its own StacheHttpClient, which
 * does the retries and the timeouts, and reads Ollama's {"error": "…"}
 * bodies into its error messages.
 */
#include <string.h>

#include <glib/gi18n-lib.h>

#include "ollama-common.h"

/* ---- settings ---- */

/**
 * ollama_client_new:
 * @provider: the provider the client is for, which keeps it
 * @settings: the provider's settings
 * @path: the endpoint under the server URL, such as "/api/embed"
 * @out_url: (out): the full URL of the endpoint
 * @out_keep_alive: (out) (nullable): `ollama_keep_alive`, or %NULL if unset
 * @error: return location for a #GError
 *
 * Reads `ollama_url` and `ollama_keep_alive` and creates the HTTP client
 * of one provider instance.
 *
 * Returns: (transfer none): the client, kept by @provider, or %NULL with @error set
 */
StacheHttpClient *
ollama_client_new (StacheRemoteProvider  *provider,
                   StacheSettings        *settings,
                   const char            *path,
                   char                 **out_url,
                   char                 **out_keep_alive,
                   GError               **error)
{
  g_autofree char *base = NULL;
  StacheHttpClient *client;

  base = stache_settings_get_http_url (settings, OLLAMA_SETTING_URL, OLLAMA_DEFAULT_URL, error);
  if (base == NULL)
    return NULL;

  client = stache_remote_provider_create_client (provider, settings, OLLAMA_PROVIDER_NAME, "Ollama", error);
  if (client == NULL)
    return NULL;

  *out_url = g_strconcat (base, path, NULL);
  *out_keep_alive = stache_settings_get_nonempty (settings, OLLAMA_SETTING_KEEP_ALIVE, NULL);

  return client;
}
