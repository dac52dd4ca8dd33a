/* stache-tool.c: the stache command: its dispatch; each subcommand is in
 * a file of its own (stache-tool-COMMAND.c, declared in
 * stache-tool-commands.h), `serve` and `mcp` in stache-serve.c and
 * stache-mcp.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Thin by design: it parses arguments, calls libstache and prints. Exit
 * codes: 0 success, 1 the operation failed, 2 the command line is wrong.
 */
#include "config.h"

#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib-unix.h>

#include <stache-plugin.h>

#include "stache-tool-commands.h"
#include "stache-mcp.h"
#include "stache-serve.h"

typedef int (*CommandFunc) (int argc, char **argv);

/* ---- dispatch ---- */

static const struct {
  const char  *name;
  CommandFunc  func;
  const char  *summary;
} commands[] = {
  { "ingest", command_ingest, N_("Ingest files and folders into the store") },
  { "sync", command_sync, N_("Make a namespace mirror folders: also remove documents whose files are gone") },
  { "search", command_search, N_("Search the store") },
  { "ask", command_ask, N_("Answer a question from the store, with citations") },
  { "documents", command_documents, N_("List, show or delete documents") },
  { "namespaces", command_namespaces, N_("List, create or delete namespaces") },
  { "plugins", command_plugins, N_("List providers found by plugin discovery, with reasons for failures; check a plugin folder") },
  { "config", command_config, N_("Show the effective settings and their sources (secrets redacted)") },
  { "check", command_check, N_("Read the whole store and check that it is intact") },
  { "serve", stache_serve_main, N_("Serve the store over HTTP: a JSON REST API") },
  { "mcp", stache_mcp_main, N_("Serve the store to AI assistants: Model Context Protocol over stdio") },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n%s\n", _("Usage: stache COMMAND [OPTIONS…]"), _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (out, "\n%s\n", _("Run “stache COMMAND --help” for the options of a command."));
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  /* Debug and info lines (G_MESSAGES_DEBUG) would otherwise go to stdout,
   * into --json output */
  g_log_writer_default_set_use_stderr (TRUE);
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("stache");
  stache_tool_use_safe_output ();

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return 0;
    }

  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("stache %s\n", PACKAGE_VERSION);
      return 0;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (g_str_equal (argv[1], commands[i].name))
        {
          g_autofree char *prgname = g_strdup_printf ("stache %s", commands[i].name);

          g_set_prgname (prgname);
          return commands[i].func (argc - 1, argv + 1);
        }
    }

  g_printerr (_("stache: unknown command “%s”\n\n"), argv[1]);
  print_usage (stderr);
  return EXIT_USAGE;
}
