/* stache-mcp.c: `stache mcp`, the Model Context Protocol server on stdio
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * JSON-RPC 2.0, one message per line on stdin and stdout, as the MCP stdio
 * transport says. The sessions of protocol revisions 2024-11-05 to
 * 2025-11-25 begin with `initialize`; the version is negotiated there and
 * decides what the answers may hold (tool annotations from 2025-03-26,
 * titles, outputSchema and structuredContent from 2025-06-18, JSON-RPC
 * batches only in 2025-03-26).
 *
 * Threads: a reader thread blocks on stdin and hands whole lines to the
 * main loop through a queue, so their order is kept. Every tool call runs
 * in a worker thread (the store is made for that: its own async calls are
 * its sync calls in a thread), so pings and other requests are answered
 * while a long search, answer or ingest is under way. Only the main thread
 * writes to stdout; answers leave in the order the calls finish, each with
 * its request's id.
 *
 * Nothing but protocol messages may reach stdout: the protocol is written
 * to a private copy of the stdout descriptor, and descriptor 1 becomes
 * stderr, so a stray printf in a plugin cannot break the stream.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "stache-mcp.h"
#include "stache-operations.h"

/* Newest first; the first is what a client with an unknown version gets */
static const char * const supported_versions[] = {
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
};

#define JSONRPC_PARSE_ERROR      -32700
#define JSONRPC_INVALID_REQUEST  -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS   -32602
#define JSONRPC_INTERNAL_ERROR   -32603

/* ---- the server ---- */

typedef struct {
  GMainLoop   *loop;
  StacheStore *store;
  int          out_fd;          /* a copy of the real stdout */
  GAsyncQueue *lines;           /* from the reader thread; eof_marker ends it */
  char        *version;         /* negotiated; NULL before initialize */
  gboolean     initialized;     /* notifications/initialized came */
  GHashTable  *in_flight;       /* id as JSON text → Call */
  const StacheOperation *tools;  /* the operations, offered as tools */
  guint        n_tools;
  JsonNode   **input_schemas;
  JsonNode   **output_schemas;
  guint        pending;         /* tool calls not answered yet */
  gboolean     eof;
} Server;

/* The answers to one JSON-RPC batch, sent together when the last is in */
typedef struct {
  JsonArray *responses;
  guint      refs;
} Batch;

typedef struct {
  Server       *server;
  const StacheOperation *tool;
  JsonNode     *id;
  char         *key;
  Batch        *batch;
  JsonObject   *args;
  GCancellable *cancellable;
  gboolean      cancelled;
  GString      *text;
  JsonNode     *structured;
} Call;

static char eof_marker[] = "";

static gboolean
version_at_least (Server     *server,
                  const char *version)
{
  return server->version != NULL && strcmp (server->version, version) >= 0;
}

static void
write_line (Server   *server,
            JsonNode *message)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  gsize length;
  gsize done = 0;

  /* Not pretty: the generator escapes newlines inside strings, so a
   * message is one line */
  json_generator_set_root (generator, message);
  text = json_generator_to_data (generator, &length);
  text = g_realloc (text, length + 2);
  text[length++] = '\n';
  text[length] = '\0';

  while (done < length)
    {
      gssize n = write (server->out_fd, text + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          /* The client is gone; the rest of the work still ends cleanly */
          g_debug ("stdout: %s", g_strerror (errno));
          return;
        }
      done += n;
    }
}

static Batch *
batch_new (void)
{
  Batch *batch = g_new0 (Batch, 1);

  batch->responses = json_array_new ();
  batch->refs = 1;
  return batch;
}

static void
batch_unref (Server *server,
             Batch  *batch)
{
  g_autoptr(JsonNode) node = NULL;

  if (--batch->refs > 0)
    return;

  /* A batch of notifications only is answered with nothing */
  if (json_array_get_length (batch->responses) > 0)
    {
      node = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (node, batch->responses);
    }
  else
    json_array_unref (batch->responses);
  if (node != NULL)
    write_line (server, node);
  g_free (batch);
}

/* Takes @message */
static void
send_message (Server   *server,
              Batch    *batch,
              JsonNode *message)
{
  if (batch != NULL)
    json_array_add_element (batch->responses, message);
  else
    {
      write_line (server, message);
      json_node_unref (message);
    }
}

