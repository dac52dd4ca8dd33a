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
 * @settings: the provider's settings
 * @path: the endpoint under the base URL, such as "/embeddings"
 * @out_url: (out): the full URL of the endpoint
 * @error: return location for a #GError
 *
 * Reads `openai_base_url` and `openai_api_key` and creates the HTTP client
 * of one provider instance, with the key as a bearer token that the client
 * redacts from every error message.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
StacheHttpClient *
openai_client_new (StacheSettings  *settings,
                   const char      *path,
                   char           **out_url,
                   GError         **error)
{
  g_autofree char *base = NULL;
  g_autofree char *key = NULL;
  g_autoptr(StacheHttpClient) client = NULL;

  base = stache_settings_get_http_url (settings, OPENAI_SETTING_BASE_URL, OPENAI_DEFAULT_BASE_URL, error);
  if (base == NULL)
    return NULL;

  key = stache_settings_get_nonempty (settings, OPENAI_SETTING_API_KEY, NULL);
  if (key != NULL && strpbrk (key, "\r\n") != NULL)
    {
      g_autofree char *where = stache_settings_describe_source (settings, OPENAI_SETTING_API_KEY);

      /* The value is a secret: never quoted */
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("Setting “%s” (from %s) contains a line break, which an API key "
                     "cannot contain"),
                   OPENAI_SETTING_API_KEY, where);
      return NULL;
    }

  client = stache_http_client_new (settings, OPENAI_PROVIDER_NAME, error);
  if (client == NULL)
    return NULL;
  stache_http_client_set_api_name (client, "OpenAI");

  if (key != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", key, NULL);

      /* set_header registers the header value as a secret; the key alone
       * is registered too, for a server that quotes only the key back. */
      stache_http_client_add_secret (client, key);
      stache_http_client_set_header (client, "Authorization", authorization);
    }

  *out_url = g_strconcat (base, path, NULL);

  return g_steal_pointer (&client);
}
