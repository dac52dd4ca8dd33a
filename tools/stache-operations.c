/* stache-operations.c: what the programs can do with a store, defined
 * once for `stache mcp`, `stache serve` and the `stache` command
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each operation has a name, a title and a description (protocol data a
 * model reads: English, like the names), the JSON Schema of its arguments
 * and of its result (tools/operations/NAME.{input,output}.json, compiled
 * into the program as a GResource), and a handler that runs it on a store
 * in a worker thread and gives the structured result, and, when asked, a
 * plain-text rendering of it. The front ends only translate: MCP's
 * tools/call, the REST routes and the command's options become arguments;
 * the result becomes a response.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "stache-operations.h"
#include "stache-operations-resources.h"

static JsonNode *operation_search          (StacheStore *, JsonObject *, GCancellable *, GString *, GError **);
static JsonNode *operation_ask             (StacheStore *, JsonObject *, GCancellable *, GString *, GError **);
static JsonNode *operation_ingest_text     (StacheStore *, JsonObject *, GCancellable *, GString *, GError **);
static JsonNode *operation_list_namespaces (StacheStore *, JsonObject *, GCancellable *, GString *, GError **);
static JsonNode *operation_list_documents  (StacheStore *, JsonObject *, GCancellable *, GString *, GError **);
static JsonNode *operation_get_document    (StacheStore *, JsonObject *, GCancellable *, GString *, GError **);
static JsonNode *operation_delete_document (StacheStore *, JsonObject *, GCancellable *, GString *, GError **);

static const StacheOperation operations[] = {
  {
    "search", "Search the knowledge store",
    "Search the Stache knowledge store and return the best matching passages, best first, "
    "each with its score, source, document id and namespace.",
    TRUE, FALSE, TRUE, operation_search,
  },
  {
    "ask", "Answer from the knowledge store",
    "Answer a question from the passages of the Stache knowledge store, citing them as [1], [2]… "
    "The sources are listed after the answer.",
    TRUE, FALSE, FALSE, operation_ask,
  },
  {
    "ingest_text", "Add text to the knowledge store",
    "Store a text in the Stache knowledge store: it is split into passages and indexed for search. "
    "The same text from the same source again is recognised and not stored twice.",
    FALSE, FALSE, TRUE, operation_ingest_text,
  },
  {
    "list_namespaces", "List namespaces",
    "List the namespaces of the Stache knowledge store with their descriptions.",
    TRUE, FALSE, TRUE, operation_list_namespaces,
  },
  {
    "list_documents", "List documents",
    "List the documents of the Stache knowledge store: id, namespace, source, title, number of passages.",
    TRUE, FALSE, TRUE, operation_list_documents,
  },
  {
    "get_document", "Show a document",
    "Show one document of the Stache knowledge store: its source, title, size, passages, summary and metadata.",
    TRUE, FALSE, TRUE, operation_get_document,
  },
  {
    "delete_document", "Delete a document",
    "Delete one document and all its passages from the Stache knowledge store. This cannot be undone.",
    FALSE, TRUE, TRUE, operation_delete_document,
  },
};

const StacheOperation *
stache_operations (guint *n_operations)
{
  *n_operations = G_N_ELEMENTS (operations);
  return operations;
}

const StacheOperation *
stache_operation_find (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (operations); i++)
    if (g_str_equal (operations[i].name, name))
      return &operations[i];

  return NULL;
}

JsonNode *
stache_operation_run (const char    *name,
                      StacheStore   *store,
                      JsonObject    *args,
                      GCancellable  *cancellable,
                      GString       *text,
                      GError       **error)
{
  const StacheOperation *operation = stache_operation_find (name);

  g_assert (operation != NULL);
  return operation->run (store, args, cancellable, text, error);
}

/* The schema files are static, the limit of top_k is a constant the other
 * front ends use: a schema that disagrees is a bug of the build. */
static void
check_top_k_limit (const char *path,
                   JsonNode   *schema)
{
  JsonObject *properties = json_object_get_object_member (json_node_get_object (schema), "properties");
  JsonObject *top_k;
  gint64 maximum;

  if (properties == NULL || !json_object_has_member (properties, "top_k"))
    return;

  top_k = json_object_get_object_member (properties, "top_k");
  maximum = json_object_get_int_member_with_default (top_k, "maximum", 0);
  if (maximum != STACHE_OPERATION_MAX_TOP_K)
    g_error ("the schema %s says top_k is at most %" G_GINT64_FORMAT ", STACHE_OPERATION_MAX_TOP_K is %d",
             path, maximum, STACHE_OPERATION_MAX_TOP_K);
}

