/* stache-tool-watch.c: `stache sync --watch`: syncing again whenever the folders change
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every folder below each path gets a GFileMonitor; a change anywhere
 * starts a timer, and when nothing has changed for DEBOUNCE_MS the paths
 * are synced again and the monitors made anew (new subfolders are watched,
 * removed ones dropped). A path that is not there (an unplugged disk, a
 * folder moved away and back) is looked for every POLL_MS and synced as
 * soon as it is back; meanwhile its documents stay. SIGINT or SIGTERM ends
 * the watch.
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n.h>
#include <glib-unix.h>

#include "stache-tool-commands.h"

#define DEBOUNCE_MS 300
#define POLL_MS     1000
/* Folders below a path that get a monitor of their own, at the most: each
 * costs an inotify watch, of which Linux allows 8192 per user by default */
#define MAX_MONITORED_FOLDERS 4096
#define MAX_DEPTH 64

typedef struct
{
  StacheStore         *store;
  GPtrArray           *roots;       /* GFile */
  const char          *namespace_;
  const char * const  *include;
  const char * const  *exclude;
  StacheToolSyncPrint  print;
  gpointer             print_data;
  GPtrArray           *monitors;    /* GFileMonitor */
  GHashTable          *present;     /* roots there at the last look: GFile → itself */
  guint                debounce_id;
  GMainLoop           *loop;
  gboolean             warned_limit;
} Watch;

static void schedule_sync (Watch *watch);

static void
on_changed (GFileMonitor      *monitor,
            GFile             *file,
            GFile             *other,
            GFileMonitorEvent  event,
            gpointer           user_data)
{
  if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
    return;
  schedule_sync (user_data);
}

static void
monitor_folder (Watch *watch,
                GFile *folder,
                guint  depth)
{
  g_autoptr(GFileEnumerator) children = NULL;
  GFileMonitor *monitor;

  if (watch->monitors->len >= MAX_MONITORED_FOLDERS)
    {
      if (!watch->warned_limit)
        g_printerr (_("stache sync: watching the first %u folders only\n"), MAX_MONITORED_FOLDERS);
      watch->warned_limit = TRUE;
      return;
    }
  monitor = g_file_monitor_directory (folder, G_FILE_MONITOR_WATCH_MOVES, NULL, NULL);
  if (monitor == NULL)
    return;
  g_signal_connect (monitor, "changed", G_CALLBACK (on_changed), watch);
  g_ptr_array_add (watch->monitors, monitor);

  if (depth >= MAX_DEPTH)
    return;
  children = g_file_enumerate_children (folder, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  while (children != NULL)
    {
      GFileInfo *info = NULL;
      GFile *child = NULL;

      if (!g_file_enumerator_iterate (children, &info, &child, NULL, NULL) || info == NULL)
        break;
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        monitor_folder (watch, child, depth + 1);
    }
}

static void
rewatch (Watch *watch)
{
  for (guint i = 0; i < watch->monitors->len; i++)
    g_file_monitor_cancel (g_ptr_array_index (watch->monitors, i));
  g_ptr_array_set_size (watch->monitors, 0);
  watch->warned_limit = FALSE;

  for (guint i = 0; i < watch->roots->len; i++)
    {
      GFile *root = g_ptr_array_index (watch->roots, i);

      if (g_file_query_file_type (root, G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
        monitor_folder (watch, root, 0);
    }
}

static gboolean
sync_now (gpointer user_data)
{
  Watch *watch = user_data;

  watch->debounce_id = 0;
  g_hash_table_remove_all (watch->present);
  for (guint i = 0; i < watch->roots->len; i++)
    {
      GFile *root = g_ptr_array_index (watch->roots, i);
      g_autoptr(GPtrArray) results = NULL;
      g_autoptr(GError) error = NULL;

      /* A path that is not there keeps its documents until it is back */
      if (!g_file_query_exists (root, NULL))
        continue;
      g_hash_table_add (watch->present, root);
      results = stache_store_sync_directory (watch->store, root, watch->namespace_, watch->include,
                                             watch->exclude, NULL, &error);
      if (results == NULL)
        {
          g_printerr ("stache: %s\n", error->message);
          continue;
        }
      watch->print (results, watch->print_data);
    }
  rewatch (watch);

  return G_SOURCE_REMOVE;
}

static void
schedule_sync (Watch *watch)
{
  g_clear_handle_id (&watch->debounce_id, g_source_remove);
  watch->debounce_id = g_timeout_add (DEBOUNCE_MS, sync_now, watch);
}

/* Looks for paths that came back or went away */
static gboolean
poll_roots (gpointer user_data)
{
  Watch *watch = user_data;

  for (guint i = 0; i < watch->roots->len; i++)
    {
      GFile *root = g_ptr_array_index (watch->roots, i);

      if (g_file_query_exists (root, NULL) != g_hash_table_contains (watch->present, root))
        {
          schedule_sync (watch);
          break;
        }
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;   /* (removed with the others at the end) */
}

/* Runs until SIGINT or SIGTERM; the first sync has been done. */
void
stache_tool_watch (StacheStore         *store,
                   GPtrArray           *roots,
                   const char          *namespace_,
                   const char * const  *include,
                   const char * const  *exclude,
                   StacheToolSyncPrint  print,
                   gpointer             print_data)
{
  Watch watch = { store, roots, namespace_, include, exclude, print, print_data };
  guint poll_id, int_id, term_id;

  watch.monitors = g_ptr_array_new_with_free_func (g_object_unref);
  watch.present = g_hash_table_new (g_file_hash, (GEqualFunc) g_file_equal);
  watch.loop = g_main_loop_new (NULL, FALSE);
  for (guint i = 0; i < roots->len; i++)
    if (g_file_query_exists (g_ptr_array_index (roots, i), NULL))
      g_hash_table_add (watch.present, g_ptr_array_index (roots, i));
  rewatch (&watch);

  poll_id = g_timeout_add (POLL_MS, poll_roots, &watch);
  int_id = g_unix_signal_add (SIGINT, on_signal, watch.loop);
  term_id = g_unix_signal_add (SIGTERM, on_signal, watch.loop);
  g_printerr (_("stache sync: watching; Ctrl+C ends\n"));
  g_main_loop_run (watch.loop);

  g_source_remove (poll_id);
  g_source_remove (int_id);
  g_source_remove (term_id);
  g_clear_handle_id (&watch.debounce_id, g_source_remove);
  for (guint i = 0; i < watch.monitors->len; i++)
    g_file_monitor_cancel (g_ptr_array_index (watch.monitors, i));
  g_ptr_array_unref (watch.monitors);
  g_hash_table_unref (watch.present);
  g_main_loop_unref (watch.loop);
}