static JsonNode *
new_response (JsonNode *id)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "jsonrpc", "2.0");
  json_object_set_member (object, "id", id != NULL ? json_node_copy (id) : json_node_new (JSON_NODE_NULL));
  json_node_take_object (node, object);
  return node;
}

/* Takes @result */
static void
send_result (Server     *server,
             Batch      *batch,
             JsonNode   *id,
             JsonObject *result)
{
  JsonNode *node = new_response (id);

  json_object_set_object_member (json_node_get_object (node), "result", result);
  send_message (server, batch, node);
}

/* Takes @data. Error messages are protocol data: English, untranslated. */
static void
send_error (Server     *server,
            Batch      *batch,
            JsonNode   *id,
            int         code,
            const char *message,
            JsonObject *data)
{
  JsonNode *node = new_response (id);
  JsonObject *error = json_object_new ();

  json_object_set_int_member (error, "code", code);
  json_object_set_string_member (error, "message", message);
  if (data != NULL)
    json_object_set_object_member (error, "data", data);
  json_object_set_object_member (json_node_get_object (node), "error", error);
  send_message (server, batch, node);
}

static JsonObject *
tool_result (const char *text,
             JsonNode   *structured,
             gboolean    is_error)
{
  JsonObject *result = json_object_new ();
  JsonArray *content = json_array_new ();
  JsonObject *item = json_object_new ();

  json_object_set_string_member (item, "type", "text");
  json_object_set_string_member (item, "text", text);
  json_array_add_object_element (content, item);
  json_object_set_array_member (result, "content", content);
  if (structured != NULL)
    json_object_set_member (result, "structuredContent", json_node_ref (structured));
  if (is_error)
    json_object_set_boolean_member (result, "isError", TRUE);
  return result;
}

static void
maybe_quit (Server *server)
{
  if (server->eof && server->pending == 0)
    g_main_loop_quit (server->loop);
}

/* ---- tools/call ---- */

static void
call_free (Call *call)
{
  json_node_unref (call->id);
  g_free (call->key);
  json_object_unref (call->args);
  g_object_unref (call->cancellable);
  g_string_free (call->text, TRUE);
  if (call->structured != NULL)
    json_node_unref (call->structured);
  g_free (call);
}