JsonNode *
stache_operation_get_schema (const StacheOperation *operation,
                             gboolean               output)
{
  g_autofree char *path = g_strdup_printf ("/org/gnome/Stache/operations/%s.%s.json", operation->name,
                                           output ? "output" : "input");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  bytes = g_resource_lookup_data (stache_operations_get_resource (), path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (bytes == NULL)
    g_error ("the schema %s is not in the program: %s", path, error->message);
  node = json_from_string (g_bytes_get_data (bytes, NULL), &error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    g_error ("the schema %s is broken: %s", path, error != NULL ? error->message : "not an object");
  if (!output)
    check_top_k_limit (path, node);

  return node;
}

/* ---- what went wrong ---- */

StacheOperationFailure
stache_operation_classify_error (const GError *error)
{
  if (error->domain == STACHE_ERROR)
    {
      switch (error->code)
        {
        case STACHE_ERROR_INVALID_ARGUMENT:
          return STACHE_OPERATION_FAILED_ARGUMENT;
        case STACHE_ERROR_NOT_FOUND:
          return STACHE_OPERATION_FAILED_NOT_FOUND;
        case STACHE_ERROR_EXISTS:
          return STACHE_OPERATION_FAILED_EXISTS;
        case STACHE_ERROR_NOT_EMPTY:
          return STACHE_OPERATION_FAILED_NOT_EMPTY;
        case STACHE_ERROR_NOT_SUPPORTED:
          return STACHE_OPERATION_FAILED_UNSUPPORTED;
        default:
          return STACHE_OPERATION_FAILED_INTERNAL;
        }
    }

  /* A service the store relies on (an LLM, an embedder, a remote vector
   * database) failed: unavailable when it may work again soon
   * (unreachable, too slow, overloaded), else it answered wrongly (refused
   * the key, a malformed answer). */
  if (error->domain == STACHE_HTTP_ERROR)
    return error->code == STACHE_HTTP_ERROR_CONNECT || error->code == STACHE_HTTP_ERROR_TIMEOUT ||
           error->code == STACHE_HTTP_ERROR_RATE_LIMITED || error->code == STACHE_HTTP_ERROR_SERVER
             ? STACHE_OPERATION_FAILED_UNAVAILABLE
             : STACHE_OPERATION_FAILED_UPSTREAM;

  return STACHE_OPERATION_FAILED_INTERNAL;
}

const char *
stache_operation_failure_code (StacheOperationFailure failure)
{
  static const char * const codes[] = {
    [STACHE_OPERATION_FAILED_ARGUMENT] = "invalid_argument",
    [STACHE_OPERATION_FAILED_NOT_FOUND] = "not_found",
    [STACHE_OPERATION_FAILED_EXISTS] = "exists",
    [STACHE_OPERATION_FAILED_NOT_EMPTY] = "not_empty",
    [STACHE_OPERATION_FAILED_UNSUPPORTED] = "not_supported",
    [STACHE_OPERATION_FAILED_UPSTREAM] = "upstream_error",
    [STACHE_OPERATION_FAILED_UNAVAILABLE] = "upstream_unavailable",
    [STACHE_OPERATION_FAILED_INTERNAL] = "internal_error",
  };

  return codes[failure];
}

char *
stache_operation_error_message (const GError          *error,
                                StacheOperationFailure failure,
                                gboolean              *out_log)
{
  switch (failure)
    {
    case STACHE_OPERATION_FAILED_UPSTREAM:
    case STACHE_OPERATION_FAILED_UNAVAILABLE:
      /* Not a bug here */
      *out_log = TRUE;
      return g_strdup_printf (_("A service the store uses failed: %s"), error->message);
    case STACHE_OPERATION_FAILED_INTERNAL:
      *out_log = TRUE;
      return g_strdup (_("The store failed; the server log has the details"));
    case STACHE_OPERATION_FAILED_ARGUMENT:
    case STACHE_OPERATION_FAILED_NOT_FOUND:
    case STACHE_OPERATION_FAILED_EXISTS:
    case STACHE_OPERATION_FAILED_NOT_EMPTY:
    case STACHE_OPERATION_FAILED_UNSUPPORTED:
    default:
      *out_log = FALSE;
      return g_strdup (error->message);
    }
}

/* ---- arguments checked against an operation's input schema ---- */

gboolean
stache_tool_node_has_type (JsonNode   *node,
                           const char *type)
{
  GType value_type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (g_str_equal (type, "object"))
    return JSON_NODE_HOLDS_OBJECT (node);
  if (g_str_equal (type, "array"))
    return JSON_NODE_HOLDS_ARRAY (node);
  if (g_str_equal (type, "string"))
    return value_type == G_TYPE_STRING;
  if (g_str_equal (type, "boolean"))
    return value_type == G_TYPE_BOOLEAN;
  if (g_str_equal (type, "number"))
    return value_type == G_TYPE_INT64 || value_type == G_TYPE_DOUBLE;
  if (g_str_equal (type, "integer"))
    {
      /* JSON Schema counts 5.0 as an integer too */
      if (value_type == G_TYPE_DOUBLE)
        {
          double value = json_node_get_double (node);

          return value == (double) (gint64) value;
        }
      return value_type == G_TYPE_INT64;
    }
  return FALSE;
}

/* A member's string, or NULL when it is missing or not a string: never
 * json_object_get_string_member_with_default() on input from outside, it
 * complains (g_critical) about objects and arrays */
const char *
stache_tool_member_string (JsonObject *object,
                           const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && stache_tool_node_has_type (node, "string") ? json_node_get_string (node) : NULL;
}

const char *
stache_tool_result_object_source (JsonObject *result)
{
  JsonNode *metadata = json_object_get_member (result, "metadata");
  const char *source = NULL;

  if (metadata != NULL && JSON_NODE_HOLDS_OBJECT (metadata))
    source = stache_tool_member_string (json_node_get_object (metadata), "source");
  return source != NULL ? source : stache_tool_member_string (result, "document_id");
}

/* The place a passage comes from within its document: the last heading
 * of its heading_path ("Sourdough at home > Keeping a starter alive"
 * gives "Keeping a starter alive"), NULL when it has none */
static char *
passage_place (JsonObject *result)
{
  JsonNode *metadata = json_object_get_member (result, "metadata");
  const char *path, *last;

  if (metadata == NULL || !JSON_NODE_HOLDS_OBJECT (metadata))
    return NULL;
  path = stache_tool_member_string (json_node_get_object (metadata), "heading_path");
  if (path == NULL)
    return NULL;
  last = g_strrstr (path, " > ");
  return g_strdup (last != NULL ? last + 3 : path);
}

void
stache_tool_render_sources (GString    *out,
                            JsonArray  *sources,
                            const char *indent)
{
  g_autoptr(GHashTable) done = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = json_array_get_length (sources);

  for (guint i = 0; i < n; i++)
    {
      JsonObject *first = json_array_get_object_element (sources, i);
      const char *document = stache_tool_member_string (first, "document_id");
      g_autoptr(GString) numbers = g_string_new (NULL);
      g_autoptr(GPtrArray) places = g_ptr_array_new_with_free_func (g_free);

      if (document != NULL && !g_hash_table_add (done, (gpointer) document))
        continue;
      for (guint j = i; j < n; j++)
        {
          JsonObject *passage = json_array_get_object_element (sources, j);
          char *place;

          if (j != i && (document == NULL ||
                         g_strcmp0 (stache_tool_member_string (passage, "document_id"), document) != 0))
            continue;
          g_string_append_printf (numbers, "%s%u", numbers->len > 0 ? ", " : "", j + 1);
          place = passage_place (passage);
          if (place != NULL && !g_ptr_array_find_with_equal_func (places, place, g_str_equal, NULL))
            g_ptr_array_add (places, place);
          else
            g_free (place);
        }
      g_string_append_printf (out, "%s[%s] %s", indent, numbers->str, stache_tool_result_object_source (first));
      for (guint p = 0; p < places->len; p++)
        g_string_append_printf (out, "%s%s", p == 0 ? ": " : "; ", (const char *) g_ptr_array_index (places, p));
      g_string_append_c (out, '\n');
    }
}

static double
node_get_number (JsonNode *node)
{
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  return (double) json_node_get_int (node);
}

static void
check_property (const char *name,
                JsonObject *schema,
                JsonNode   *value,
                GPtrArray  *problems)
{
  const char *type = json_object_get_string_member_with_default (schema, "type", NULL);

  if (type != NULL && !stache_tool_node_has_type (value, type))
    {
      /* TRANSLATORS: the first %s is an argument name, the second a JSON type (string, integer, object) */
      g_ptr_array_add (problems, g_strdup_printf (_("“%s” must be of type %s"), name, type));
      return;
    }

  if (json_object_has_member (schema, "enum"))
    {
      JsonArray *choices = json_object_get_array_member (schema, "enum");
      const char *text = json_node_get_string (value);
      g_autoptr(GString) list = g_string_new (NULL);
      gboolean found = FALSE;

      for (guint i = 0; i < json_array_get_length (choices); i++)
        {
          const char *choice = json_array_get_string_element (choices, i);

          found |= g_strcmp0 (text, choice) == 0;
          g_string_append_printf (list, "%s%s", i > 0 ? ", " : "", choice);
        }
      if (!found)
        /* TRANSLATORS: an argument name, the wrong value, the allowed values */
        g_ptr_array_add (problems, g_strdup_printf (_("“%s” must be one of %s, not “%s”"),
                                                    name, list->str, text));
    }

  if (json_object_has_member (schema, "minLength") &&
      g_utf8_strlen (json_node_get_string (value), -1) < json_object_get_int_member (schema, "minLength"))
    g_ptr_array_add (problems, g_strdup_printf (_("“%s” must not be empty"), name));

  if (json_object_has_member (schema, "minimum") && json_object_has_member (schema, "maximum"))
    {
      double number = node_get_number (value);
      gint64 minimum = json_object_get_int_member (schema, "minimum");
      gint64 maximum = json_object_get_int_member (schema, "maximum");

      if (number < minimum || number > maximum)
        g_ptr_array_add (problems,
                         g_strdup_printf (_("“%s” must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT),
                                          name, minimum, maximum));
    }
}

/* The subset of JSON Schema the input schemas above use: type, required,
 * properties, additionalProperties: false, enum, minLength, minimum and
 * maximum. Returns the problems, one sentence each, or NULL. */
static char *
check_arguments (JsonNode   *schema_node,
                 JsonObject *args)
{
  JsonObject *schema = json_node_get_object (schema_node);
  JsonObject *properties = json_object_get_object_member (schema, "properties");
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GList) names = json_object_get_members (args);

  if (json_object_has_member (schema, "required"))
    {
      JsonArray *required = json_object_get_array_member (schema, "required");

      for (guint i = 0; i < json_array_get_length (required); i++)
        {
          const char *name = json_array_get_string_element (required, i);

          if (!json_object_has_member (args, name))
            g_ptr_array_add (problems, g_strdup_printf (_("the argument “%s” is required"), name));
        }
    }

  for (GList *l = names; l != NULL; l = l->next)
    {
      const char *name = l->data;

      if (!json_object_has_member (properties, name))
        g_ptr_array_add (problems, g_strdup_printf (_("unknown argument “%s”"), name));
      else
        check_property (name, json_object_get_object_member (properties, name),
                        json_object_get_member (args, name), problems);
    }

  if (problems->len == 0)
    return NULL;

  g_ptr_array_add (problems, NULL);
  return g_strjoinv ("; ", (char **) problems->pdata);
}


char *
stache_operation_check_arguments (JsonNode   *input_schema,
                                  JsonObject *args)
{
  return check_arguments (input_schema, args);
}

/* ---- the operations (in a worker thread) ---- */

/* Appends to the plain-text rendering of a result, which a front end that
 * has no use for it (REST, the command) does not ask for: @text NULL */
static void render (GString    *text,
                    const char *format,
                    ...) G_GNUC_PRINTF (2, 3);

static void
render (GString    *text,
        const char *format,
        ...)
{
  va_list args;

  if (text == NULL)
    return;
  va_start (args, format);
  g_string_append_vprintf (text, format, args);
  va_end (args);
}

static const char *
arg_string (JsonObject *args,
            const char *name)
{
  return stache_tool_member_string (args, name);
}

static guint
arg_top_k (JsonObject *args)
{
  JsonNode *node = json_object_get_member (args, "top_k");

  return node != NULL ? (guint) node_get_number (node) : 5;
}

/* @name's value, @fallback when it is absent (the schema checked it) */
static gboolean
arg_boolean (JsonObject *args,
             const char *name,
             gboolean    fallback)
{
  JsonNode *node = json_object_get_member (args, name);

  if (node == NULL || !stache_tool_node_has_type (node, "boolean"))
    return fallback;
  return json_node_get_boolean (node);
}

/* How many chunks a by-document search asks for per document it returns
 * when the candidate pool holds too few documents: the best hits of a long
 * document often come in a row. It asks for no more chunks than a plain
 * search may (STACHE_OPERATION_MAX_TOP_K). */
#define CHUNKS_PER_DOCUMENT 5

/* Adds to @documents the best chunk of each document of @chunks not in
 * @seen, in order, until there are @top_k */
static void
add_documents (GPtrArray  *documents,
               GHashTable *seen,
               GPtrArray  *chunks,
               guint       top_k)
{
  for (guint i = 0; i < chunks->len && documents->len < top_k; i++)
    {
      StacheSearchResult *hit = g_ptr_array_index (chunks, i);
      const char *document_id = stache_search_result_get_document_id (hit);
      const char *key = document_id != NULL ? document_id : stache_search_result_get_id (hit);

      /* A chunk stored without a document stands for itself. */
      if (key == NULL || !g_hash_table_add (seen, g_strdup (key)))
        continue;
      g_ptr_array_add (documents, g_object_ref (hit));
    }
}

static gboolean
read_setting (StacheStore  *store,
              const char   *key,
              gint64        fallback,
              guint        *value,
              GError      **error)
{
  gint64 read = 0;

  /* Settings the store checked when it was opened */
  if (!stache_settings_get_int_range (stache_store_get_settings (store), key, fallback, 1, G_MAXINT,
                                      &read, error))
    return FALSE;
  *value = (guint) read;
  return TRUE;
}

/* The best chunk of each document, best first, up to top_k documents: the
 * chunk ranking of the store's candidate pool (search_candidates chunks)
 * as it is, the later chunks of a document already shown left out. When
 * the pool holds fewer documents, a larger search adds the next ones
 * after them, so the first documents never depend on top_k: -k 5 gives the
 * first five of -k 20. */
static GPtrArray *
search_by_document (StacheStore       *store,
                    JsonObject        *args,
                    StacheSearchMode   mode,
                    JsonObject        *filter,
                    GCancellable      *cancellable,
                    GError           **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) documents = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) pool = NULL;
  guint top_k = arg_top_k (args), candidates;

  if ((top_k == 0 && !read_setting (store, "search_top_k", 10, &top_k, error)) ||
      !read_setting (store, "search_candidates", 50, &candidates, error))
    return NULL;
  candidates = MIN (candidates, STACHE_OPERATION_MAX_TOP_K);

  pool = stache_store_search_full (store, arg_string (args, "query"), arg_string (args, "namespace"),
                                   candidates, mode, filter, cancellable, error);
  if (pool == NULL)
    return NULL;
  add_documents (documents, seen, pool, top_k);

  if (documents->len < top_k && pool->len == candidates)
    {
      g_autoptr(GPtrArray) more = NULL;
      guint wanted = MIN (MAX (top_k, 1) * CHUNKS_PER_DOCUMENT, STACHE_OPERATION_MAX_TOP_K);

      if (wanted > candidates)
        {
          more = stache_store_search_full (store, arg_string (args, "query"), arg_string (args, "namespace"),
                                           wanted, mode, filter, cancellable, error);
          if (more == NULL)
            return NULL;
          add_documents (documents, seen, more, top_k);
        }
    }

  return g_steal_pointer (&documents);
}

