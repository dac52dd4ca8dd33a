/* stache-test-utils.h: shared helpers for the GTest suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

G_BEGIN_DECLS

/* Folders meson passes in: the fixtures in the source tree and the built
 * test plugins. */
static inline const char *
test_source_plugins (void)
{
  return g_getenv ("STACHE_TEST_SOURCE_PLUGINS");
}

static inline const char *
test_build_plugins (void)
{
  return g_getenv ("STACHE_TEST_BUILD_PLUGINS");
}

static inline void
test_copy_file (const char *from,
                const char *to)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (from, &contents, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (to, contents, len, &error);
  g_assert_no_error (error);
}

/* Copies the regular files of fixture folder @name (from the build tree if
 * it is there, else from the source tree) into @dest/@name. */
static inline char *
test_install_fixture (const char *dest,
                      const char *name)
{
  g_autofree char *target = g_build_filename (dest, name, NULL);
  const char *roots[] = { test_build_plugins (), test_source_plugins () };

  g_assert_cmpint (g_mkdir_with_parents (target, 0700), ==, 0);

  for (guint r = 0; r < G_N_ELEMENTS (roots); r++)
    {
      g_autofree char *src = NULL;
      g_autoptr(GDir) dir = NULL;
      const char *entry;

      g_assert_nonnull (roots[r]);
      src = g_build_filename (roots[r], name, NULL);
      dir = g_dir_open (src, 0, NULL);
      if (dir == NULL)
        continue;

      while ((entry = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *from = g_build_filename (src, entry, NULL);
          g_autofree char *to = g_build_filename (target, entry, NULL);

          if (!g_str_has_suffix (entry, ".plugin") && !g_str_has_suffix (entry, ".py") &&
              !g_str_has_suffix (entry, ".so") && !g_str_has_suffix (entry, ".lua"))
            continue;
          if (g_file_test (to, G_FILE_TEST_EXISTS))
            continue;
          test_copy_file (from, to);
        }
    }

  return g_steal_pointer (&target);
}

/* A fresh temporary folder for one test, and an environment that sees
 * nothing of the user's own plugins or configuration. */
static inline char *
test_isolated_environment (void)
{
  g_autoptr(GError) error = NULL;
  char *tmp = g_dir_make_tmp ("stache-test-XXXXXX", &error);
  g_autofree char *home = NULL, *config = NULL, *data_dirs = NULL;

  g_assert_no_error (error);
  home = g_build_filename (tmp, "data-home", NULL);
  config = g_build_filename (tmp, "config-home", NULL);
  data_dirs = g_build_filename (tmp, "data-dirs", NULL);
  g_setenv ("XDG_DATA_HOME", home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("XDG_DATA_DIRS", data_dirs, TRUE);
  g_unsetenv ("STACHE_PLUGIN_PATH");
  g_unsetenv ("VECTORDB_PROVIDER");

  return tmp;
}

static inline void
test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *entry;

  if (dir != NULL)
    {
      while ((entry = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, entry, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            test_remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

G_END_DECLS