static void
call_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Call *call = task_data;
  GError *error = NULL;

  call->structured = call->tool->run (call->server->store, call->args, cancellable, call->text, &error);
  if (call->structured == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
call_done (GObject      *source_object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *call = user_data;
  Server *server = call->server;
  g_autoptr(GError) error = NULL;

  g_hash_table_remove (server->in_flight, call->key);
  g_task_propagate_boolean (G_TASK (result), &error);

  /* A cancelled request is not answered (the spec's SHOULD) */
  if (!call->cancelled)
    {
      if (error != NULL)
        {
          /* As REST tells its clients (stache_operation_error_message()) */
          StacheOperationFailure failure = stache_operation_classify_error (error);
          gboolean log = FALSE;
          g_autofree char *message = stache_operation_error_message (error, failure, &log);

          if (log)
            g_printerr (_("stache mcp: %s failed: %s\n"), call->tool->name, error->message);
          send_result (server, call->batch, call->id, tool_result (message, NULL, TRUE));
        }
      else
        send_result (server, call->batch, call->id,
                     tool_result (call->text->str,
                                  version_at_least (server, "2025-06-18") ? call->structured : NULL,
                                  FALSE));
    }

  if (call->batch != NULL)
    batch_unref (server, call->batch);
  call_free (call);
  server->pending--;
  maybe_quit (server);
}

static void
handle_tools_call (Server     *server,
                   Batch      *batch,
                   JsonNode   *id,
                   const char *key,
                   JsonObject *params)
{
  JsonNode *name_node = params != NULL ? json_object_get_member (params, "name") : NULL;
  JsonNode *args_node = params != NULL ? json_object_get_member (params, "arguments") : NULL;
  g_autoptr(JsonObject) args = NULL;
  g_autofree char *problems = NULL;
  g_autoptr(GTask) task = NULL;
  const StacheOperation *tool = NULL;
  guint index = 0;
  Call *call;

  if (name_node == NULL || !stache_tool_node_has_type (name_node, "string"))
    {
      send_error (server, batch, id, JSONRPC_INVALID_PARAMS, "Invalid params: name must be a string", NULL);
      return;
    }
  if (args_node != NULL && !JSON_NODE_HOLDS_OBJECT (args_node) && !JSON_NODE_HOLDS_NULL (args_node))
    {
      send_error (server, batch, id, JSONRPC_INVALID_PARAMS, "Invalid params: arguments must be an object", NULL);
      return;
    }

  for (index = 0; index < server->n_tools; index++)
    if (g_str_equal (server->tools[index].name, json_node_get_string (name_node)))
      {
        tool = &server->tools[index];
        break;
      }
  if (tool == NULL)
    {
      g_autofree char *message = g_strdup_printf ("Unknown tool: %s", json_node_get_string (name_node));

      send_error (server, batch, id, JSONRPC_INVALID_PARAMS, message, NULL);
      return;
    }

  args = args_node != NULL && JSON_NODE_HOLDS_OBJECT (args_node)
         ? json_object_ref (json_node_get_object (args_node)) : json_object_new ();

  /* Wrong arguments are the model's to fix: a tool error, not a protocol error */
  if ((problems = stache_operation_check_arguments (server->input_schemas[index], args)) != NULL)
    {
      /* TRANSLATORS: %s is the tool name, then the list of problems */
      g_autofree char *text = g_strdup_printf (_("Invalid arguments for %s: %s"), tool->name, problems);

      send_result (server, batch, id, tool_result (text, NULL, TRUE));
      return;
    }

  call = g_new0 (Call, 1);
  call->server = server;
  call->tool = tool;
  call->id = json_node_copy (id);
  call->key = g_strdup (key);
  call->batch = batch;
  call->args = g_steal_pointer (&args);
  call->cancellable = g_cancellable_new ();
  call->text = g_string_new (NULL);
  if (batch != NULL)
    batch->refs++;
  server->pending++;
  g_hash_table_insert (server->in_flight, call->key, call);

  task = g_task_new (NULL, call->cancellable, call_done, call);
  g_task_set_task_data (task, call, NULL);
  g_task_run_in_thread (task, call_thread);
}

/* ---- the other methods ---- */

static void
handle_initialize (Server     *server,
                   Batch      *batch,
                   JsonNode   *id,
                   JsonObject *params)
{
  JsonNode *version_node = params != NULL ? json_object_get_member (params, "protocolVersion") : NULL;
  const char *requested;
  const char *chosen = supported_versions[0];
  JsonObject *result;
  JsonObject *capabilities;
  JsonObject *tools_capability;
  JsonObject *info;

  if (server->version != NULL)
    {
      send_error (server, batch, id, JSONRPC_INVALID_REQUEST, "Invalid request: already initialized", NULL);
      return;
    }
  if (version_node == NULL || !stache_tool_node_has_type (version_node, "string"))
    {
      send_error (server, batch, id, JSONRPC_INVALID_PARAMS, "Invalid params: protocolVersion must be a string", NULL);
      return;
    }

  /* The client's version if we speak it, else our newest: the client
   * decides whether it can live with that */
  requested = json_node_get_string (version_node);
  for (guint i = 0; i < G_N_ELEMENTS (supported_versions); i++)
    if (g_str_equal (requested, supported_versions[i]))
      chosen = supported_versions[i];
  server->version = g_strdup (chosen);
  g_debug ("initialize: client asked for %s, speaking %s", requested, chosen);

  result = json_object_new ();
  json_object_set_string_member (result, "protocolVersion", chosen);
  capabilities = json_object_new ();
  tools_capability = json_object_new ();
  json_object_set_boolean_member (tools_capability, "listChanged", FALSE);
  json_object_set_object_member (capabilities, "tools", tools_capability);
  json_object_set_object_member (result, "capabilities", capabilities);
  info = json_object_new ();
  json_object_set_string_member (info, "name", "stache");
  if (version_at_least (server, "2025-06-18"))
    json_object_set_string_member (info, "title", "Stache");
  json_object_set_string_member (info, "version", PACKAGE_VERSION);
  json_object_set_object_member (result, "serverInfo", info);
  if (version_at_least (server, "2025-03-26"))
    json_object_set_string_member (result, "instructions",
                                   "Stache is a local knowledge store. Use search to find passages, "
                                   "ask for an answer with citations, ingest_text to add texts.");
  send_result (server, batch, id, result);
}

static JsonObject *
describe_tool (Server *server,
               guint   index)
{
  const StacheOperation *tool = &server->tools[index];
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "name", tool->name);
  if (version_at_least (server, "2025-06-18"))
    json_object_set_string_member (object, "title", tool->title);
  json_object_set_string_member (object, "description", tool->description);
  json_object_set_member (object, "inputSchema", json_node_copy (server->input_schemas[index]));
  if (version_at_least (server, "2025-06-18"))
    json_object_set_member (object, "outputSchema", json_node_copy (server->output_schemas[index]));
  if (version_at_least (server, "2025-03-26"))
    {
      JsonObject *annotations = json_object_new ();

      json_object_set_string_member (annotations, "title", tool->title);
      json_object_set_boolean_member (annotations, "readOnlyHint", tool->read_only);
      if (!tool->read_only)
        {
          json_object_set_boolean_member (annotations, "destructiveHint", tool->destructive);
          json_object_set_boolean_member (annotations, "idempotentHint", tool->idempotent);
        }
      /* Only the local store: no web, no outside world */
      json_object_set_boolean_member (annotations, "openWorldHint", FALSE);
      json_object_set_object_member (object, "annotations", annotations);
    }
  return object;
}

