/* stache-tool-ingest.c: `stache ingest` and `stache sync`: files and folders into the store, with a progress bar
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "stache-tool-commands.h"

typedef struct
{
  gboolean tty;
  guint    width;
} Progress;

static void
on_progress (StacheStore *store,
             guint        done,
             guint        total,
             const char  *path,
             gpointer     user_data)
{
  Progress *progress = user_data;
  guint filled;
  g_autofree char *bar = NULL;
  g_autofree char *name = NULL;

  if (!progress->tty || total == 0)
    return;

  filled = progress->width * done / total;
  bar = g_strnfill (filled, '#');
  {
    g_autofree char *base = path != NULL ? g_path_get_basename (path) : g_strdup ("");

    name = stache_tool_escape_controls (base);
  }
  if (g_utf8_strlen (name, -1) > 40)
    *g_utf8_offset_to_pointer (name, 40) = '\0';
  fprintf (stderr, "\r[%s%*s] %u/%u %-40s", bar, (int) (progress->width - filled), "", done, total, name);
  if (path == NULL)
    fprintf (stderr, "\r%*s\r", (int) progress->width + 60, "");
  fflush (stderr);
}

typedef struct
{
  gboolean json;
  gboolean sync;
  gboolean quiet_if_unchanged;   /* in a watch: nothing printed when nothing changed */
  guint    failed;
} Report;

/* Prints what happened to @results: skipped and failed files on stderr,
 * then the counts (or the JSON) */
static void
report (GPtrArray *results,
        gpointer   data)
{
  Report *out = data;
  guint counts[STACHE_INGEST_OUTCOME_REMOVED + 1] = { 0 };
  guint last = out->sync ? STACHE_INGEST_OUTCOME_REMOVED : STACHE_INGEST_OUTCOME_FAILED;

  for (guint i = 0; i < results->len; i++)
    {
      StacheIngestResult *result = g_ptr_array_index (results, i);
      StacheIngestOutcome outcome = stache_ingest_result_get_outcome (result);

      counts[outcome]++;
      if (!out->json && (outcome == STACHE_INGEST_OUTCOME_SKIPPED || outcome == STACHE_INGEST_OUTCOME_FAILED))
        g_printerr (outcome == STACHE_INGEST_OUTCOME_SKIPPED ? _("stache: skipped %s: %s\n")
                                                             : _("stache: failed %s: %s\n"),
                    stache_ingest_result_get_source (result), stache_ingest_result_get_reason (result));
    }
  out->failed += counts[STACHE_INGEST_OUTCOME_FAILED];
  if (out->quiet_if_unchanged &&
      counts[STACHE_INGEST_OUTCOME_UNCHANGED] + counts[STACHE_INGEST_OUTCOME_SKIPPED] == results->len)
    return;

  if (out->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "summary");
      json_builder_begin_object (builder);
      for (guint o = 0; o <= last; o++)
        {
          json_builder_set_member_name (builder, stache_ingest_outcome_to_string (o));
          json_builder_add_int_value (builder, counts[o]);
        }
      json_builder_end_object (builder);
      json_builder_set_member_name (builder, "files");
      json_builder_begin_array (builder);
      for (guint i = 0; i < results->len; i++)
        {
          json_builder_begin_object (builder);
          stache_tool_add_ingest_result_members (builder, g_ptr_array_index (results, i));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      stache_tool_print_json (builder);
    }
  else if (out->sync)
    {
      /* Translators: the summary after a sync; each %u is a count */
      g_print (_("%u added, %u unchanged, %u replaced, %u removed, %u skipped, %u failed\n"),
               counts[STACHE_INGEST_OUTCOME_ADDED], counts[STACHE_INGEST_OUTCOME_UNCHANGED],
               counts[STACHE_INGEST_OUTCOME_REPLACED], counts[STACHE_INGEST_OUTCOME_REMOVED],
               counts[STACHE_INGEST_OUTCOME_SKIPPED], counts[STACHE_INGEST_OUTCOME_FAILED]);
    }
  else
    {
      /* Translators: the summary after ingesting; each %u is a count */
      g_print (_("%u added, %u unchanged, %u replaced, %u skipped, %u failed\n"),
               counts[STACHE_INGEST_OUTCOME_ADDED], counts[STACHE_INGEST_OUTCOME_UNCHANGED],
               counts[STACHE_INGEST_OUTCOME_REPLACED], counts[STACHE_INGEST_OUTCOME_SKIPPED],
               counts[STACHE_INGEST_OUTCOME_FAILED]);
    }
  fflush (stdout);
}

