/* anthropic-common.c: settings, HTTP client and response checks of the
 * `anthropic` provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The provider talks to one base URL (setting `anthropic_base_url`, default
 * https://api.anthropic.com) with a key that the API requires (setting
 * `anthropic_api_key`, sent as `x-api-key: <key>`) and the API version it
 * was written for (setting `anthropic_version`, sent as
 * `anthropic-version`). Each provider instance has its own
 * StacheHttpClient, which does the retries, the timeouts and the redaction
 * of the key.
 */
#include <string.h>

#include <glib/gi18n-lib.h>

#include "anthropic-common.h"

/* ---- settings ---- */

/* Fails unless @value, the value of the header setting @key, can be sent
 * as a header value. The message never quotes the value: it may be the
 * key. */
static gboolean
check_header_value (StacheSettings  *settings,
                    const char      *key,
                    const char      *value,
                    GError         **error)
{
  g_autofree char *where = NULL;

  if (strpbrk (value, "\r\n") == NULL)
    return TRUE;

  where = stache_settings_describe_source (settings, key);
  /* The value is not quoted: it may be a secret */
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
               /* Translators: the first %s is a settings key, the second
                * where its value came from */
               _("Setting “%s” (from %s) contains a line break, which an HTTP header "
                 "cannot contain"),
               key, where);
  return FALSE;
}

/**
 * anthropic_client_new:
 * @provider: the provider the client is for, which keeps it
 * @settings: the provider's settings
 * @path: the endpoint under the base URL, such as "/v1/messages"
 * @out_url: (out): the full URL of the endpoint
 * @error: return location for a #GError
 *
 * Reads `anthropic_base_url`, `anthropic_api_key` and `anthropic_version`
 * and creates the HTTP client of one provider instance, with the key in
 * the `x-api-key` header, which the client redacts from every error
 * message. The key is required: without it this fails with
 * %STACHE_ERROR_INVALID_SETTING.
 *
 * Returns: (transfer none): the client, kept by @provider, or %NULL with @error set
 */
StacheHttpClient *
anthropic_client_new (StacheRemoteProvider  *provider,
                      StacheSettings        *settings,
                      const char            *path,
                      char                 **out_url,
                      GError               **error)
{
  g_autofree char *base = NULL;
  g_autofree char *version = NULL;
  StacheHttpClient *client;

  base = stache_settings_get_http_url (settings, ANTHROPIC_SETTING_BASE_URL, ANTHROPIC_DEFAULT_BASE_URL, error);
  if (base == NULL)
    return NULL;

  version = stache_settings_get_nonempty (settings, ANTHROPIC_SETTING_VERSION,
                                             ANTHROPIC_DEFAULT_VERSION);
  if (!check_header_value (settings, ANTHROPIC_SETTING_VERSION, version, error))
    return NULL;

  client = stache_remote_provider_create_client (provider, settings, ANTHROPIC_PROVIDER_NAME,
                                                 "Anthropic Messages", error);
  if (client == NULL ||
      !stache_remote_provider_set_api_key (provider, settings, ANTHROPIC_SETTING_API_KEY, "x-api-key", NULL,
                                           TRUE, error))
    return NULL;
  stache_http_client_set_header (client, "anthropic-version", version);

  *out_url = g_strconcat (base, path, NULL);

  return client;
}