static void
handle_tools_list (Server   *server,
                   Batch    *batch,
                   JsonNode *id)
{
  JsonObject *result = json_object_new ();
  JsonArray *list = json_array_new ();

  /* One page: there is no nextCursor, and any cursor gets the same page */
  for (guint i = 0; i < server->n_tools; i++)
    json_array_add_object_element (list, describe_tool (server, i));
  json_object_set_array_member (result, "tools", list);
  send_result (server, batch, id, result);
}

static void
handle_cancelled (Server     *server,
                  JsonObject *params)
{
  JsonNode *request_id = params != NULL ? json_object_get_member (params, "requestId") : NULL;
  g_autofree char *key = NULL;
  Call *call;

  /* Unknown or finished requests are ignored, as the spec allows */
  if (request_id == NULL || !JSON_NODE_HOLDS_VALUE (request_id))
    return;
  key = json_to_string (request_id, FALSE);
  call = g_hash_table_lookup (server->in_flight, key);
  if (call == NULL)
    return;

  g_debug ("cancelling request %s", key);
  call->cancelled = TRUE;
  g_cancellable_cancel (call->cancellable);
}

static gboolean
is_request_method (const char *method)
{
  return g_str_equal (method, "initialize") || g_str_equal (method, "ping") ||
         g_str_equal (method, "tools/list") || g_str_equal (method, "tools/call");
}

