/* stache-tool-common.c: what the stache command's subcommands share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * JSON for the objects of the store, shared by `--json` output, `stache
 * serve` and `stache mcp`, so the three describe a result, a document the
 * same way.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "stache-tool-common.h"

void
stache_tool_print_json_node (JsonNode *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

void
stache_tool_print_json (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  stache_tool_print_json_node (root);
}

void
stache_tool_add_object_member (JsonBuilder *builder,
                               const char  *name,
                               JsonObject  *object)
{
  json_builder_set_member_name (builder, name);
  if (object != NULL)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (node, object);
      json_builder_add_value (builder, g_steal_pointer (&node));
    }
  else
    json_builder_add_null_value (builder);
}

void
stache_tool_add_string_member (JsonBuilder *builder,
                               const char  *name,
                               const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

StacheStore *
stache_tool_open_store (void)
{
  g_autoptr(GError) error = NULL;
  StacheStore *store = stache_store_new (NULL, &error);

  if (store == NULL)
    g_printerr ("stache: %s\n", error->message);

  return store;
}

void
stache_tool_add_result (JsonBuilder        *builder,
                        StacheSearchResult *result,
                        guint               rank)
{
  JsonObject *metadata = stache_search_result_get_metadata (result);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "rank");
  json_builder_add_int_value (builder, rank);
  json_builder_set_member_name (builder, "score");
  json_builder_add_double_value (builder, stache_search_result_get_score (result));
  stache_tool_add_string_member (builder, "chunk_id", stache_search_result_get_id (result));
  stache_tool_add_string_member (builder, "document_id", stache_search_result_get_document_id (result));
  stache_tool_add_string_member (builder, "namespace", stache_search_result_get_namespace (result));
  stache_tool_add_string_member (builder, "text", stache_search_result_get_text (result));
  stache_tool_add_object_member (builder, "metadata", metadata);
  json_builder_end_object (builder);
}

const char *
stache_tool_result_source (StacheSearchResult *result)
{
  JsonObject *metadata = stache_search_result_get_metadata (result);

  if (metadata == NULL)
    return stache_search_result_get_document_id (result);

  return json_object_get_string_member_with_default (metadata, "source",
           stache_search_result_get_document_id (result));
}

gboolean
stache_tool_parse_mode (const char       *text,
                        StacheSearchMode *mode)
{
  if (text == NULL || g_str_equal (text, "hybrid"))
    *mode = STACHE_SEARCH_MODE_HYBRID;
  else if (g_str_equal (text, "vector"))
    *mode = STACHE_SEARCH_MODE_VECTOR;
  else if (g_str_equal (text, "keyword"))
    *mode = STACHE_SEARCH_MODE_KEYWORD;
  else
    return FALSE;

  return TRUE;
}

void
stache_tool_add_document_members (JsonBuilder    *builder,
                                  StacheDocument *document)
{
  stache_tool_add_string_member (builder, "id", stache_document_get_id (document));
  stache_tool_add_string_member (builder, "namespace", stache_document_get_namespace (document));
  stache_tool_add_string_member (builder, "source", stache_document_get_source (document));
  stache_tool_add_string_member (builder, "title", stache_document_get_title (document));
  stache_tool_add_string_member (builder, "media_type", stache_document_get_media_type (document));
  stache_tool_add_string_member (builder, "content_hash", stache_document_get_content_hash (document));
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, stache_document_get_size (document));
  json_builder_set_member_name (builder, "chunks");
  json_builder_add_int_value (builder, stache_document_get_chunk_count (document));
  json_builder_set_member_name (builder, "created");
  json_builder_add_int_value (builder, stache_document_get_created (document));
  json_builder_set_member_name (builder, "updated");
  json_builder_add_int_value (builder, stache_document_get_updated (document));
  stache_tool_add_string_member (builder, "summary", stache_document_get_summary (document));
}

void
stache_tool_add_namespace_members (JsonBuilder     *builder,
                                   StacheNamespace *ns)
{
  stache_tool_add_string_member (builder, "name", stache_namespace_get_name (ns));
  stache_tool_add_string_member (builder, "description", stache_namespace_get_description (ns));
  json_builder_set_member_name (builder, "created");
  json_builder_add_int_value (builder, stache_namespace_get_created (ns));
}

void
stache_tool_add_ingest_result_members (JsonBuilder        *builder,
                                       StacheIngestResult *result)
{
  stache_tool_add_string_member (builder, "source", stache_ingest_result_get_source (result));
  stache_tool_add_string_member (builder, "outcome",
                                 stache_ingest_outcome_to_string (stache_ingest_result_get_outcome (result)));
  stache_tool_add_string_member (builder, "document_id", stache_ingest_result_get_document_id (result));
  stache_tool_add_string_member (builder, "namespace", stache_ingest_result_get_namespace (result));
  stache_tool_add_string_member (builder, "title", stache_ingest_result_get_title (result));
  json_builder_set_member_name (builder, "chunks");
  json_builder_add_int_value (builder, stache_ingest_result_get_chunk_count (result));
  stache_tool_add_string_member (builder, "reason", stache_ingest_result_get_reason (result));
}

void
stache_tool_add_provider_info_members (JsonBuilder        *builder,
                                       StacheProviderInfo *info)
{
  const GError *error = stache_provider_info_get_error (info);

  stache_tool_add_string_member (builder, "type", stache_provider_info_get_type_name (info));
  stache_tool_add_string_member (builder, "name", stache_provider_info_get_name (info));
  stache_tool_add_string_member (builder, "plugin", stache_provider_info_get_plugin_name (info));
  stache_tool_add_string_member (builder, "module", stache_provider_info_get_module_name (info));
  stache_tool_add_string_member (builder, "plugin_file", stache_provider_info_get_plugin_file (info));
  stache_tool_add_string_member (builder, "folder", stache_provider_info_get_folder (info));
  stache_tool_add_string_member (builder, "loader", stache_provider_info_get_loader (info));
  stache_tool_add_string_member (builder, "status",
                                 stache_provider_status_to_string (stache_provider_info_get_status (info)));
  stache_tool_add_string_member (builder, "reason", error != NULL ? error->message : NULL);
  if (error != NULL)
    {
      g_autoptr(GEnumClass) klass = g_type_class_ref (STACHE_TYPE_PLUGIN_ERROR);
      GEnumValue *value = g_enum_get_value (klass, error->code);

      stache_tool_add_string_member (builder, "error_code", value != NULL ? value->value_nick : NULL);
    }
}

/* @text fit for a terminal: control characters (C0 but newline and tab,
 * DEL, C1) written as \xNN or \u{NN}, so a file name or a plugin's text
 * cannot move the cursor, recolour the terminal or forge a line of output;
 * invalid UTF-8 replaced with U+FFFD. */
