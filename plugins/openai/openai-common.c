/* openai-common.c: settings, HTTP client and response checks shared by the
 * `openai` providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both providers talk to one base URL (setting `openai_base_url`, default
 * https://api.openai.com/v1, which llama.cpp's server, vLLM, LM Studio and
 * LocalAI replace with their own `…/v1`) with an optional key (setting
 * `openai_api_key`, sent as `Authorization: Bearer <key>`; local servers
 * need none). Each provider instance has its own StacheHttpClient, which
 * does the retries, the timeouts and the redaction of the key.
 */
#include <string.h>

#include <glib/gi18n-lib.h>

#include "openai-common.h"

/* ---- settings ---- */

/**
 * openai_client_new:
 * @provider: the provider the client is for, which keeps it
 * @settings: the provider's settings
 * @path: the endpoint under the base URL, such as "/embeddings"
 * @out_url: (out): the full URL of the endpoint
 * @error: return location for a #GError
 *
 * Reads `openai_base_url` and `openai_api_key` and creates the HTTP client
 * of one provider instance, with the key as a bearer token that the client
 * redacts from every error message.
 *
 * Returns: (transfer none): the client, kept by @provider, or %NULL with @error set
 */
StacheHttpClient *
openai_client_new (StacheRemoteProvider  *provider,
                   StacheSettings        *settings,
                   const char            *path,
                   char                 **out_url,
                   GError               **error)
{
  g_autofree char *base = NULL;
  StacheHttpClient *client;

  base = stache_settings_get_http_url (settings, OPENAI_SETTING_BASE_URL, OPENAI_DEFAULT_BASE_URL, error);
  if (base == NULL)
    return NULL;

  client = stache_remote_provider_create_client (provider, settings, OPENAI_PROVIDER_NAME, "OpenAI", error);
  if (client == NULL ||
      !stache_remote_provider_set_api_key (provider, settings, OPENAI_SETTING_API_KEY, "Authorization",
                                           "Bearer ", FALSE, error))
    return NULL;

  *out_url = g_strconcat (base, path, NULL);

  return client;
}
