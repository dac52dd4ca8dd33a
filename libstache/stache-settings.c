/* stache-settings.c: configuration lookup
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stache-error.h"
#include "stache-private.h"
#include "stache-settings.h"

/**
 * StacheSettings:
 *
 * Configuration for Stache and its plugins.
 *
 * A setting is looked up by key, a lower-case name such as `vectordb_provider`
 * or `milvus_uri`. The first of these that holds a value wins:
 *
 * 1. a value set from code with stache_settings_set_string(),
 * 2. the environment variable named after the key in upper case
 *    (`VECTORDB_PROVIDER`, `MILVUS_URI`); an empty variable counts as unset,
 * 3. the key in the `[stache]` group of the configuration file,
 *    `$XDG_CONFIG_HOME/stache/stache.conf` by default,
 * 4. the key's default.
 *
 * Any key works, so a plugin reads its own configuration without changes to
 * the core. Typed getters refuse a malformed value with a #GError that names
 * the key and where the value came from, rather than falling back to a
 * default silently.
 *
 * Keys that end in `_key`, `_token`, `_password` or `_secret` are secrets:
 * their values are never included in messages, and
 * stache_settings_get_display_value() redacts them.
 *
 * A #StacheSettings may be read from several threads at once.
 */

#define MAX_KEY_LENGTH 128
#define REDACTED "********"

struct _StacheSettings
{
  GObject     parent_instance;

  GMutex      mutex;
  GHashTable *explicit_values;   /* key → value */
  GHashTable *defaults;          /* key → value or NULL for "known, no default" */
  GKeyFile   *keyfile;           /* NULL when there is no readable file */
  char       *config_path;       /* NULL when settings ignore files */
  GError     *config_error;      /* why the config file could not be read */
};

G_DEFINE_FINAL_TYPE (StacheSettings, stache_settings, G_TYPE_OBJECT)

#define CONFIG_GROUP "stache"

static const struct {
  const char *key;
  const char *value;
} builtin_defaults[] = {
  { "llm_provider", "extractive" },
  { "embedding_provider", "hashing" },
  { "vectordb_provider", "sqlite" },
  { "namespace_provider", "sqlite" },
  { "reranker_provider", "simple" },
  { "document_index_provider", "sqlite" },
  /* The pipeline (StacheStore) */
  { "chunk_size", G_STRINGIFY (STACHE_DEFAULT_CHUNK_SIZE) },
  { "chunk_overlap", G_STRINGIFY (STACHE_DEFAULT_CHUNK_OVERLAP) },
  { "max_file_size", G_STRINGIFY (STACHE_DEFAULT_MAX_FILE_SIZE) },
  { "search_top_k", G_STRINGIFY (STACHE_DEFAULT_SEARCH_TOP_K) },
  { "search_candidates", G_STRINGIFY (STACHE_DEFAULT_SEARCH_CANDIDATES) },
  { "hybrid_vector_weight", G_STRINGIFY (STACHE_DEFAULT_HYBRID_VECTOR_WEIGHT) },
  { "hybrid_rrf_k", G_STRINGIFY (STACHE_DEFAULT_HYBRID_RRF_K) },
  { "hybrid_document_weight", G_STRINGIFY (STACHE_DEFAULT_HYBRID_DOCUMENT_WEIGHT) },
  /* Words: the keyword index, the hashing embedder, the simple reranker */
  { "text_language", STACHE_DEFAULT_TEXT_LANGUAGE },
  /* The HTTP client of remote providers (StacheHttpClient) */
  { "http_connect_timeout", G_STRINGIFY (STACHE_DEFAULT_HTTP_CONNECT_TIMEOUT) },
  { "http_timeout", G_STRINGIFY (STACHE_DEFAULT_HTTP_TIMEOUT) },
  { "http_max_retries", G_STRINGIFY (STACHE_DEFAULT_HTTP_MAX_RETRIES) },
  { "http_retry_budget", G_STRINGIFY (STACHE_DEFAULT_HTTP_RETRY_BUDGET) },
  { "http_backoff_ms", G_STRINGIFY (STACHE_DEFAULT_HTTP_BACKOFF_MS) },
};

