/* fuzz-settings.c: settings files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bytes are a settings file (stache.conf). Loading either succeeds or
 * fails with a message; what loads is read back through every typed
 * getter, as the providers would.
 */
#include <stdint.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <stache.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static char *path;
  g_autoptr(StacheSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) keys = NULL;

  if (path == NULL)
    {
      int fd = g_file_open_tmp ("stache-fuzz-XXXXXX.conf", &path, NULL);

      g_assert (fd >= 0);
      close (fd);
    }
  if (!g_file_set_contents (path, (const char *) data, (gssize) size, NULL))
    return 0;

  settings = stache_settings_new_from_file (path, &error);
  if (settings == NULL)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return 0;
    }

  keys = stache_settings_list_keys (settings);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
      g_autofree char *text = stache_settings_get_string (settings, keys[i], NULL);
      g_autofree char *shown = stache_settings_get_display_value (settings, keys[i]);
      g_autofree char *url = NULL;
      gint64 value;

      stache_settings_get_int (settings, keys[i], 0, &e1);
      stache_settings_get_double (settings, keys[i], 0, &e2);
      stache_settings_get_int_range (settings, keys[i], 1, 0, 100, &value, &e3);
      url = stache_settings_get_http_url (settings, keys[i], "http://localhost", &e4);
    }

  return 0;
}