static void
handle_message (Server   *server,
                JsonNode *node,
                Batch    *batch)
{
  JsonObject *message;
  JsonNode *id = NULL;
  JsonNode *method_node;
  JsonNode *params_node;
  JsonObject *params = NULL;
  g_autofree char *key = NULL;
  const char *method;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      send_error (server, batch, NULL, JSONRPC_INVALID_REQUEST, "Invalid request: not a JSON-RPC message", NULL);
      return;
    }
  message = json_node_get_object (node);

  /* Ids are strings or numbers; MCP also forbids null */
  if (json_object_has_member (message, "id"))
    {
      JsonNode *candidate = json_object_get_member (message, "id");

      /* Doubles must be finite: inf would come back as JSON that no one can read */
      if ((!stache_tool_node_has_type (candidate, "string") && !stache_tool_node_has_type (candidate, "number")) ||
          (json_node_get_value_type (candidate) == G_TYPE_DOUBLE && !isfinite (json_node_get_double (candidate))))
        {
          send_error (server, batch, NULL, JSONRPC_INVALID_REQUEST,
                      "Invalid request: id must be a string or a number", NULL);
          return;
        }
      id = candidate;
    }

  if (g_strcmp0 (stache_tool_member_string (message, "jsonrpc"), "2.0") != 0)
    {
      send_error (server, batch, id, JSONRPC_INVALID_REQUEST, "Invalid request: jsonrpc must be \"2.0\"", NULL);
      return;
    }

  method_node = json_object_get_member (message, "method");
  if (method_node == NULL && id != NULL &&
      (json_object_has_member (message, "result") || json_object_has_member (message, "error")))
    return;  /* a response; this server sends no requests, so nothing waits for it */
  if (method_node == NULL || !stache_tool_node_has_type (method_node, "string"))
    {
      send_error (server, batch, id, JSONRPC_INVALID_REQUEST, "Invalid request: method must be a string", NULL);
      return;
    }
  method = json_node_get_string (method_node);

  params_node = json_object_get_member (message, "params");
  if (params_node != NULL && JSON_NODE_HOLDS_OBJECT (params_node))
    params = json_node_get_object (params_node);
  else if (params_node != NULL && !JSON_NODE_HOLDS_NULL (params_node))
    {
      if (id != NULL)
        send_error (server, batch, id, JSONRPC_INVALID_PARAMS, "Invalid params: params must be an object", NULL);
      return;
    }

  if (id == NULL)
    {
      /* Notifications are never answered, not even unknown ones */
      if (g_str_equal (method, "notifications/initialized"))
        server->initialized = TRUE;
      else if (g_str_equal (method, "notifications/cancelled"))
        handle_cancelled (server, params);
      else
        g_debug ("ignoring notification %s", method);
      return;
    }

  if (!is_request_method (method))
    {
      g_autofree char *text = g_strdup_printf ("Method not found: %s", method);

      send_error (server, batch, id, JSONRPC_METHOD_NOT_FOUND, text, NULL);
      return;
    }

  /* Before initialize only pings are allowed */
  if (server->version == NULL && !g_str_equal (method, "initialize") && !g_str_equal (method, "ping"))
    {
      send_error (server, batch, id, JSONRPC_INVALID_REQUEST,
                  "Invalid request: the server is not initialized; send initialize first", NULL);
      return;
    }

  key = json_to_string (id, FALSE);
  if (g_hash_table_contains (server->in_flight, key))
    {
      send_error (server, batch, id, JSONRPC_INVALID_REQUEST,
                  "Invalid request: a request with this id is still in progress", NULL);
      return;
    }

  if (g_str_equal (method, "initialize"))
    handle_initialize (server, batch, id, params);
  else if (g_str_equal (method, "ping"))
    send_result (server, batch, id, json_object_new ());
  else if (g_str_equal (method, "tools/list"))
    handle_tools_list (server, batch, id);
  else
    handle_tools_call (server, batch, id, key, params);
}

/* Batches are JSON-RPC 2.0, added to MCP in 2025-03-26 and removed again
 * in 2025-06-18 */
static void
handle_batch (Server    *server,
              JsonArray *array)
{
  Batch *batch;

  if (g_strcmp0 (server->version, "2025-03-26") != 0)
    {
      g_autofree char *text = g_strdup_printf ("Invalid request: batches are not supported in protocol version %s",
                                               server->version != NULL ? server->version : "(not initialized)");

      send_error (server, NULL, NULL, JSONRPC_INVALID_REQUEST, text, NULL);
      return;
    }
  if (json_array_get_length (array) == 0)
    {
      send_error (server, NULL, NULL, JSONRPC_INVALID_REQUEST, "Invalid request: empty batch", NULL);
      return;
    }

  batch = batch_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      /* initialize must not be batched */
      if (JSON_NODE_HOLDS_OBJECT (element) &&
          g_strcmp0 (stache_tool_member_string (json_node_get_object (element), "method"),
                     "initialize") == 0)
        {
          JsonNode *id = json_object_get_member (json_node_get_object (element), "id");

          send_error (server, batch, id != NULL && JSON_NODE_HOLDS_VALUE (id) ? id : NULL,
                      JSONRPC_INVALID_REQUEST, "Invalid request: initialize must not be part of a batch", NULL);
          continue;
        }
      handle_message (server, element, batch);
    }
  batch_unref (server, batch);
}