static void
stache_settings_finalize (GObject *object)
{
  StacheSettings *self = STACHE_SETTINGS (object);

  g_clear_pointer (&self->explicit_values, g_hash_table_unref);
  g_clear_pointer (&self->defaults, g_hash_table_unref);
  g_clear_pointer (&self->keyfile, g_key_file_unref);
  g_clear_pointer (&self->config_path, g_free);
  g_clear_error (&self->config_error);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (stache_settings_parent_class)->finalize (object);
}

static void
stache_settings_class_init (StacheSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  _stache_i18n_init ();

  object_class->finalize = stache_settings_finalize;
}

static void
stache_settings_init (StacheSettings *self)
{
  g_mutex_init (&self->mutex);
  self->explicit_values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->defaults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < G_N_ELEMENTS (builtin_defaults); i++)
    g_hash_table_insert (self->defaults,
                         g_strdup (builtin_defaults[i].key),
                         g_strdup (builtin_defaults[i].value));
}

/**
 * stache_settings_is_valid_key:
 * @key: a candidate settings key
 *
 * Checks that @key is a settings key: 1 to 128 characters, a lower-case ASCII
 * letter first, then lower-case letters, digits and underscores.
 *
 * Returns: %TRUE if @key is valid
 */
gboolean
stache_settings_is_valid_key (const char *key)
{
  gsize len;

  if (key == NULL || !g_ascii_islower (key[0]))
    return FALSE;

  len = strlen (key);
  if (len > MAX_KEY_LENGTH)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_islower (key[i]) && !g_ascii_isdigit (key[i]) && key[i] != '_')
        return FALSE;
    }

  return TRUE;
}

/**
 * stache_settings_is_secret_key:
 * @key: a settings key
 *
 * Checks whether @key holds a secret: its name ends in `_key`, `_token`,
 * `_password` or `_secret` (or is one of those words). Secret values are never
 * printed.
 *
 * Returns: %TRUE if values of @key must be redacted
 */
gboolean
stache_settings_is_secret_key (const char *key)
{
  static const char *suffixes[] = { "key", "token", "password", "secret" };

  g_return_val_if_fail (key != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      gsize key_len = strlen (key);
      gsize suffix_len = strlen (suffixes[i]);

      if (g_ascii_strcasecmp (key, suffixes[i]) == 0)
        return TRUE;

      if (key_len > suffix_len &&
          key[key_len - suffix_len - 1] == '_' &&
          g_ascii_strcasecmp (key + key_len - suffix_len, suffixes[i]) == 0)
        return TRUE;
    }

  return FALSE;
}

/**
 * stache_settings_key_to_env_name:
 * @key: a settings key such as `milvus_uri`
 *
 * Gets the environment variable that sets @key: the key in upper case.
 *
 * Returns: (transfer full): the variable name, such as `MILVUS_URI`
 */
char *
stache_settings_key_to_env_name (const char *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return g_ascii_strup (key, -1);
}

static char *
default_config_path (void)
{
  const char *config_home = g_getenv ("XDG_CONFIG_HOME");

  /* Read the variable each time rather than g_get_user_config_dir(), which
   * caches its first answer for the life of the process. */
  if (config_home == NULL || config_home[0] == '\0' || !g_path_is_absolute (config_home))
    return g_build_filename (g_get_home_dir (), ".config", "stache", "stache.conf", NULL);

  return g_build_filename (config_home, "stache", "stache.conf", NULL);
}

static gboolean
load_config_file (StacheSettings  *self,
                  const char      *path,
                  gboolean         must_exist,
                  GError         **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;

  self->config_path = g_strdup (path);

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local_error))
    {
      if (!must_exist && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_CONFIG_FILE,
                   _("Could not read the configuration file “%s”: %s"),
                   path, local_error->message);
      return FALSE;
    }

  self->keyfile = g_steal_pointer (&keyfile);
  return TRUE;
}

