/* stache-remote-provider.c: the base class of providers that call a service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-error.h"
#include "stache-private.h"
#include "stache-remote-provider.h"

/**
 * StacheRemoteProvider:
 *
 * The base class of a provider that talks to a service over HTTP (the
 * built-in `openai`, `ollama`, `anthropic`, `cohere` and `qdrant` plugins
 * derive from it), so that a plugin is only the glue to its engine.
 *
 * It implements #GInitable: the first g_initable_init() calls the
 * subclass's #StacheRemoteProviderClass.setup once, with the provider's
 * settings (empty ones when it was made without any), and every later
 * call gives the same result, from any thread. In setup, a provider reads
 * its own settings (URL, model, API key) and creates its HTTP client with
 * stache_remote_provider_create_client(), which reads the `http_*`
 * settings (timeouts, retries, back-off; see #StacheHttpClient) and keeps
 * the client for stache_remote_provider_get_client().
 *
 * A `.plugin` file names those settings with one entry, `@http`, in its
 * `X-Stache-Settings` list, so `stache config` shows them for the plugin.
 */

typedef struct
{
  GMutex            lock;        /* guards the rest */
  gboolean          initialized;
  GError           *error;       /* of the first initialization */
  StacheHttpClient *client;
} StacheRemoteProviderPrivate;

static void stache_remote_provider_initable_iface_init (GInitableIface *iface);

G_DEFINE_ABSTRACT_TYPE_WITH_CODE (StacheRemoteProvider, stache_remote_provider, STACHE_TYPE_PROVIDER,
                                  G_ADD_PRIVATE (StacheRemoteProvider)
                                  G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                         stache_remote_provider_initable_iface_init))

static gboolean
stache_remote_provider_initable_init (GInitable     *initable,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  StacheRemoteProvider *self = STACHE_REMOTE_PROVIDER (initable);
  StacheRemoteProviderPrivate *priv = stache_remote_provider_get_instance_private (self);
  StacheRemoteProviderClass *klass = STACHE_REMOTE_PROVIDER_GET_CLASS (self);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&priv->lock);

  if (!priv->initialized)
    {
      StacheSettings *settings = stache_provider_get_settings (STACHE_PROVIDER (self));
      g_autoptr(StacheSettings) own_settings = NULL;

      if (settings == NULL)
        settings = own_settings = stache_settings_new ();

      if (klass->setup != NULL && !klass->setup (self, settings, cancellable, &priv->error) &&
          priv->error == NULL)
        g_set_error (&priv->error, STACHE_ERROR, STACHE_ERROR_FAILED,
                     _("Provider %s could not be set up and gave no reason"), G_OBJECT_TYPE_NAME (self));
      priv->initialized = TRUE;
    }

  if (priv->error != NULL)
    {
      g_propagate_error (error, g_error_copy (priv->error));
      return FALSE;
    }

  return TRUE;
}

static void
stache_remote_provider_initable_iface_init (GInitableIface *iface)
{
  iface->init = stache_remote_provider_initable_init;
}

static void
stache_remote_provider_finalize (GObject *object)
{
  StacheRemoteProviderPrivate *priv =
    stache_remote_provider_get_instance_private (STACHE_REMOTE_PROVIDER (object));

  g_clear_error (&priv->error);
  g_clear_object (&priv->client);
  g_mutex_clear (&priv->lock);

  G_OBJECT_CLASS (stache_remote_provider_parent_class)->finalize (object);
}

static void
stache_remote_provider_class_init (StacheRemoteProviderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = stache_remote_provider_finalize;
}

static void
stache_remote_provider_init (StacheRemoteProvider *self)
{
  StacheRemoteProviderPrivate *priv = stache_remote_provider_get_instance_private (self);

  g_mutex_init (&priv->lock);
}

/**
 * stache_remote_provider_create_client:
 * @self: a #StacheRemoteProvider
 * @settings: the settings to read the `http_*` keys from
 * @provider_name: the provider's name in debug lines and errors, such as
 *   `openai`
 * @api_name: (nullable): the service's name in error messages, such as
 *   `OpenAI`, or %NULL for @provider_name
 * @error: return location for a #GError
 *
 * Creates the provider's HTTP client (see stache_http_client_new()) and
 * keeps it: stache_remote_provider_get_client() returns it from then on.
 * Meant for #StacheRemoteProviderClass.setup; a second call replaces the
 * client.
 *
 * Returns: (transfer none): the client, or %NULL with @error set when an
 *   `http_*` setting is invalid
 */