static JsonNode *
builder_root (JsonBuilder *builder)
{
  return json_builder_get_root (builder);
}

static void
append_passage (GString            *text,
                StacheSearchResult *result,
                guint               rank)
{
  render (text, "[%u] %s (%s: %s, %s: %.3f)\n%s\n\n", rank,
          stache_tool_result_source (result),
          _("document"), stache_search_result_get_document_id (result),
          _("score"), stache_search_result_get_score (result),
          stache_search_result_get_text (result));
}

static JsonNode *
operation_search (StacheStore   *store,
                  JsonObject    *args,
                  GCancellable  *cancellable,
                  GString       *text,
                  GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) results = NULL;
  JsonObject *filter = NULL;
  StacheSearchMode mode;

  stache_tool_parse_mode (arg_string (args, "mode"), &mode);
  if (json_object_has_member (args, "filter"))
    filter = json_object_get_object_member (args, "filter");

  /* People look for documents: one passage each unless told otherwise */
  if (arg_boolean (args, "group_by_document", TRUE))
    results = search_by_document (store, args, mode, filter, cancellable, error);
  else
    results = stache_store_search_full (store, arg_string (args, "query"), arg_string (args, "namespace"),
                                        arg_top_k (args), mode, filter, cancellable, error);
  if (results == NULL)
    return NULL;

  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "query", arg_string (args, "query"));
  json_builder_set_member_name (builder, "results");
  json_builder_begin_array (builder);
  for (guint i = 0; i < results->len; i++)
    {
      stache_tool_add_result (builder, g_ptr_array_index (results, i), i + 1);
      append_passage (text, g_ptr_array_index (results, i), i + 1);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  if (results->len == 0)
    render (text, "%s", _("No results."));
  return builder_root (builder);
}