static void
handle_line (Server     *server,
             const char *line,
             gsize       length)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  gsize i;

  while (length > 0 && (line[length - 1] == '\r' || line[length - 1] == '\n'))
    length--;
  for (i = 0; i < length && g_ascii_isspace (line[i]); i++)
    ;
  if (i == length)
    return;  /* blank lines carry no message */

  if (!g_utf8_validate (line, length, NULL) || memchr (line, '\0', length) != NULL)
    {
      send_error (server, NULL, NULL, JSONRPC_PARSE_ERROR, "Parse error: the line is not valid UTF-8", NULL);
      return;
    }
  root = stache_json_parse (line, (gssize) length, 0, TRUE, "the message", &error);
  if (root == NULL && g_error_matches (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT))
    {
      /* A string holds U+0000: valid JSON that cannot be taken (the text
       * would end there). The nesting was checked already, so the line
       * can be parsed as it is to answer its id. */
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autofree char *text = g_strdup_printf ("Invalid params: %s", error->message);
      JsonNode *id = NULL;

      if (json_parser_load_from_data (parser, line, (gssize) length, NULL) &&
          json_parser_get_root (parser) != NULL && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        id = json_object_get_member (json_node_get_object (json_parser_get_root (parser)), "id");
      send_error (server, NULL, id, JSONRPC_INVALID_PARAMS, text, NULL);
      return;
    }
  if (root == NULL)
    {
      g_autofree char *text = g_strdup_printf ("Parse error: %s", error->message);

      send_error (server, NULL, NULL, JSONRPC_PARSE_ERROR, text, NULL);
      return;
    }

  if (JSON_NODE_HOLDS_ARRAY (root))
    handle_batch (server, json_node_get_array (root));
  else
    handle_message (server, root, NULL);
}

/* ---- input ---- */

/* The longest message line taken: as much as the REST server takes in a
 * body by default. A longer line is read to its end and thrown away, and
 * answered with an error. */
#define MAX_LINE_BYTES (16 * 1024 * 1024)

/* A line read from stdin; NULL text for one that was too long */
typedef struct {
  char  *text;
  gsize  length;
} Line;

static gboolean
drain_lines (gpointer user_data)
{
  Server *server = user_data;
  Line *line;

  while ((line = g_async_queue_try_pop (server->lines)) != NULL)
    {
      if (line->text == eof_marker)
        {
          g_debug ("stdin closed; finishing %u call(s)", server->pending);
          server->eof = TRUE;
          maybe_quit (server);
        }
      else if (line->text == NULL)
        {
          g_autofree char *text = g_strdup_printf ("Parse error: the line is longer than %d bytes",
                                                   MAX_LINE_BYTES);

          send_error (server, NULL, NULL, JSONRPC_PARSE_ERROR, text, NULL);
        }
      else
        {
          handle_line (server, line->text, line->length);
          g_free (line->text);
        }
      g_free (line);
    }
  return G_SOURCE_REMOVE;
}

static void
push_line (Server *server,
           char   *text,
           gsize   length)
{
  Line *line = g_new (Line, 1);

  line->text = text;
  line->length = length;
  g_async_queue_push (server->lines, line);
  /* Not g_main_context_invoke(): while the main thread does not own the
   * context (before the loop runs) that would run the callback here, in
   * this thread */
  g_idle_add (drain_lines, server);
}

/* Reads stdin as bytes and splits it on "\n" alone, as MCP's stdio
 * transport frames messages: a carriage return, a NUL or a U+2028/U+2029
 * inside a message is part of it (GIOChannel's automatic line ends would
 * split there and leave the request unanswered). A "\r" before the "\n"
 * is dropped with the other trailing whitespace by handle_line(). */
