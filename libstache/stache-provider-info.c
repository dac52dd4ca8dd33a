/* stache-provider-info.c: what discovery found about one provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-provider-info-private.h"

/**
 * StacheProviderInfo:
 *
 * One provider that plugin discovery found: its type and name, the plugin
 * that declares it, where that plugin lives, and whether it can be used.
 *
 * A plugin that cannot be used is never dropped silently: it appears here
 * with %STACHE_PROVIDER_STATUS_FAILED or %STACHE_PROVIDER_STATUS_SHADOWED and
 * an error that says why. A `.plugin` file too broken to say what it
 * provides yields one entry without a type or name.
 *
 * Instances are created by #StachePluginLoader; see
 * stache_plugin_loader_list_providers().
 */

struct _StacheProviderInfo
{
  GObject               parent_instance;

  char                 *type_name;
  char                 *name;
  char                 *module_name;
  char                 *plugin_name;
  char                 *description;
  char                 *plugin_file;
  char                 *folder;
  char                 *loader;
  StacheProviderStatus  status;
  GError               *error;
};

G_DEFINE_FINAL_TYPE (StacheProviderInfo, stache_provider_info, G_TYPE_OBJECT)

static void
stache_provider_info_finalize (GObject *object)
{
  StacheProviderInfo *self = STACHE_PROVIDER_INFO (object);

  g_free (self->type_name);
  g_free (self->name);
  g_free (self->module_name);
  g_free (self->plugin_name);
  g_free (self->description);
  g_free (self->plugin_file);
  g_free (self->folder);
  g_free (self->loader);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (stache_provider_info_parent_class)->finalize (object);
}

static void
stache_provider_info_class_init (StacheProviderInfoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = stache_provider_info_finalize;
}

static void
stache_provider_info_init (StacheProviderInfo *self)
{
}

StacheProviderInfo *
_stache_provider_info_new (const char *type_name,
                           const char *name,
                           const char *module_name,
                           const char *plugin_name,
                           const char *description,
                           const char *plugin_file,
                           const char *folder,
                           const char *loader)
{
  StacheProviderInfo *self = g_object_new (STACHE_TYPE_PROVIDER_INFO, NULL);

  self->type_name = g_strdup (type_name);
  self->name = g_strdup (name);
  self->module_name = g_strdup (module_name);
  self->plugin_name = g_strdup (plugin_name);
  self->description = g_strdup (description);
  self->plugin_file = g_strdup (plugin_file);
  self->folder = g_strdup (folder);
  self->loader = g_strdup (loader);
  self->status = STACHE_PROVIDER_STATUS_FOUND;

  return self;
}

void
_stache_provider_info_set_status (StacheProviderInfo   *self,
                                  StacheProviderStatus  status,
                                  const GError         *error)
{
  self->status = status;
  g_clear_error (&self->error);
  if (error != NULL)
    self->error = g_error_copy (error);
}

/**
 * stache_provider_info_get_type_name:
 * @self: a #StacheProviderInfo
 *
 * Gets the extension point name of the provider (`vectordb`, `llm`, …).
 *
 * Returns: (nullable): the type name, or %NULL if the `.plugin` file could
 *   not be read far enough to tell
 */
const char *
stache_provider_info_get_type_name (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->type_name;
}

/**
 * stache_provider_info_get_provider_type:
 * @self: a #StacheProviderInfo
 * @out_type: (out) (optional): where to store the provider type
 *
 * Gets the provider type, when the `.plugin` file names a known one.
 *
 * Returns: %TRUE if @out_type was set
 */
gboolean
stache_provider_info_get_provider_type (StacheProviderInfo *self,
                                        StacheProviderType *out_type)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), FALSE);

  if (self->type_name == NULL)
    return FALSE;

  return stache_provider_type_from_string (self->type_name, out_type);
}

/**
 * stache_provider_info_get_name:
 * @self: a #StacheProviderInfo
 *
 * Gets the provider name, the value a `<type>_provider` setting selects.
 *
 * Returns: (nullable): the name, or %NULL if unknown
 */
const char *
stache_provider_info_get_name (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->name;
}

/**
 * stache_provider_info_get_module_name:
 * @self: a #StacheProviderInfo
 *
 * Gets the `Module` of the plugin declaring the provider.
 *
 * Returns: (nullable): the module name
 */
const char *
stache_provider_info_get_module_name (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->module_name;
}

/**
 * stache_provider_info_get_plugin_name:
 * @self: a #StacheProviderInfo
 *
 * Gets the human-readable `Name` of the plugin.
 *
 * Returns: (nullable): the plugin name
 */
const char *
stache_provider_info_get_plugin_name (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->plugin_name;
}

/**
 * stache_provider_info_get_description:
 * @self: a #StacheProviderInfo
 *
 * Gets the `Description` of the plugin.
 *
 * Returns: (nullable): the description
 */
const char *
stache_provider_info_get_description (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->description;
}

/**
 * stache_provider_info_get_plugin_file:
 * @self: a #StacheProviderInfo
 *
 * Gets the path of the `.plugin` file.
 *
 * Returns: (type filename): the path
 */
const char *
stache_provider_info_get_plugin_file (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->plugin_file;
}

/**
 * stache_provider_info_get_folder:
 * @self: a #StacheProviderInfo
 *
 * Gets the folder holding the plugin's `.plugin` file and module.
 *
 * Returns: (type filename): the folder
 */
const char *
stache_provider_info_get_folder (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->folder;
}

/**
 * stache_provider_info_get_loader:
 * @self: a #StacheProviderInfo
 *
 * Gets the libpeas loader the plugin needs: `c`, `python3` or `lua5.1`.
 *
 * Returns: (nullable): the loader name
 */
const char *
stache_provider_info_get_loader (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->loader;
}

/**
 * stache_provider_info_get_status:
 * @self: a #StacheProviderInfo
 *
 * Gets whether the provider can be used.
 *
 * Returns: the status
 */
StacheProviderStatus
stache_provider_info_get_status (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), STACHE_PROVIDER_STATUS_FAILED);
  return self->status;
}

/**
 * stache_provider_info_get_error:
 * @self: a #StacheProviderInfo
 *
 * Gets why the provider cannot be used, in the %STACHE_PLUGIN_ERROR domain.
 *
 * Returns: (nullable) (transfer none): the error, or %NULL
 */
const GError *
stache_provider_info_get_error (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->error;
}

/**
 * stache_provider_info_get_reason:
 * @self: a #StacheProviderInfo
 *
 * Gets the message of stache_provider_info_get_error().
 *
 * Returns: (nullable): why the provider cannot be used, or %NULL
 */
const char *
stache_provider_info_get_reason (StacheProviderInfo *self)
{
  g_return_val_if_fail (STACHE_IS_PROVIDER_INFO (self), NULL);
  return self->error != NULL ? self->error->message : NULL;
}

/**
 * stache_provider_status_to_string:
 * @status: a #StacheProviderStatus
 *
 * Gets a stable, untranslated name for @status, as printed by
 * `stache plugins --json`: `found`, `loaded`, `failed` or `shadowed`.
 *
 * Returns: the name
 */
const char *
stache_provider_status_to_string (StacheProviderStatus status)
{
  switch (status)
    {
    case STACHE_PROVIDER_STATUS_FOUND:
      return "found";
    case STACHE_PROVIDER_STATUS_LOADED:
      return "loaded";
    case STACHE_PROVIDER_STATUS_FAILED:
      return "failed";
    case STACHE_PROVIDER_STATUS_SHADOWED:
      return "shadowed";
    default:
      g_return_val_if_reached (NULL);
    }
}
