/* stache-settings.h: configuration lookup
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include "stache-version.h"

G_BEGIN_DECLS

/**
 * StacheSettingSource:
 * @STACHE_SETTING_SOURCE_UNSET: the key has no value anywhere
 * @STACHE_SETTING_SOURCE_DEFAULT: the value is the key's default
 * @STACHE_SETTING_SOURCE_CONFIG_FILE: the value comes from the `[stache]`
 *   group of the configuration file
 * @STACHE_SETTING_SOURCE_ENVIRONMENT: the value comes from the environment
 *   variable named after the key in upper case
 * @STACHE_SETTING_SOURCE_EXPLICIT: the value was set with
 *   stache_settings_set_string()
 *
 * Where the effective value of a setting comes from, lowest precedence first.
 */
typedef enum {
  STACHE_SETTING_SOURCE_UNSET,
  STACHE_SETTING_SOURCE_DEFAULT,
  STACHE_SETTING_SOURCE_CONFIG_FILE,
  STACHE_SETTING_SOURCE_ENVIRONMENT,
  STACHE_SETTING_SOURCE_EXPLICIT,
} StacheSettingSource;

#define STACHE_TYPE_SETTINGS (stache_settings_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheSettings, stache_settings, STACHE, SETTINGS, GObject)

STACHE_AVAILABLE_IN_ALL
StacheSettings      *stache_settings_new                (void);
STACHE_AVAILABLE_IN_ALL
StacheSettings      *stache_settings_new_from_file      (const char      *path,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
gboolean             stache_settings_check              (StacheSettings  *self,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
const char          *stache_settings_get_config_path    (StacheSettings  *self);
STACHE_AVAILABLE_IN_ALL
void                 stache_settings_set_string         (StacheSettings  *self,
                                                         const char      *key,
                                                         const char      *value);
STACHE_AVAILABLE_IN_ALL
void                 stache_settings_set_default        (StacheSettings  *self,
                                                         const char      *key,
                                                         const char      *value);
STACHE_AVAILABLE_IN_ALL
char                *stache_settings_get_string         (StacheSettings  *self,
                                                         const char      *key,
                                                         const char      *default_value);
STACHE_AVAILABLE_IN_ALL
char                *stache_settings_get_nonempty       (StacheSettings  *self,
                                                         const char      *key,
                                                         const char      *default_value);
STACHE_AVAILABLE_IN_ALL
gboolean             stache_settings_get_int_range      (StacheSettings  *self,
                                                         const char      *key,
                                                         gint64           default_value,
                                                         gint64           min,
                                                         gint64           max,
                                                         gint64          *out_value,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
char                *stache_settings_get_http_url       (StacheSettings  *self,
                                                         const char      *key,
                                                         const char      *default_value,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
gint64               stache_settings_get_int            (StacheSettings  *self,
                                                         const char      *key,
                                                         gint64           default_value,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
double               stache_settings_get_double         (StacheSettings  *self,
                                                         const char      *key,
                                                         double           default_value,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
gboolean             stache_settings_get_boolean        (StacheSettings  *self,
                                                         const char      *key,
                                                         gboolean         default_value,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
char               **stache_settings_get_string_list    (StacheSettings  *self,
                                                         const char      *key);
STACHE_AVAILABLE_IN_ALL
StacheSettingSource  stache_settings_get_source         (StacheSettings  *self,
                                                         const char      *key);
STACHE_AVAILABLE_IN_ALL
char                *stache_settings_describe_source    (StacheSettings  *self,
                                                         const char      *key);
STACHE_AVAILABLE_IN_ALL
char                *stache_settings_get_display_value  (StacheSettings  *self,
                                                         const char      *key);
STACHE_AVAILABLE_IN_ALL
char               **stache_settings_list_keys          (StacheSettings  *self);
STACHE_AVAILABLE_IN_ALL
gboolean             stache_settings_is_secret_key      (const char      *key);
STACHE_AVAILABLE_IN_ALL
gboolean             stache_settings_is_valid_key       (const char      *key);
STACHE_AVAILABLE_IN_ALL
char                *stache_settings_key_to_env_name    (const char      *key);

G_END_DECLS