static gpointer
reader_thread (gpointer user_data)
{
  Server *server = user_data;
  g_autoptr(GByteArray) pending = g_byte_array_new ();
  gboolean discarding = FALSE;
  char buffer[65536];

  for (;;)
    {
      gssize n = read (STDIN_FILENO, buffer, sizeof buffer);
      gsize start = 0;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_printerr ("stache mcp: stdin: %s\n", g_strerror (saved));
          break;
        }
      if (n == 0)
        break;

      while (start < (gsize) n)
        {
          const char *newline = memchr (buffer + start, '\n', (gsize) n - start);
          gsize end = newline != NULL ? (gsize) (newline - buffer) : (gsize) n;

          if (!discarding)
            {
              if (pending->len + (end - start) > MAX_LINE_BYTES)
                {
                  discarding = TRUE;
                  g_byte_array_set_size (pending, 0);
                }
              else
                g_byte_array_append (pending, (const guint8 *) buffer + start, (guint) (end - start));
            }
          start = end;
          if (newline == NULL)
            break;
          start++;   /* the "\n" */

          if (discarding)
            {
              push_line (server, NULL, 0);   /* answered as too long */
              discarding = FALSE;
            }
          else
            {
              gsize length = pending->len;

              g_byte_array_append (pending, (const guint8 *) "", 1);
              push_line (server, (char *) g_byte_array_free (g_steal_pointer (&pending), FALSE), length);
              pending = g_byte_array_new ();
            }
        }
    }

  /* A last message without its "\n" still counts. */
  if (discarding)
    push_line (server, NULL, 0);
  else if (pending->len > 0)
    {
      gsize length = pending->len;

      g_byte_array_append (pending, (const guint8 *) "", 1);
      push_line (server, (char *) g_byte_array_free (g_steal_pointer (&pending), FALSE), length);
    }

  {
    Line *line = g_new0 (Line, 1);

    line->text = eof_marker;
    g_async_queue_push (server->lines, line);
    g_idle_add (drain_lines, server);
  }
  return NULL;
}

/* ---- main ---- */

static gboolean
parse_schemas (Server *server)
{
  server->tools = stache_operations (&server->n_tools);
  server->input_schemas = g_new0 (JsonNode *, server->n_tools);
  server->output_schemas = g_new0 (JsonNode *, server->n_tools);
  for (guint i = 0; i < server->n_tools; i++)
    {
      server->input_schemas[i] = stache_operation_get_schema (&server->tools[i], FALSE);
      server->output_schemas[i] = stache_operation_get_schema (&server->tools[i], TRUE);
    }
  return TRUE;
}

int
stache_mcp_main (int    argc,
                 char **argv)
{
  const GOptionEntry entries[] = {
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  Server server = { 0 };
  GThread *reader;

  g_option_context_set_summary (context,
                                _("Serve the store to AI assistants: Model Context Protocol (JSON-RPC) "
                                  "on standard input and output. Logs go to standard error."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("stache mcp: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr ("%s\n", _("stache mcp: no arguments expected"));
      return EXIT_USAGE;
    }

  /* The protocol gets a private copy of stdout; whatever else writes to
   * stdout from now on lands on stderr */
  server.out_fd = dup (STDOUT_FILENO);
  if (server.out_fd < 0 || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0)
    {
      g_printerr ("stache mcp: stdout: %s\n", g_strerror (errno));
      return 1;
    }
  /* A client that goes away must not kill calls in progress */
  signal (SIGPIPE, SIG_IGN);

  if (!parse_schemas (&server))
    return 1;
  if ((server.store = stache_tool_open_store ()) == NULL)
    return 1;

  server.loop = g_main_loop_new (NULL, FALSE);
  server.lines = g_async_queue_new ();
  server.in_flight = g_hash_table_new (g_str_hash, g_str_equal);

  reader = g_thread_new ("mcp-stdin", reader_thread, &server);
  g_main_loop_run (server.loop);
  g_thread_join (reader);
  /* Lines that came after the end mark cannot exist; drain for safety */
  drain_lines (&server);

  g_hash_table_unref (server.in_flight);
  g_async_queue_unref (server.lines);
  g_main_loop_unref (server.loop);
  g_object_unref (server.store);
  for (guint i = 0; i < server.n_tools; i++)
    {
      g_clear_pointer (&server.input_schemas[i], json_node_unref);
      g_clear_pointer (&server.output_schemas[i], json_node_unref);
    }
  g_free (server.input_schemas);
  g_free (server.output_schemas);
  g_free (server.version);
  close (server.out_fd);
  return 0;
}