/**
 * stache_settings_new:
 *
 * Creates settings that read the environment and the configuration file
 * `$XDG_CONFIG_HOME/stache/stache.conf` (which need not exist).
 *
 * A configuration file that exists but cannot be parsed does not make this
 * fail; stache_settings_check() reports it, and the factories call that
 * before creating a provider.
 *
 * Returns: (transfer full): new settings
 */
StacheSettings *
stache_settings_new (void)
{
  StacheSettings *self = g_object_new (STACHE_TYPE_SETTINGS, NULL);
  g_autofree char *path = default_config_path ();

  load_config_file (self, path, FALSE, &self->config_error);

  return self;
}

/**
 * stache_settings_new_from_file:
 * @path: (type filename) (nullable): a configuration file, or %NULL for none
 * @error: return location for a #GError
 *
 * Creates settings that read the environment and the `[stache]` group of
 * @path. With %NULL, no file is read at all, which isolates a program (or a
 * test) from the user's configuration.
 *
 * Returns: (transfer full): new settings, or %NULL if @path cannot be read
 *   or parsed
 */
StacheSettings *
stache_settings_new_from_file (const char  *path,
                               GError     **error)
{
  g_autoptr(StacheSettings) self = g_object_new (STACHE_TYPE_SETTINGS, NULL);

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (path != NULL && !load_config_file (self, path, TRUE, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * stache_settings_check:
 * @self: a #StacheSettings
 * @error: return location for a #GError
 *
 * Reports a configuration file that exists but could not be read, with
 * %STACHE_ERROR_CONFIG_FILE and the parser's message.
 *
 * Returns: %TRUE if the settings are usable
 */
gboolean
stache_settings_check (StacheSettings  *self,
                       GError         **error)
{
  g_return_val_if_fail (STACHE_IS_SETTINGS (self), FALSE);

  if (self->config_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->config_error));
      return FALSE;
    }

  return TRUE;
}

/**
 * stache_settings_get_config_path:
 * @self: a #StacheSettings
 *
 * Gets the configuration file these settings read, whether or not it exists.
 *
 * Returns: (type filename) (nullable): the path, or %NULL if no file is read
 */
const char *
stache_settings_get_config_path (StacheSettings *self)
{
  g_return_val_if_fail (STACHE_IS_SETTINGS (self), NULL);

  return self->config_path;
}

/**
 * stache_settings_set_string:
 * @self: a #StacheSettings
 * @key: a settings key
 * @value: (nullable): the value, or %NULL to remove the explicit value
 *
 * Sets @key explicitly. An explicit value wins over the environment, the
 * configuration file and the default.
 */
void
stache_settings_set_string (StacheSettings *self,
                            const char     *key,
                            const char     *value)
{
  g_return_if_fail (STACHE_IS_SETTINGS (self));
  g_return_if_fail (stache_settings_is_valid_key (key));

  g_mutex_lock (&self->mutex);
  if (value != NULL)
    g_hash_table_insert (self->explicit_values, g_strdup (key), g_strdup (value));
  else
    g_hash_table_remove (self->explicit_values, key);
  g_mutex_unlock (&self->mutex);
}

/**
 * stache_settings_set_default:
 * @self: a #StacheSettings
 * @key: a settings key
 * @value: (nullable): the default, or %NULL for a known key without default
 *
 * Sets the value @key has when nothing else sets it. Declaring a key this way,
 * even with a %NULL default, also makes stache_settings_list_keys() list it.
 */
void
stache_settings_set_default (StacheSettings *self,
                             const char     *key,
                             const char     *value)
{
  g_return_if_fail (STACHE_IS_SETTINGS (self));
  g_return_if_fail (stache_settings_is_valid_key (key));

  g_mutex_lock (&self->mutex);
  g_hash_table_insert (self->defaults, g_strdup (key), g_strdup (value));
  g_mutex_unlock (&self->mutex);
}

/* Resolves @key; the caller holds the mutex. */
static char *
lookup_locked (StacheSettings      *self,
               const char          *key,
               StacheSettingSource *out_source)
{
  const char *value;
  g_autofree char *env_name = NULL;

  if ((value = g_hash_table_lookup (self->explicit_values, key)) != NULL)
    {
      *out_source = STACHE_SETTING_SOURCE_EXPLICIT;
      return g_strdup (value);
    }

  env_name = stache_settings_key_to_env_name (key);
  if ((value = g_getenv (env_name)) != NULL && value[0] != '\0')
    {
      *out_source = STACHE_SETTING_SOURCE_ENVIRONMENT;
      return g_strdup (value);
    }

  if (self->keyfile != NULL)
    {
      char *file_value = g_key_file_get_string (self->keyfile, CONFIG_GROUP, key, NULL);

      if (file_value != NULL)
        {
          *out_source = STACHE_SETTING_SOURCE_CONFIG_FILE;
          return file_value;
        }
    }

  if ((value = g_hash_table_lookup (self->defaults, key)) != NULL)
    {
      *out_source = STACHE_SETTING_SOURCE_DEFAULT;
      return g_strdup (value);
    }

  *out_source = STACHE_SETTING_SOURCE_UNSET;
  return NULL;
}

static char *
lookup (StacheSettings      *self,
        const char          *key,
        StacheSettingSource *out_source)
{
  StacheSettingSource source;
  char *value;

  g_mutex_lock (&self->mutex);
  value = lookup_locked (self, key, &source);
  g_mutex_unlock (&self->mutex);

  if (out_source)
    *out_source = source;

  return value;
}

static char *
describe_source (StacheSettings      *self,
                 const char          *key,
                 StacheSettingSource  source)
{
  g_autofree char *env_name = NULL;

  switch (source)
    {
    case STACHE_SETTING_SOURCE_EXPLICIT:
      return g_strdup (_("set by the application"));

    case STACHE_SETTING_SOURCE_ENVIRONMENT:
      env_name = stache_settings_key_to_env_name (key);
      return g_strdup_printf (_("environment variable %s"), env_name);

    case STACHE_SETTING_SOURCE_CONFIG_FILE:
      return g_strdup_printf (_("configuration file %s"), self->config_path);

    case STACHE_SETTING_SOURCE_DEFAULT:
      return g_strdup (_("default"));

    case STACHE_SETTING_SOURCE_UNSET:
    default:
      return g_strdup (_("not set"));
    }
}

/**
 * stache_settings_get_string:
 * @self: a #StacheSettings
 * @key: a settings key such as `milvus_uri`
 * @default_value: (nullable): the value to return when @key is not set
 *
 * Gets the value of @key as a string.
 *
 * Returns: (transfer full) (nullable): the value, or a copy of @default_value
 */
char *
stache_settings_get_string (StacheSettings *self,
                            const char     *key,
                            const char     *default_value)
{
  char *value;

  g_return_val_if_fail (STACHE_IS_SETTINGS (self), NULL);
  g_return_val_if_fail (stache_settings_is_valid_key (key), NULL);

  value = lookup (self, key, NULL);
  if (value == NULL)
    return g_strdup (default_value);

  return value;
}

static void
set_malformed_error (StacheSettings       *self,
                     GError              **error,
                     const char           *key,
                     StacheSettingSource   source,
                     const char           *value,
                     const char           *expected)
{
  g_autofree char *where = describe_source (self, key, source);

  if (stache_settings_is_secret_key (key))
    g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                 /* Translators: the first %s is a settings key, the second
                  * where its value came from, the third what it should be */
                 _("Setting “%s” (from %s) is not %s"),
                 key, where, expected);
  else
    {
      g_autofree char *shown = _stache_redact_url (value);

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("Setting “%s” (from %s) has the value “%s”, which is not %s"),
                   key, where, shown, expected);
    }
}

