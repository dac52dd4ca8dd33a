/* fuzz-plugin-file.c: .plugin files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bytes are the .plugin file of a plugin folder on the search path.
 * Listing the providers must report it (usable or not, with a reason)
 * without crashing; nothing it names exists, so no module is loaded.
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
  static char *root;
  static char *file;
  g_autoptr(StachePluginLoader) loader = NULL;
  g_autoptr(GPtrArray) providers = NULL;
  const char *search_path[2] = { NULL, NULL };

  if (root == NULL)
    {
      g_autofree char *folder = NULL;

      root = g_dir_make_tmp ("stache-fuzz-XXXXXX", NULL);
      g_assert (root != NULL);
      folder = g_build_filename (root, "fuzzed", NULL);
      g_assert (g_mkdir (folder, 0700) == 0);
      file = g_build_filename (folder, "fuzzed.plugin", NULL);
    }
  if (!g_file_set_contents (file, (const char *) data, (gssize) size, NULL))
    return 0;

  search_path[0] = root;
  loader = stache_plugin_loader_new_for_search_path (search_path);
  providers = stache_plugin_loader_list_providers (loader);
  g_assert (providers != NULL);

  return 0;
}