static JsonNode *
operation_ask (StacheStore   *store,
               JsonObject    *args,
               GCancellable  *cancellable,
               GString       *text,
               GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(StacheAnswer) answer = NULL;
  GPtrArray *sources;
  JsonNode *root;

  answer = stache_store_ask (store, arg_string (args, "question"), arg_string (args, "namespace"),
                             arg_top_k (args), cancellable, error);
  if (answer == NULL)
    return NULL;

  sources = stache_answer_get_sources (answer);
  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "question", arg_string (args, "question"));
  stache_tool_add_string_member (builder, "answer", stache_answer_get_text (answer));
  stache_tool_add_string_member (builder, "model", stache_answer_get_model (answer));
  json_builder_set_member_name (builder, "sources");
  json_builder_begin_array (builder);
  for (guint i = 0; i < sources->len; i++)
    stache_tool_add_result (builder, g_ptr_array_index (sources, i), i + 1);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = builder_root (builder);
  render (text, "%s", stache_answer_get_text (answer) != NULL ? stache_answer_get_text (answer) : "");
  render (text, "\n\n%s\n", _("Sources:"));
  if (text != NULL)
    stache_tool_render_sources (text, json_object_get_array_member (json_node_get_object (root), "sources"), "");
  return root;
}

static JsonNode *
operation_ingest_text (StacheStore   *store,
                       JsonObject    *args,
                       GCancellable  *cancellable,
                       GString       *text,
                       GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(StacheIngestResult) result = NULL;
  JsonObject *metadata = NULL;
  StacheIngestOutcome outcome;
  const char *reason;

  if (json_object_has_member (args, "metadata"))
    metadata = json_object_get_object_member (args, "metadata");

  result = stache_store_ingest_text_full (store, arg_string (args, "text"), arg_string (args, "namespace"),
                                          arg_string (args, "source"), arg_string (args, "title"),
                                          metadata, cancellable, error);
  if (result == NULL)
    return NULL;

  outcome = stache_ingest_result_get_outcome (result);
  reason = stache_ingest_result_get_reason (result);
  if (outcome == STACHE_INGEST_OUTCOME_FAILED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The text could not be stored: %s"),
                   reason != NULL ? reason : _("unknown error"));
      return NULL;
    }

  json_builder_begin_object (builder);
  stache_tool_add_ingest_result_members (builder, result);
  json_builder_end_object (builder);

  switch (outcome)
    {
    case STACHE_INGEST_OUTCOME_SKIPPED:
      render (text, _("Not stored: %s"), reason != NULL ? reason : "-");
      break;
    case STACHE_INGEST_OUTCOME_UNCHANGED:
      render (text, _("Already stored as document %s in namespace “%s”; nothing changed."),
              stache_ingest_result_get_document_id (result),
              stache_ingest_result_get_namespace (result));
      break;
    default:
      render (text, g_dngettext (GETTEXT_PACKAGE,
                                 "Stored as document %s in namespace “%s” (%u passage).",
                                 "Stored as document %s in namespace “%s” (%u passages).",
                                 stache_ingest_result_get_chunk_count (result)),
              stache_ingest_result_get_document_id (result),
              stache_ingest_result_get_namespace (result),
              stache_ingest_result_get_chunk_count (result));
      break;
    }
  return builder_root (builder);
}