/**
 * stache_settings_get_int:
 * @self: a #StacheSettings
 * @key: a settings key such as `chunk_size`
 * @default_value: the value to return when @key is not set
 * @error: return location for a #GError
 *
 * Gets the value of @key as a decimal integer. A value that is not one (such
 * as `CHUNK_SIZE=abc`) is %STACHE_ERROR_INVALID_SETTING, with a message that
 * names the key and the variable or file it came from.
 *
 * Returns: the value, @default_value if unset, or 0 with @error set
 */
gint64
stache_settings_get_int (StacheSettings  *self,
                         const char      *key,
                         gint64           default_value,
                         GError         **error)
{
  g_autofree char *value = NULL;
  g_autofree char *stripped = NULL;
  StacheSettingSource source;
  gint64 result;

  g_return_val_if_fail (STACHE_IS_SETTINGS (self), 0);
  g_return_val_if_fail (stache_settings_is_valid_key (key), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  value = lookup (self, key, &source);
  if (value == NULL)
    return default_value;

  stripped = g_strstrip (g_strdup (value));
  if (!g_ascii_string_to_signed (stripped, 10, G_MININT64, G_MAXINT64, &result, NULL))
    {
      set_malformed_error (self, error, key, source, value, _("an integer"));
      return 0;
    }

  return result;
}

/**
 * stache_settings_get_double:
 * @self: a #StacheSettings
 * @key: a settings key such as `temperature`
 * @default_value: the value to return when @key is not set
 * @error: return location for a #GError
 *
 * Gets the value of @key as a finite floating-point number, written with a
 * `.` decimal point whatever the locale.
 *
 * Returns: the value, @default_value if unset, or 0 with @error set
 */
double
stache_settings_get_double (StacheSettings  *self,
                            const char      *key,
                            double           default_value,
                            GError         **error)
{
  g_autofree char *value = NULL;
  g_autofree char *stripped = NULL;
  StacheSettingSource source;
  char *end = NULL;
  double result;

  g_return_val_if_fail (STACHE_IS_SETTINGS (self), 0);
  g_return_val_if_fail (stache_settings_is_valid_key (key), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  value = lookup (self, key, &source);
  if (value == NULL)
    return default_value;

  stripped = g_strstrip (g_strdup (value));
  errno = 0;
  result = g_ascii_strtod (stripped, &end);
  if (stripped[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || !isfinite (result))
    {
      set_malformed_error (self, error, key, source, value, _("a number"));
      return 0;
    }

  return result;
}

/**
 * stache_settings_get_boolean:
 * @self: a #StacheSettings
 * @key: a settings key
 * @default_value: the value to return when @key is not set
 * @error: return location for a #GError
 *
 * Gets the value of @key as a boolean: `true`, `yes`, `on` or `1`, and
 * `false`, `no`, `off` or `0`, in any case.
 *
 * Returns: the value, @default_value if unset, or %FALSE with @error set
 */
gboolean
stache_settings_get_boolean (StacheSettings  *self,
                             const char      *key,
                             gboolean         default_value,
                             GError         **error)
{
  static const char *truths[] = { "true", "yes", "on", "1" };
  static const char *falsehoods[] = { "false", "no", "off", "0" };
  g_autofree char *value = NULL;
  g_autofree char *stripped = NULL;
  StacheSettingSource source;

  g_return_val_if_fail (STACHE_IS_SETTINGS (self), FALSE);
  g_return_val_if_fail (stache_settings_is_valid_key (key), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  value = lookup (self, key, &source);
  if (value == NULL)
    return default_value;

  stripped = g_strstrip (g_strdup (value));
  for (guint i = 0; i < G_N_ELEMENTS (truths); i++)
    {
      if (g_ascii_strcasecmp (stripped, truths[i]) == 0)
        return TRUE;
      if (g_ascii_strcasecmp (stripped, falsehoods[i]) == 0)
        return FALSE;
    }

  set_malformed_error (self, error, key, source, value, _("a boolean (true or false)"));
  return FALSE;
}

/**
 * stache_settings_get_nonempty:
 * @self: a #StacheSettings
 * @key: a settings key
 * @default_value: (nullable): the value to return when @key is unset or
 *   blank
 *
 * Gets the value of @key with surrounding white space removed. Unlike
 * stache_settings_get_string(), a blank value counts as unset wherever it
 * comes from: an empty line in a configuration file, like an empty
 * environment variable, leaves the default in force.
 *
 * Returns: (transfer full) (nullable): the value, or a copy of
 *   @default_value
 */
char *
stache_settings_get_nonempty (StacheSettings *self,
                              const char     *key,
                              const char     *default_value)
{
  g_autofree char *value = stache_settings_get_string (self, key, NULL);

  if (value == NULL || *g_strstrip (value) == '\0')
    return g_strdup (default_value);

  return g_steal_pointer (&value);
}

/**
 * stache_settings_get_int_range:
 * @self: a #StacheSettings
 * @key: a settings key
 * @default_value: the value when @key is unset or blank
 * @min: the smallest value allowed
 * @max: the largest value allowed
 * @out_value: (out): where to store the value
 * @error: return location for a #GError
 *
 * Gets the value of @key as an integer from @min to @max. A malformed
 * value or one out of range is %STACHE_ERROR_INVALID_SETTING naming the key
 * and where the value came from.
 *
 * Returns: %TRUE if @out_value was set
 */
gboolean
stache_settings_get_int_range (StacheSettings  *self,
                               const char      *key,
                               gint64           default_value,
                               gint64           min,
                               gint64           max,
                               gint64          *out_value,
                               GError         **error)
{
  g_autofree char *text = stache_settings_get_nonempty (self, key, NULL);
  GError *local_error = NULL;
  gint64 value;

  g_return_val_if_fail (out_value != NULL, FALSE);

  if (text == NULL)
    {
      *out_value = default_value;
      return TRUE;
    }

  value = stache_settings_get_int (self, key, default_value, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (value < min || value > max)
    {
      g_autofree char *where = stache_settings_describe_source (self, key);

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   /* Translators: the first %s is a settings key, the second
                    * where its value came from, the third the value */
                   _("Setting “%s” (from %s) has the value “%s”, which is not a whole "
                     "number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT),
                   key, where, text, min, max);
      return FALSE;
    }

  *out_value = value;
  return TRUE;
}

/**
 * stache_settings_get_http_url:
 * @self: a #StacheSettings
 * @key: a settings key such as `ollama_url`
 * @default_value: the URL when @key is unset or blank
 * @error: return location for a #GError
 *
 * Gets the base URL of a service: an http:// or https:// URL with a host
 * and without a query or fragment, returned without trailing slashes so
 * paths can be appended. A bad value is %STACHE_ERROR_INVALID_SETTING
 * naming the key, its variable and where it came from; a user name and
 * password in the URL are never shown.
 *
 * Returns: (transfer full): the URL, or %NULL with @error set
 */
char *
stache_settings_get_http_url (StacheSettings  *self,
                              const char      *key,
                              const char      *default_value,
                              GError         **error)
{
  g_autofree char *text = stache_settings_get_nonempty (self, key, default_value);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) parse_error = NULL;
  const char *reason = NULL;
  const char *scheme;
  gsize len;

  g_return_val_if_fail (default_value != NULL, NULL);

  uri = g_uri_parse (text, G_URI_FLAGS_NONE, &parse_error);
  if (uri == NULL)
    reason = parse_error->message;
  else if ((scheme = g_uri_get_scheme (uri)) == NULL ||
           (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    reason = _("only http:// and https:// URLs are supported");
  else if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    reason = _("it names no host");
  else if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    reason = _("a base URL cannot have a query (“?…”) or a fragment (“#…”)");

  if (reason != NULL)
    {
      g_autofree char *env_name = stache_settings_key_to_env_name (key);
      g_autofree char *where = stache_settings_describe_source (self, key);
      g_autofree char *shown = _stache_redact_url (text);

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   /* Translators: the first %s is a settings key, the second
                    * its environment variable, the third where its value came
                    * from, the fourth the value and the last why it is wrong */
                   _("Setting “%s” (%s, from %s) has the value “%s”, which is not a usable "
                     "http:// or https:// URL: %s"),
                   key, env_name, where, shown, reason);
      return NULL;
    }

  len = strlen (text);
  while (len > 0 && text[len - 1] == '/')
    len--;

  return g_strndup (text, len);
}

/**
 * stache_settings_get_string_list:
 * @self: a #StacheSettings
 * @key: a settings key such as `llm_fallback_providers`
 *
 * Gets the value of @key as a list: items are separated by commas or
 * semicolons, surrounding white space is dropped and so are empty items.
 *
 * Returns: (transfer full) (array zero-terminated=1): the items, empty if
 *   @key is not set
 */
char **
stache_settings_get_string_list (StacheSettings *self,
                                 const char     *key)
{
  g_autofree char *value = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) parts = NULL;

  g_return_val_if_fail (STACHE_IS_SETTINGS (self), NULL);
  g_return_val_if_fail (stache_settings_is_valid_key (key), NULL);

  value = lookup (self, key, NULL);
  if (value == NULL)
    return g_strv_builder_end (builder);

  parts = g_strsplit_set (value, ",;", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] != '\0')
        g_strv_builder_add (builder, parts[i]);
    }

  return g_strv_builder_end (builder);
}

/**
 * stache_settings_get_source:
 * @self: a #StacheSettings
 * @key: a settings key
 *
 * Tells where the effective value of @key comes from.
 *
 * Returns: the source of the value
 */
StacheSettingSource
stache_settings_get_source (StacheSettings *self,
                            const char     *key)
{
  g_autofree char *value = NULL;
  StacheSettingSource source;

  g_return_val_if_fail (STACHE_IS_SETTINGS (self), STACHE_SETTING_SOURCE_UNSET);
  g_return_val_if_fail (stache_settings_is_valid_key (key), STACHE_SETTING_SOURCE_UNSET);

  value = lookup (self, key, &source);

  return source;
}

/**
 * stache_settings_describe_source:
 * @self: a #StacheSettings
 * @key: a settings key
 *
 * Describes where the effective value of @key comes from, for people:
 * "environment variable MILVUS_URI", "configuration file /home/…/stache.conf",
 * "default", …
 *
 * Returns: (transfer full): a translated description
 */
char *
stache_settings_describe_source (StacheSettings *self,
                                 const char     *key)
{
  g_return_val_if_fail (STACHE_IS_SETTINGS (self), NULL);
  g_return_val_if_fail (stache_settings_is_valid_key (key), NULL);

  return describe_source (self, key, stache_settings_get_source (self, key));
}

gboolean
_stache_is_secret_parameter (const char *name,
                             gsize       length)
{
  static const char *words[] = {
    "key", "token", "secret", "password", "passwd", "pwd", "sig", "signature", "auth", "credential",
  };
  g_autofree char *lower = g_ascii_strdown (name, (gssize) length);

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (strstr (lower, words[i]) != NULL)
      return TRUE;

  return FALSE;
}

char *
_stache_redact_url (const char *text)
{
  const char *scheme_end, *authority, *authority_end, *at, *query;
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  scheme_end = strstr (text, "://");
  if (scheme_end == NULL)
    return g_strdup (text);

  out = g_string_new (NULL);
  authority = scheme_end + 3;
  authority_end = authority + strcspn (authority, "/?#");
  g_string_append_len (out, text, authority - text);

  /* The user information: "user:password@" or "token@" */
  at = memchr (authority, '@', (gsize) (authority_end - authority));
  if (at != NULL)
    {
      while (memchr (at + 1, '@', (gsize) (authority_end - at - 1)) != NULL)
        at = memchr (at + 1, '@', (gsize) (authority_end - at - 1));
      {
        const char *colon = memchr (authority, ':', (gsize) (at - authority));

        if (colon != NULL)
          g_string_append_len (out, authority, colon - authority + 1);
        g_string_append (out, REDACTED "@");
        authority = at + 1;
      }
    }

  /* The path, then the query parameter by parameter */
  query = strchr (authority, '?');
  if (query == NULL)
    {
      g_string_append (out, authority);
      return g_string_free (out, FALSE);
    }
  g_string_append_len (out, authority, query + 1 - authority);
  for (const char *p = query + 1; *p != '\0' && *p != '#';)
    {
      gsize length = strcspn (p, "&#");
      const char *equals = memchr (p, '=', length);

      if (equals != NULL && _stache_is_secret_parameter (p, (gsize) (equals - p)))
        {
          g_string_append_len (out, p, equals + 1 - p);
          g_string_append (out, REDACTED);
        }
      else
        g_string_append_len (out, p, length);
      p += length;
      if (*p == '&')
        {
          g_string_append_c (out, '&');
          p++;
        }
      else if (*p == '#')
        {
          g_string_append (out, p);
          break;
        }
    }

  return g_string_free (out, FALSE);
}

/**
 * stache_settings_get_display_value:
 * @self: a #StacheSettings
 * @key: a settings key
 *
 * Gets the value of @key fit to show: the value itself, or `********` when
 * @key is a secret (see stache_settings_is_secret_key()).
 *
 * Returns: (transfer full) (nullable): the value to show, or %NULL if unset
 */
char *
stache_settings_get_display_value (StacheSettings *self,
                                   const char     *key)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (STACHE_IS_SETTINGS (self), NULL);
  g_return_val_if_fail (stache_settings_is_valid_key (key), NULL);

  value = lookup (self, key, NULL);
  if (value == NULL)
    return NULL;

  if (stache_settings_is_secret_key (key))
    return g_strdup (REDACTED);

  /* A URL may carry a password or a key of its own */
  return _stache_redact_url (value);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/**
 * stache_settings_list_keys:
 * @self: a #StacheSettings
 *
 * Lists the keys these settings know of: those with a default or declared
 * with stache_settings_set_default(), those in the configuration file and
 * those set explicitly. Environment variables are only consulted for known
 * keys, so they do not add keys here.
 *
 * Returns: (transfer full) (array zero-terminated=1): the keys, sorted
 */
char **
stache_settings_list_keys (StacheSettings *self)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (STACHE_IS_SETTINGS (self), NULL);

  g_mutex_lock (&self->mutex);

  g_hash_table_iter_init (&iter, self->defaults);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_hash_table_add (seen, key))
      g_ptr_array_add (keys, g_strdup (key));

  g_hash_table_iter_init (&iter, self->explicit_values);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_hash_table_add (seen, key))
      g_ptr_array_add (keys, g_strdup (key));

  if (self->keyfile != NULL)
    {
      g_auto(GStrv) file_keys = g_key_file_get_keys (self->keyfile, CONFIG_GROUP, NULL, NULL);

      for (guint i = 0; file_keys != NULL && file_keys[i] != NULL; i++)
        {
          /* A key file may hold keys we could never look up (upper case,
           * "Name[de]" translations); list only the ones that are real. */
          if (stache_settings_is_valid_key (file_keys[i]) &&
              !g_hash_table_contains (seen, file_keys[i]))
            {
              char *copy = g_strdup (file_keys[i]);

              g_hash_table_add (seen, copy);
              g_ptr_array_add (keys, copy);
            }
        }
    }

  g_mutex_unlock (&self->mutex);

  g_ptr_array_sort (keys, compare_strings);
  g_ptr_array_add (keys, NULL);

  return (char **) g_ptr_array_free (g_steal_pointer (&keys), FALSE);
}