/* `stache ingest`, or with @sync `stache sync` (documents whose files are
 * gone removed too, and with --watch again whenever the folders change) */
static int
ingest_paths (int       argc,
              char    **argv,
              gboolean  sync)
{
  const char *command = sync ? "sync" : "ingest";
  gboolean json = FALSE;
  gboolean watch = FALSE;
  g_autofree char *namespace_ = NULL;
  g_auto(GStrv) include = NULL;
  g_auto(GStrv) exclude = NULL;
  const GOptionEntry entries[] = {
    { "namespace", 'n', 0, G_OPTION_ARG_STRING, &namespace_, N_("Namespace to ingest into"), N_("NAME") },
    { "include", 0, 0, G_OPTION_ARG_STRING_ARRAY, &include, N_("Only files matching this glob"), N_("GLOB") },
    { "exclude", 0, 0, G_OPTION_ARG_STRING_ARRAY, &exclude, N_("Leave out files matching this glob"), N_("GLOB") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  const GOptionEntry sync_entries[] = {
    { "watch", 'w', 0, G_OPTION_ARG_NONE, &watch,
      N_("Keep syncing whenever the folders change, until interrupted"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("PATH…"));
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func (g_object_unref);
  Progress progress = { FALSE, 30 };
  Report out = { FALSE, sync, FALSE, 0 };
  gboolean path_error = FALSE;

  g_option_context_set_summary (context, sync ? _("Make a namespace mirror files and folders (text, Markdown, "
                                                  "HTML): new files added, changed ones replaced, documents "
                                                  "whose files are gone removed.")
                                              : _("Ingest files and folders (text, Markdown, HTML)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (sync)
    g_option_context_add_main_entries (context, sync_entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc < 2)
    {
      /* Translators: %s is the command, ingest or sync */
      g_printerr (_("stache %s: give at least one file or folder\n"), command);
      return EXIT_USAGE;
    }
  out.json = json;
  progress.tty = isatty (fileno (stderr)) && !json;

  if ((store = stache_tool_open_store ()) == NULL)
    return 1;
  g_signal_connect (store, "progress", G_CALLBACK (on_progress), &progress);

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (argv[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) results = NULL;

      g_ptr_array_add (roots, g_object_ref (file));
      if (sync)
        results = stache_store_sync_directory (store, file, namespace_, (const char * const *) include,
                                               (const char * const *) exclude, NULL, &error);
      else
        results = stache_store_ingest_directory (store, file, namespace_, (const char * const *) include,
                                                 (const char * const *) exclude, NULL, &error);
      if (results == NULL)
        {
          g_printerr ("stache: %s\n", error->message);
          path_error = TRUE;
          continue;
        }
      g_ptr_array_extend_and_steal (all, g_steal_pointer (&results));
    }
  report (all, &out);

  if (watch)
    {
      /* Later syncs say only what changed; the progress bar is for the first */
      progress.tty = FALSE;
      out.quiet_if_unchanged = TRUE;
      stache_tool_watch (store, roots, namespace_, (const char * const *) include,
                         (const char * const *) exclude, report, &out);
      return 0;
    }

  return path_error || out.failed > 0 ? 1 : 0;
}

int
command_ingest (int    argc,
                char **argv)
{
  return ingest_paths (argc, argv, FALSE);
}

int
command_sync (int    argc,
              char **argv)
{
  return ingest_paths (argc, argv, TRUE);
}