static JsonNode *
operation_list_namespaces (StacheStore   *store,
                           JsonObject    *args,
                           GCancellable  *cancellable,
                           GString       *text,
                           GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) namespaces = NULL;

  namespaces = stache_store_list_namespaces (store, arg_string (args, "parent"), cancellable, error);
  if (namespaces == NULL)
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "namespaces");
  json_builder_begin_array (builder);
  for (guint i = 0; i < namespaces->len; i++)
    {
      StacheNamespace *ns = g_ptr_array_index (namespaces, i);
      const char *description = stache_namespace_get_description (ns);

      json_builder_begin_object (builder);
      stache_tool_add_namespace_members (builder, ns);
      json_builder_end_object (builder);

      render (text, "%s%s%s\n", stache_namespace_get_name (ns),
              description != NULL ? ": " : "", description != NULL ? description : "");
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  if (namespaces->len == 0)
    render (text, "%s", _("No namespaces."));
  return builder_root (builder);
}

static void
append_document_line (GString        *text,
                      StacheDocument *document)
{
  const char *source = stache_document_get_source (document);
  guint chunks = stache_document_get_chunk_count (document);

  render (text, "%s  %s  %s  ", stache_document_get_id (document),
          stache_document_get_namespace (document),
          source != NULL ? source : (stache_document_get_title (document) != NULL
                                     ? stache_document_get_title (document) : "-"));
  render (text, g_dngettext (GETTEXT_PACKAGE, "(%u passage)", "(%u passages)", chunks), chunks);
  render (text, "\n");
}