char *
stache_tool_escape_controls (const char *text)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (text == NULL)
    return NULL;
  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  out = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else if (c >= 0x80 && c < 0xa0)
        g_string_append_printf (out, "\\u{%02x}", c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }

  return g_string_free (out, FALSE);
}

static void
print_escaped (FILE        *stream,
               const gchar *text)
{
  g_autofree char *safe = stache_tool_escape_controls (text);

  fputs (safe, stream);
  fflush (stream);
}

static void
print_to_stdout (const gchar *text)
{
  print_escaped (stdout, text);
}

static void
print_to_stderr (const gchar *text)
{
  print_escaped (stderr, text);
}

/* Everything the commands print with g_print() and g_printerr() goes
 * through stache_tool_escape_controls(): messages quote file names,
 * settings, plugin metadata and service answers. JSON output is not
 * changed by it (json-glib writes control characters as \u escapes). */
void
stache_tool_use_safe_output (void)
{
  g_set_print_handler (print_to_stdout);
  g_set_printerr_handler (print_to_stderr);
}

/* Parses @context's options out of @argv; prints the error and returns
 * FALSE on a wrong command line. */
gboolean
stache_tool_parse_options (GOptionContext  *context,
                           int             *argc,
                           char          ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("stache: %s\n", error->message);
      return FALSE;
    }

  return TRUE;
}

/* A passage on one line, indented, cut at 300 characters */
void
stache_tool_print_passage (const char *text)
{
  g_autofree char *flat = g_strdup (text);
  glong len;

  g_strdelimit (flat, "\n\t", ' ');
  len = g_utf8_strlen (flat, -1);
  if (len > 300)
    {
      char *cut = g_utf8_offset_to_pointer (flat, 300);

      *cut = '\0';
      g_print ("    %s…\n", flat);
    }
  else
    g_print ("    %s\n", flat);
}