StacheHttpClient *
stache_remote_provider_create_client (StacheRemoteProvider  *self,
                                      StacheSettings        *settings,
                                      const char            *provider_name,
                                      const char            *api_name,
                                      GError               **error)
{
  StacheRemoteProviderPrivate *priv;
  StacheHttpClient *client;

  g_return_val_if_fail (STACHE_IS_REMOTE_PROVIDER (self), NULL);
  g_return_val_if_fail (STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (provider_name != NULL, NULL);

  client = stache_http_client_new (settings, provider_name, error);
  if (client == NULL)
    return NULL;
  if (api_name != NULL)
    stache_http_client_set_api_name (client, api_name);

  priv = stache_remote_provider_get_instance_private (self);
  g_clear_object (&priv->client);
  priv->client = client;
  return client;
}

/**
 * stache_remote_provider_get_client:
 * @self: a #StacheRemoteProvider
 *
 * Gets the HTTP client that stache_remote_provider_create_client() made.
 *
 * Returns: (transfer none) (nullable): the client, or %NULL before setup
 */
StacheHttpClient *
stache_remote_provider_get_client (StacheRemoteProvider *self)
{
  StacheRemoteProviderPrivate *priv;

  g_return_val_if_fail (STACHE_IS_REMOTE_PROVIDER (self), NULL);

  priv = stache_remote_provider_get_instance_private (self);
  return priv->client;
}

/**
 * stache_remote_provider_set_api_key:
 * @self: a #StacheRemoteProvider whose client exists
 * @settings: the settings to read @key_setting from
 * @key_setting: the setting that holds the key, such as `openai_api_key`
 * @header: the header that carries it, such as `Authorization`
 * @prefix: (nullable): what goes before the key in the header, such as
 *   `Bearer `, or %NULL
 * @required: whether a missing key is an error
 * @error: return location for a #GError
 *
 * Reads an API key the way every remote provider should: a blank value is
 * no key; a key with a line break (which a header cannot hold) fails with
 * %STACHE_ERROR_INVALID_SETTING without quoting it; a missing key fails
 * only when @required, naming the setting and its environment variable.
 * The key and the header value become secrets of the client, so no error
 * or debug line shows them.
 *
 * Returns: %TRUE when the key was set or may be absent
 */
gboolean
stache_remote_provider_set_api_key (StacheRemoteProvider  *self,
                                    StacheSettings        *settings,
                                    const char            *key_setting,
                                    const char            *header,
                                    const char            *prefix,
                                    gboolean               required,
                                    GError               **error)
{
  StacheHttpClient *client;
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;

  g_return_val_if_fail (STACHE_IS_REMOTE_PROVIDER (self), FALSE);
  g_return_val_if_fail (STACHE_IS_SETTINGS (settings), FALSE);
  g_return_val_if_fail (key_setting != NULL && header != NULL, FALSE);

  client = stache_remote_provider_get_client (self);
  g_return_val_if_fail (client != NULL, FALSE);

  key = stache_settings_get_nonempty (settings, key_setting, NULL);
  if (key == NULL)
    {
      g_autofree char *env_name = NULL;

      if (!required)
        return TRUE;
      env_name = stache_settings_key_to_env_name (key_setting);
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   /* Translators: the first %s is a settings key, the second
                    * its environment variable */
                   _("No API key is set; set “%s” in the configuration or the environment variable %s"),
                   key_setting, env_name);
      return FALSE;
    }
  if (strpbrk (key, "\r\n") != NULL)
    {
      g_autofree char *where = stache_settings_describe_source (settings, key_setting);

      /* The value is a secret: never quoted */
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   /* Translators: the first %s is a settings key, the second
                    * where its value came from */
                   _("Setting “%s” (from %s) contains a line break, which an API key "
                     "cannot contain"),
                   key_setting, where);
      return FALSE;
    }

  /* set_header registers the header value as a secret; the key alone is
   * registered too, for a server that quotes only the key back. */
  value = g_strconcat (prefix != NULL ? prefix : "", key, NULL);
  stache_http_client_add_secret (client, key);
  stache_http_client_set_header (client, header, value);
  return TRUE;
}