static JsonNode *
operation_list_documents (StacheStore   *store,
                          JsonObject    *args,
                          GCancellable  *cancellable,
                          GString       *text,
                          GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) documents = NULL;

  documents = stache_store_list_documents (store, arg_string (args, "namespace"), cancellable, error);
  if (documents == NULL)
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "documents");
  json_builder_begin_array (builder);
  for (guint i = 0; i < documents->len; i++)
    {
      json_builder_begin_object (builder);
      stache_tool_add_document_members (builder, g_ptr_array_index (documents, i));
      json_builder_end_object (builder);
      append_document_line (text, g_ptr_array_index (documents, i));
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  if (documents->len == 0)
    render (text, "%s", _("No documents."));
  return builder_root (builder);
}

static JsonNode *
operation_get_document (StacheStore   *store,
                        JsonObject    *args,
                        GCancellable  *cancellable,
                        GString       *text,
                        GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(StacheDocument) document = NULL;
  JsonObject *metadata;
  const char *summary;

  document = stache_store_get_document (store, arg_string (args, "document_id"), cancellable, error);
  if (document == NULL)
    return NULL;

  metadata = stache_document_get_metadata (document);
  json_builder_begin_object (builder);
  stache_tool_add_document_members (builder, document);
  stache_tool_add_object_member (builder, "metadata", metadata);
  json_builder_end_object (builder);

  summary = stache_document_get_summary (document);
  append_document_line (text, document);
  if (stache_document_get_title (document) != NULL)
    render (text, "%s: %s\n", _("Title"), stache_document_get_title (document));
  if (summary != NULL)
    render (text, "%s: %s\n", _("Summary"), summary);
  return builder_root (builder);
}

static JsonNode *
operation_delete_document (StacheStore   *store,
                           JsonObject    *args,
                           GCancellable  *cancellable,
                           GString       *text,
                           GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *id = arg_string (args, "document_id");

  if (!stache_store_delete_document (store, id, cancellable, error))
    return NULL;

  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "document_id", id);
  json_builder_set_member_name (builder, "deleted");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);

  render (text, _("Deleted document %s."), id);
  return builder_root (builder);
}

