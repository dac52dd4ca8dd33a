/* stache-serve.c: `stache serve`, the store as a JSON REST API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One SoupServer on one loopback (or, with a token or --insecure, any)
 * address. Connections are accepted here (a GSocketListener) and handed to
 * soup_server_accept_iostream(): closing the listener then stops accepting
 * without touching requests in flight, and libsoup keeps no idle
 * keep-alive connections around (libsoup 3.2 leaks those when the client
 * closes them). Accepting ourselves lets the server cap the connections
 * (serve_max_connections, by default what the file descriptor limit leaves
 * room for; at the cap the connection that waited longest without a
 * request in progress is let go), give each a deadline for its request's
 * headers, its body and its idle time (serve_header_timeout,
 * serve_body_timeout, serve_idle_timeout), and back off, logging once in
 * a while, when accepting fails (out of file descriptors).
 *
 * A connection goes to libsoup once its request's head (request line and
 * headers) is in, which the server sees with MSG_PEEK: a head over 64 KiB is
 * answered 431 here. Requests libsoup cannot parse still get a JSON error
 * (on_request_started()).
 *
 * Every request passes an early handler first, when its headers are in and
 * its body is not: authentication, the body size limit (by Content-Length,
 * then by counting chunks) and shutdown are decided there, so a refused
 * body is never stored; a refused request is answered at once, without
 * waiting for the body it declares (answer_before_body()). Routes come from one table, which also writes the
 * paths of the OpenAPI document, so the two cannot disagree.
 *
 * Anything that touches the store runs in a GTask worker thread while the
 * message is paused; the main loop only parses, routes and writes JSON, so
 * /v1/health answers during a long ingest. StacheStore may be called from
 * several threads at once.
 *
 * On SIGTERM or SIGINT new requests get 503 shutting_down, and the process
 * exits 0 once every request and every store job already started has
 * finished and requests stopped coming (at most 10 s). A second signal
 * exits at once with status 1.
 */
/* (POLLRDHUP) */
#define _GNU_SOURCE 1
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "stache-serve.h"
#include "stache-operations.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8000
#define DEFAULT_MAX_BODY_SIZE (16 * 1024 * 1024)
/* The longest name an uploaded file may have, in bytes */
#define MAX_UPLOAD_NAME_BYTES 240
/* Settings keys. The token key maps to the STACHE_API_TOKEN environment
 * variable and, ending in _token, is redacted by `stache config`. */
#define TOKEN_KEY "stache_api_token"
#define MAX_BODY_KEY "serve_max_body_size"
/* How many bytes of request bodies may be held at once, over all requests
 * in flight; past it a request is 503 busy. Never less than one body of
 * the largest size. */
#define MAX_BUFFERED_KEY "serve_max_buffered"
#define DEFAULT_MAX_BUFFERED (64 * 1024 * 1024)
/* Connections: how many at once (default: what the file descriptor limit
 * leaves room for), and how long one may take to send a request's headers,
 * its body, or to send nothing between requests. */
#define MAX_CONNECTIONS_KEY "serve_max_connections"
#define HEADER_TIMEOUT_KEY "serve_header_timeout"
#define BODY_TIMEOUT_KEY "serve_body_timeout"
#define IDLE_TIMEOUT_KEY "serve_idle_timeout"

typedef struct
{
  StacheStore    *store;
  SoupServer     *server;
  GSocketListener *listener;
  GCancellable   *accepting;      /* cancelled to stop accepting */
  GHashTable     *connections;    /* remote address text → Connection */
  guint           max_connections;
  guint           header_timeout; /* seconds */
  guint           body_timeout;   /* seconds */
  guint           idle_timeout;   /* seconds */
  guint           accept_backoff_ms;
  gint64          last_accept_log; /* monotonic µs of the last accept error logged */
  guint           accept_errors_unlogged;
  GMainLoop      *loop;
  char           *token;          /* NULL: no authentication */
  gsize           max_body_size;
  gsize           max_buffered;   /* bytes of bodies held at once, at most */
  gsize           buffered;       /* bytes of bodies held now */
  gboolean        trim_after;     /* bodies were held: give memory back when none is */
  gboolean        shutting_down;
  gint64          shutdown_started; /* monotonic µs of the first SIGTERM/SIGINT */
  gint64          last_request;   /* monotonic µs of the latest request's headers */
  guint           drain_source;   /* drain_check(), while shutting down */
  guint           n_requests;     /* headers read, response not yet written */
  guint           n_jobs;         /* store work running in threads */
  int             exit_status;
  GMutex          upload_lock;    /* one upload at a time in the upload folder */
} Server;

/* What a request carries from the early handler to the end */
typedef struct
{
  Server  *server;
  gsize    received;
  gsize    counted;    /* of @received, in @server->buffered */
  gboolean finished;
} RequestState;

#define REQUEST_STATE_KEY "stache-serve-request"

/* ---- JSON responses ---- */

static void
set_json_response (SoupServerMessage *msg,
                   guint              status,
                   JsonNode          *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  char *text;
  gsize length = 0;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &length);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

/* {"error": {"code": @code, "message": @message}} */
static char *
error_text (const char *code,
            const char *message,
            gsize      *length)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "code", code);
  stache_tool_add_string_member (builder, "message", message);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, length);
}

static void
set_error (SoupServerMessage *msg,
           guint              status,
           const char        *code,
           const char        *message)
{
  gsize length = 0;
  char *text = error_text (code, message, &length);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

static void set_error_printf (SoupServerMessage *msg,
                              guint              status,
                              const char        *code,
                              const char        *format,
                              ...) G_GNUC_PRINTF (4, 5);

static void
set_error_printf (SoupServerMessage *msg,
                  guint              status,
                  const char        *code,
                  const char        *format,
                  ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  set_error (msg, status, code, message);
}

/* ---- Requests: arguments from JSON bodies ---- */

/* Request arguments; one struct for every route keeps the job code short */
typedef struct _Job Job;
typedef JsonNode *(*JobFunc) (Job     *job,
                              GError **error);

struct _Job
{
  Server            *server;
  SoupServerMessage *msg;
  JobFunc            func;
  guint              status;      /* of a success */
  const char        *not_found;   /* the error code of STACHE_ERROR_NOT_FOUND */
  const char        *exists;      /* … of STACHE_ERROR_EXISTS */
  const char        *not_empty;   /* … of STACHE_ERROR_NOT_EMPTY */
  char              *query;
  char              *namespace_;
  char              *id;
  char              *text;
  char              *source;
  char              *title;
  char              *description;
  char              *filename;
  JsonObject        *filter;
  JsonObject        *metadata;
  GBytes            *upload;
  guint              top_k;
  char              *mode;        /* hybrid, vector or keyword; NULL: hybrid */
  gboolean           cascade;
  gboolean           by_document;
};

static void
job_free (Job *job)
{
  g_clear_object (&job->msg);
  g_free (job->query);
  g_free (job->mode);
  g_free (job->namespace_);
  g_free (job->id);
  g_free (job->text);
  g_free (job->source);
  g_free (job->title);
  g_free (job->description);
  g_free (job->filename);
  g_clear_pointer (&job->filter, json_object_unref);
  g_clear_pointer (&job->metadata, json_object_unref);
  g_clear_pointer (&job->upload, g_bytes_unref);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)

static gboolean bad_argument (GError    **error,
                              const char *format,
                              ...) G_GNUC_PRINTF (2, 3);

static gboolean
bad_argument (GError    **error,
              const char *format,
              ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

/* A string member; absent and null leave *out NULL */
static gboolean
get_string (JsonObject  *object,
            const char  *name,
            gboolean     required,
            char       **out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        return bad_argument (error, _("The member “%s” is required"), name);
      return TRUE;
    }

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return bad_argument (error, _("The member “%s” must be a string"), name);

  if (required && json_node_get_string (node)[0] == '\0')
    return bad_argument (error, _("The member “%s” must not be empty"), name);

  *out = json_node_dup_string (node);
  return TRUE;
}

static gboolean
get_object (JsonObject  *object,
            const char  *name,
            JsonObject **out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bad_argument (error, _("The member “%s” must be an object"), name);

  *out = json_object_ref (json_node_get_object (node));
  return TRUE;
}

static gboolean
get_boolean (JsonObject  *object,
             const char  *name,
             gboolean    *out,
             GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  *out = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return bad_argument (error, _("The member “%s” must be true or false"), name);

  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
get_top_k (JsonObject  *object,
           guint       *out,
           GError     **error)
{
  JsonNode *node = json_object_get_member (object, "top_k");
  gint64 value;

  *out = 0;   /* the store's search_top_k setting */
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return bad_argument (error, _("The member “%s” must be an integer"), "top_k");

  value = json_node_get_int (node);
  if (value < 1 || value > STACHE_OPERATION_MAX_TOP_K)
    /* TRANSLATORS: a member name, then the smallest and the largest value */
    return bad_argument (error, _("The member “%s” must be between %d and %d"), "top_k", 1,
                         STACHE_OPERATION_MAX_TOP_K);

  *out = (guint) value;
  return TRUE;
}

/* Fails with the message given, for a member the route does not know */
static gboolean
check_members (JsonObject         *object,
               const char * const *known,
               GError            **error)
{
  g_autoptr(GList) names = json_object_get_members (object);

  for (GList *l = names; l != NULL; l = l->next)
    {
      if (!g_strv_contains (known, l->data))
        return bad_argument (error, _("Unknown member “%s”"), (const char *) l->data);
    }

  return TRUE;
}

/* ---- Store jobs (worker threads) ---- */

static gboolean
namespace_exists (StacheStore  *store,
                  const char   *name,
                  GError      **error)
{
  g_autoptr(GPtrArray) namespaces = NULL;

  /* The default namespace exists before anything is ingested into it. */
  if (g_str_equal (name, "default"))
    return TRUE;

  namespaces = stache_store_list_namespaces (store, NULL, NULL, error);
  if (namespaces == NULL)
    return FALSE;

  for (guint i = 0; i < namespaces->len; i++)
    {
      if (g_strcmp0 (stache_namespace_get_name (g_ptr_array_index (namespaces, i)), name) == 0)
        return TRUE;
    }

  return FALSE;
}

/* NULL with @error unset means "no such namespace" */
static gboolean
require_namespace (Job     *job,
                   GError **error)
{
  g_autoptr(GError) local_error = NULL;

  if (job->namespace_ == NULL || namespace_exists (job->server->store, job->namespace_, &local_error))
    return TRUE;

  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  else
    g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND,
                 _("There is no namespace “%s”"), job->namespace_);
  job->not_found = "namespace_not_found";
  return FALSE;
}

/* Runs the operation @name (stache-operations.c) on @args; its plain-text
 * rendering is not wanted here. */
static JsonNode *
run_operation (Job         *job,
               const char  *name,
               JsonObject  *args,
               GError     **error)
{
  return stache_operation_run (name, job->server->store, args, NULL, NULL, error);
}

/* The arguments every route shares with its operation; top_k 0 is the
 * store's search_top_k setting */
static JsonObject *
job_args (Job        *job,
          const char *query_member)
{
  JsonObject *args = json_object_new ();

  if (query_member != NULL)
    json_object_set_string_member (args, query_member, job->query);
  if (job->namespace_ != NULL)
    json_object_set_string_member (args, "namespace", job->namespace_);
  json_object_set_int_member (args, "top_k", job->top_k);
  return args;
}

static JsonNode *
job_search (Job     *job,
            GError **error)
{
  g_autoptr(JsonObject) args = NULL;

  if (!require_namespace (job, error))
    return NULL;

  args = job_args (job, "query");
  if (job->mode != NULL)
    json_object_set_string_member (args, "mode", job->mode);
  if (job->filter != NULL)
    json_object_set_object_member (args, "filter", json_object_ref (job->filter));
  json_object_set_boolean_member (args, "group_by_document", job->by_document);
  return run_operation (job, "search", args, error);
}

static JsonNode *
job_ask (Job     *job,
         GError **error)
{
  g_autoptr(JsonObject) args = NULL;

  if (!require_namespace (job, error))
    return NULL;

  args = job_args (job, "question");
  return run_operation (job, "ask", args, error);
}

/* An ingest result (stache_tool_add_ingest_result_members()), answered 201
 * only when something new exists afterwards */
static JsonNode *
ingest_answer (Job      *job,
               JsonNode *result)
{
  if (result != NULL)
    job->status = g_strcmp0 (stache_tool_member_string (json_node_get_object (result), "outcome"), "added") == 0
                    ? SOUP_STATUS_CREATED : SOUP_STATUS_OK;
  return result;
}

static JsonNode *
job_ingest_text (Job     *job,
                 GError **error)
{
  g_autoptr(JsonObject) args = json_object_new ();

  json_object_set_string_member (args, "text", job->text);
  if (job->namespace_ != NULL)
    json_object_set_string_member (args, "namespace", job->namespace_);
  if (job->source != NULL)
    json_object_set_string_member (args, "source", job->source);
  if (job->title != NULL)
    json_object_set_string_member (args, "title", job->title);
  if (job->metadata != NULL)
    json_object_set_object_member (args, "metadata", json_object_ref (job->metadata));
  return ingest_answer (job, run_operation (job, "ingest_text", args, error));
}

/* An upload is stored under a path made of its namespace and file name,
 * because a file's document id comes from its path: uploading the same
 * name into the same namespace again replaces the document (or leaves it
 * unchanged). The file is removed once the store has read it. */
static JsonNode *
job_ingest_upload (Job     *job,
                   GError **error)
{
  g_autoptr(StacheIngestResult) result = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GFile) file = NULL;
  g_autofree char *ns_hash = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&job->server->upload_lock);
  gsize size = 0;
  const char *data = g_bytes_get_data (job->upload, &size);

  ns_hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
                                           job->namespace_ != NULL ? job->namespace_ : "default", -1);
  ns_hash[16] = '\0';
  folder = g_build_filename (g_get_user_data_dir (), "stache", "uploads", ns_hash, NULL);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot create the upload folder: %s"), g_strerror (saved_errno));
      return NULL;
    }

  path = g_build_filename (folder, job->filename, NULL);
  if (!g_file_set_contents_full (path, data != NULL ? data : "", size,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return NULL;

  file = g_file_new_for_path (path);
  result = stache_store_ingest_file (job->server->store, file, job->namespace_, NULL, error);
  g_unlink (path);
  if (result == NULL)
    return NULL;

  json_builder_begin_object (builder);
  stache_tool_add_ingest_result_members (builder, result);
  json_builder_end_object (builder);
  return ingest_answer (job, json_builder_get_root (builder));
}

static JsonNode *
job_list_documents (Job     *job,
                    GError **error)
{
  g_autoptr(JsonObject) args = json_object_new ();

  if (!require_namespace (job, error))
    return NULL;

  if (job->namespace_ != NULL)
    json_object_set_string_member (args, "namespace", job->namespace_);
  return run_operation (job, "list_documents", args, error);
}

static JsonNode *
job_get_document (Job     *job,
                  GError **error)
{
  g_autoptr(JsonObject) args = json_object_new ();

  json_object_set_string_member (args, "document_id", job->id);
  return run_operation (job, "get_document", args, error);
}

static JsonNode *
deleted_node (const char *member,
              const char *value)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_boolean_member (object, "deleted", TRUE);
  json_object_set_string_member (object, member, value);
  json_node_take_object (node, object);
  return node;
}

/* The operation's {"document_id", "deleted"} is REST's {"deleted", "id"} */
static JsonNode *
job_delete_document (Job     *job,
                     GError **error)
{
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonNode) result = NULL;

  json_object_set_string_member (args, "document_id", job->id);
  result = run_operation (job, "delete_document", args, error);
  if (result == NULL)
    return NULL;

  return deleted_node ("id", stache_tool_member_string (json_node_get_object (result), "document_id"));
}

static JsonNode *
namespace_node (StacheNamespace *ns)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  stache_tool_add_namespace_members (builder, ns);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static JsonNode *
job_list_namespaces (Job     *job,
                     GError **error)
{
  g_autoptr(JsonObject) args = json_object_new ();

  if (job->namespace_ != NULL)
    json_object_set_string_member (args, "parent", job->namespace_);
  return run_operation (job, "list_namespaces", args, error);
}

static JsonNode *
job_create_namespace (Job     *job,
                      GError **error)
{
  g_autoptr(StacheNamespace) ns = NULL;
  g_autoptr(GError) local_error = NULL;

  /* The provider refuses a namespace created before; this also refuses
   * "default" and one that only exists because something was stored in it,
   * which the provider would register. */
  if (namespace_exists (job->server->store, job->namespace_, &local_error))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_EXISTS, _("The namespace “%s” already exists"),
                   job->namespace_);
      return NULL;
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  ns = stache_store_create_namespace (job->server->store, job->namespace_, job->description, NULL, error);
  if (ns == NULL)
    return NULL;

  return namespace_node (ns);
}

static JsonNode *
job_delete_namespace (Job     *job,
                      GError **error)
{
  if (!stache_store_delete_namespace (job->server->store, job->namespace_, job->cascade, NULL, error))
    return NULL;

  return deleted_node ("name", job->namespace_);
}

/* ---- Running jobs ---- */

static void maybe_quit (Server *server);

static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  GError *error = NULL;
  JsonNode *node = job->func (job, &error);

  if (node == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
}

static void
set_store_error (SoupServerMessage *msg,
                 Job               *job,
                 const GError      *error)
{
  StacheOperationFailure failure = stache_operation_classify_error (error);
  const char *code = stache_operation_failure_code (failure);
  gboolean log = FALSE;
  g_autofree char *message = stache_operation_error_message (error, failure, &log);
  guint status;

  if (log)
    g_printerr (_("stache serve: %s %s failed: %s\n"), soup_server_message_get_method (msg),
                g_uri_get_path (soup_server_message_get_uri (msg)), error->message);

  switch (failure)
    {
    case STACHE_OPERATION_FAILED_ARGUMENT:
      status = SOUP_STATUS_BAD_REQUEST;
      break;
    case STACHE_OPERATION_FAILED_NOT_FOUND:
      status = SOUP_STATUS_NOT_FOUND;
      code = job->not_found != NULL ? job->not_found : code;
      break;
    case STACHE_OPERATION_FAILED_UNSUPPORTED:
      status = SOUP_STATUS_NOT_IMPLEMENTED;
      break;
    case STACHE_OPERATION_FAILED_EXISTS:
      status = SOUP_STATUS_CONFLICT;
      code = job->exists != NULL ? job->exists : code;
      break;
    case STACHE_OPERATION_FAILED_NOT_EMPTY:
      status = SOUP_STATUS_CONFLICT;
      code = job->not_empty != NULL ? job->not_empty : code;
      break;
    case STACHE_OPERATION_FAILED_UPSTREAM:
      status = SOUP_STATUS_BAD_GATEWAY;
      break;
    case STACHE_OPERATION_FAILED_UNAVAILABLE:
      status = SOUP_STATUS_SERVICE_UNAVAILABLE;
      break;
    case STACHE_OPERATION_FAILED_INTERNAL:
    default:
      status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
      break;
    }
  set_error (msg, status, code, message);
}

static void
job_done (GObject      *source_object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Job *job = user_data;
  Server *server = job->server;
  RequestState *state = g_object_get_data (G_OBJECT (job->msg), REQUEST_STATE_KEY);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = g_task_propagate_pointer (G_TASK (result), &error);

  /* The client may be gone; the work is done all the same. */
  if (state != NULL && !state->finished)
    {
      if (node != NULL)
        set_json_response (job->msg, job->status, node);
      else
        set_store_error (job->msg, job, error);
      soup_server_message_unpause (job->msg);
    }

  /* The message is the main loop's: drop it here. The GTask (and with it
   * the job) may be finalized in the worker thread, where unreffing the
   * last reference of a SoupServerMessage would race with the server. */
  g_clear_object (&job->msg);

  server->n_jobs--;
  maybe_quit (server);
}

static void
run_job (Job *job)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, job_done, job);

  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_set_name (task, "stache-serve-job");
  soup_server_message_pause (job->msg);
  job->server->n_jobs++;
  g_task_run_in_thread (task, job_thread);
}

static Job *
job_new (Server            *server,
         SoupServerMessage *msg,
         JobFunc            func)
{
  Job *job = g_new0 (Job, 1);

  job->server = server;
  job->msg = g_object_ref (msg);
  job->func = func;
  job->status = SOUP_STATUS_OK;
  return job;
}

/* ---- Routes ---- */

typedef struct
{
  Server            *server;
  SoupServerMessage *msg;
  GHashTable        *query;        /* form-decoded query string, or NULL */
  char              *param;        /* the decoded {id} or {name} segment */
  JsonObject        *body;         /* a JSON request body */
} Request;

typedef void (*RouteFunc) (Request *request);

typedef enum {
  BODY_NONE,
  BODY_JSON,
  BODY_MULTIPART,
} BodyKind;

typedef struct
{
  const char *method;
  const char *path;            /* OpenAPI template; one {param} segment at most */
  RouteFunc   func;
  BodyKind    body;
  gboolean    open;            /* served without a token */
  const char *operation_id;
  const char *summary;
  const char *request_schema;
  const char *response_schema;
  guint       status;          /* of a success */
  const char *query_params;    /* space-separated: "namespace" */
  const char *errors;          /* space-separated error statuses besides 401 and 500 */
} Route;

static void
reply_bad_request (Request      *request,
                   const GError *error)
{
  set_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument", error->message);
}

static const char *
query_value (Request    *request,
             const char *name)
{
  const char *value = request->query != NULL ? g_hash_table_lookup (request->query, name) : NULL;

  return value != NULL && value[0] != '\0' ? value : NULL;
}

static char *openapi_document (gboolean pretty);

static void
route_openapi (Request *request)
{
  g_autofree char *text = openapi_document (FALSE);
  gsize length = strlen (text);

  soup_server_message_set_status (request->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (request->msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&text), length);
}

static void
route_health (Request *request)
{
  JsonObject *object = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (object, "status", "ok");
  json_object_set_string_member (object, "version", PACKAGE_VERSION);
  json_node_take_object (node, object);
  set_json_response (request->msg, SOUP_STATUS_OK, node);
}

static void
route_search (Request *request)
{
  static const char * const known[] = { "query", "namespace", "top_k", "mode", "filter", "group_by_document",
                                        NULL };
  g_autoptr(Job) job = job_new (request->server, request->msg, job_search);
  g_autoptr(GError) error = NULL;
  StacheSearchMode mode;

  if (!check_members (request->body, known, &error) ||
      !get_string (request->body, "query", TRUE, &job->query, &error) ||
      !get_string (request->body, "namespace", FALSE, &job->namespace_, &error) ||
      !get_string (request->body, "mode", FALSE, &job->mode, &error) ||
      !get_top_k (request->body, &job->top_k, &error) ||
      !get_object (request->body, "filter", &job->filter, &error) ||
      !get_boolean (request->body, "group_by_document", &job->by_document, &error))
    {
      reply_bad_request (request, error);
      return;
    }

  /* Checked here, for a 400 before any work; the operation reads it again */
  if (!stache_tool_parse_mode (job->mode, &mode))
    {
      set_error_printf (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                        _("Unknown mode “%s”; use hybrid, vector or keyword"), job->mode);
      return;
    }

  if (job->filter != NULL && !stache_filter_validate (job->filter, &error))
    {
      set_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_filter", error->message);
      return;
    }

  run_job (g_steal_pointer (&job));
}

static void
route_ask (Request *request)
{
  static const char * const known[] = { "question", "namespace", "top_k", NULL };
  g_autoptr(Job) job = job_new (request->server, request->msg, job_ask);
  g_autoptr(GError) error = NULL;

  if (!check_members (request->body, known, &error) ||
      !get_string (request->body, "question", TRUE, &job->query, &error) ||
      !get_string (request->body, "namespace", FALSE, &job->namespace_, &error) ||
      !get_top_k (request->body, &job->top_k, &error))
    {
      reply_bad_request (request, error);
      return;
    }

  run_job (g_steal_pointer (&job));
}

static void
route_ingest_text (Request *request)
{
  static const char * const known[] = { "text", "namespace", "source", "title", "metadata", NULL };
  g_autoptr(Job) job = job_new (request->server, request->msg, job_ingest_text);
  g_autoptr(GError) error = NULL;

  if (!check_members (request->body, known, &error) ||
      !get_string (request->body, "text", TRUE, &job->text, &error) ||
      !get_string (request->body, "namespace", FALSE, &job->namespace_, &error) ||
      !get_string (request->body, "source", FALSE, &job->source, &error) ||
      !get_string (request->body, "title", FALSE, &job->title, &error) ||
      !get_object (request->body, "metadata", &job->metadata, &error))
    {
      reply_bad_request (request, error);
      return;
    }

  run_job (g_steal_pointer (&job));
}

static void
route_ingest_upload (Request *request)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (request->msg);
  SoupMessageBody *body = soup_server_message_get_request_body (request->msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(SoupMultipart) multipart = soup_multipart_new_from_message (headers, bytes);
  g_autoptr(Job) job = job_new (request->server, request->msg, job_ingest_upload);
  int n_parts;

  if (multipart == NULL)
    {
      set_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_multipart",
                 _("The body is not valid multipart/form-data"));
      return;
    }

  n_parts = soup_multipart_get_length (multipart);
  for (int i = 0; i < n_parts; i++)
    {
      SoupMessageHeaders *part_headers = NULL;
      GBytes *part_body = NULL;
      g_autofree char *disposition = NULL;
      g_autoptr(GHashTable) params = NULL;
      const char *name;

      if (!soup_multipart_get_part (multipart, i, &part_headers, &part_body) ||
          !soup_message_headers_get_content_disposition (part_headers, &disposition, &params) ||
          (name = g_hash_table_lookup (params, "name")) == NULL)
        continue;

      if (g_str_equal (name, "file") && job->upload == NULL)
        {
          const char *filename = g_hash_table_lookup (params, "filename");
          g_autofree char *basename = NULL;

          if (filename == NULL || !g_utf8_validate (filename, -1, NULL))
            {
              set_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                         _("The “file” part needs a file name"));
              return;
            }
          basename = g_path_get_basename (filename);
          if (basename[0] == '\0' || g_str_equal (basename, ".") || g_str_equal (basename, "..") ||
              strchr (basename, G_DIR_SEPARATOR) != NULL)
            {
              set_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                         _("The file name of the “file” part is not usable"));
              return;
            }
          /* Saved under its own name while it is ingested: a file name
           * has at most 255 bytes, and saving adds a 7-byte suffix. */
          if (strlen (basename) > MAX_UPLOAD_NAME_BYTES)
            {
              set_error_printf (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                                _("The file name of the “file” part is longer than %d bytes"),
                                MAX_UPLOAD_NAME_BYTES);
              return;
            }
          job->filename = g_steal_pointer (&basename);
          job->upload = g_bytes_ref (part_body);
        }
      else if (g_str_equal (name, "namespace"))
        {
          gsize size = 0;
          const char *data = g_bytes_get_data (part_body, &size);

          if (data == NULL || size == 0)
            continue;
          if (!g_utf8_validate_len (data, size, NULL) || memchr (data, '\0', size) != NULL)
            {
              set_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                         _("The “namespace” part is not text"));
              return;
            }
          g_free (job->namespace_);
          job->namespace_ = g_strndup (data, size);
        }
    }

  if (job->upload == NULL)
    {
      set_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                 _("The form has no “file” part"));
      return;
    }

  run_job (g_steal_pointer (&job));
}

static void
route_list_documents (Request *request)
{
  Job *job = job_new (request->server, request->msg, job_list_documents);

  job->namespace_ = g_strdup (query_value (request, "namespace"));
  run_job (job);
}

static void
route_get_document (Request *request)
{
  Job *job = job_new (request->server, request->msg, job_get_document);

  job->id = g_strdup (request->param);
  job->not_found = "document_not_found";
  run_job (job);
}

static void
route_delete_document (Request *request)
{
  Job *job = job_new (request->server, request->msg, job_delete_document);

  job->id = g_strdup (request->param);
  job->not_found = "document_not_found";
  run_job (job);
}

static void
route_list_namespaces (Request *request)
{
  Job *job = job_new (request->server, request->msg, job_list_namespaces);

  job->namespace_ = g_strdup (query_value (request, "parent"));
  job->not_found = "namespace_not_found";
  run_job (job);
}

static void
route_create_namespace (Request *request)
{
  static const char * const known[] = { "name", "description", NULL };
  g_autoptr(Job) job = job_new (request->server, request->msg, job_create_namespace);
  g_autoptr(GError) error = NULL;

  if (!check_members (request->body, known, &error) ||
      !get_string (request->body, "name", TRUE, &job->namespace_, &error) ||
      !get_string (request->body, "description", FALSE, &job->description, &error))
    {
      reply_bad_request (request, error);
      return;
    }

  job->status = SOUP_STATUS_CREATED;
  job->exists = "namespace_exists";
  run_job (g_steal_pointer (&job));
}

static void
route_delete_namespace (Request *request)
{
  Job *job = job_new (request->server, request->msg, job_delete_namespace);
  const char *cascade = query_value (request, "cascade");

  if (cascade != NULL && !g_str_equal (cascade, "true") && !g_str_equal (cascade, "false"))
    {
      set_error (request->msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                 _("cascade must be true or false"));
      job_free (job);
      return;
    }

  job->namespace_ = g_strdup (request->param);
  job->cascade = g_strcmp0 (cascade, "true") == 0;
  job->not_found = "namespace_not_found";
  job->not_empty = "namespace_not_empty";
  run_job (job);
}

static void
route_list_providers (Request *request)
{
  g_autoptr(GPtrArray) providers = stache_plugin_loader_list_providers (stache_plugin_loader_get_default ());
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "providers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < providers->len; i++)
    {
      json_builder_begin_object (builder);
      stache_tool_add_provider_info_members (builder, g_ptr_array_index (providers, i));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  set_json_response (request->msg, SOUP_STATUS_OK, root);
}

static const Route routes[] = {
  { "GET", "/openapi.json", route_openapi, BODY_NONE, TRUE,
    "getOpenApi", "This OpenAPI document", NULL, "OpenApiDocument", 200, NULL, "" },
  { "GET", "/v1/health", route_health, BODY_NONE, TRUE,
    "getHealth", "Whether the server is up (no token needed)", NULL, "Health", 200, NULL, "" },
  { "POST", "/v1/search", route_search, BODY_JSON, FALSE,
    "search", "Search the store; best passages first", "SearchRequest", "SearchResponse", 200, NULL,
    "400 404 413 415" },
  { "POST", "/v1/ask", route_ask, BODY_JSON, FALSE,
    "ask", "Answer a question from the store, with its sources", "AskRequest", "AskResponse", 200, NULL,
    "400 404 413 415" },
  { "GET", "/v1/documents", route_list_documents, BODY_NONE, FALSE,
    "listDocuments", "List documents", NULL, "DocumentList", 200, "namespace", "404" },
  { "POST", "/v1/documents", route_ingest_text, BODY_JSON, FALSE,
    "ingestText", "Ingest a text (201 when added, 200 when unchanged, replaced or skipped)",
    "IngestTextRequest", "IngestResult", 201, NULL, "400 413 415" },
  { "POST", "/v1/documents/upload", route_ingest_upload, BODY_MULTIPART, FALSE,
    "uploadDocument", "Ingest an uploaded file (text, Markdown, HTML)",
    "UploadRequest", "IngestResult", 201, NULL, "400 413 415" },
  { "GET", "/v1/documents/{id}", route_get_document, BODY_NONE, FALSE,
    "getDocument", "One document", NULL, "Document", 200, NULL, "404" },
  { "DELETE", "/v1/documents/{id}", route_delete_document, BODY_NONE, FALSE,
    "deleteDocument", "Delete a document and its chunks", NULL, "Deleted", 200, NULL, "404" },
  { "GET", "/v1/namespaces", route_list_namespaces, BODY_NONE, FALSE,
    "listNamespaces", "List namespaces", NULL, "NamespaceList", 200, "parent", "400" },
  { "POST", "/v1/namespaces", route_create_namespace, BODY_JSON, FALSE,
    "createNamespace", "Create a namespace", "CreateNamespaceRequest", "Namespace", 201, NULL,
    "400 409 413 415" },
  { "DELETE", "/v1/namespaces/{name}", route_delete_namespace, BODY_NONE, FALSE,
    "deleteNamespace", "Delete a namespace; one that is not empty needs cascade=true",
    NULL, "Deleted", 200, "cascade", "400 404 409" },
  { "GET", "/v1/providers", route_list_providers, BODY_NONE, FALSE,
    "listProviders", "Providers found by plugin discovery, with reasons for failures",
    NULL, "ProviderList", 200, NULL, "" },
};

/* Matches a raw (still percent-encoded) path against a template. A {param}
 * segment is decoded on its own, so an encoded "/" stays in the value. */
static gboolean
path_matches (const char  *template,
              const char  *raw_path,
              char       **out_param,
              gboolean    *out_bad_escape)
{
  g_auto(GStrv) want = g_strsplit (template, "/", -1);
  g_auto(GStrv) have = g_strsplit (raw_path, "/", -1);
  g_autofree char *param = NULL;

  if (g_strv_length (want) != g_strv_length (have))
    return FALSE;

  for (guint i = 0; want[i] != NULL; i++)
    {
      if (want[i][0] == '{')
        {
          if (have[i][0] == '\0')
            return FALSE;
          param = g_uri_unescape_string (have[i], NULL);
          if (param == NULL || !g_utf8_validate (param, -1, NULL))
            {
              *out_bad_escape = TRUE;
              return FALSE;
            }
        }
      else if (!g_str_equal (want[i], have[i]))
        return FALSE;
    }

  if (out_param != NULL)
    *out_param = g_steal_pointer (&param);
  return TRUE;
}

/* The route for a request, or NULL with the reply set (404, 405, 400) */
static const Route *
find_route (SoupServerMessage *msg,
            const char        *raw_path,
            char             **out_param)
{
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(GString) allow = g_string_new (NULL);
  gboolean bad_escape = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      g_autofree char *param = NULL;

      if (!path_matches (routes[i].path, raw_path, &param, &bad_escape))
        continue;
      if (g_str_equal (routes[i].method, method))
        {
          if (out_param != NULL)
            *out_param = g_steal_pointer (&param);
          return &routes[i];
        }
      if (allow->len > 0)
        g_string_append (allow, ", ");
      g_string_append (allow, routes[i].method);
    }

  if (bad_escape)
    set_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_path",
               _("The path has an invalid percent-encoding"));
  else if (allow->len > 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow->str);
      set_error_printf (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                        _("Use %s here"), allow->str);
    }
  else
    set_error (msg, SOUP_STATUS_NOT_FOUND, "route_not_found", _("There is no such endpoint"));

  return NULL;
}

/* ---- Answering outside libsoup ---- */

/* Answers written by the server itself rather than libsoup (a request refused
 * before its body, or before libsoup reads it) are followed by a lingering
 * close: see answer_before_body() and check_head(). */
#define LINGER_SECONDS 2
#define LINGER_BYTES   (4 * 1024 * 1024)

typedef struct
{
  GIOStream *stream;       /* libsoup's, over the connection */
  GSocket   *socket;       /* the connection's; NULL when unknown */
  GBytes    *answer;
  gsize      drained;
  guint8     buffer[16384];
} Lingering;

static void
lingering_free (Lingering *lingering)
{
  g_object_unref (lingering->stream);
  g_clear_object (&lingering->socket);
  g_bytes_unref (lingering->answer);
  g_free (lingering);
}

static void
on_lingering_closed (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  lingering_free (user_data);
}

static void
on_lingering_read (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Lingering *lingering = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n > 0 && (lingering->drained += (gsize) n) < LINGER_BYTES)
    {
      g_input_stream_read_async (G_INPUT_STREAM (source), lingering->buffer, sizeof lingering->buffer,
                                 G_PRIORITY_DEFAULT, NULL, on_lingering_read, lingering);
      return;
    }
  g_io_stream_close_async (lingering->stream, G_PRIORITY_DEFAULT, NULL, on_lingering_closed, lingering);
}

static void
on_answer_written (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Lingering *lingering = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL) ||
      lingering->socket == NULL || !g_output_stream_flush (G_OUTPUT_STREAM (source), NULL, NULL))
    {
      g_io_stream_close_async (lingering->stream, G_PRIORITY_DEFAULT, NULL, on_lingering_closed, lingering);
      return;
    }
  g_socket_shutdown (lingering->socket, FALSE, TRUE, NULL);
  g_input_stream_read_async (g_io_stream_get_input_stream (lingering->stream), lingering->buffer,
                             sizeof lingering->buffer, G_PRIORITY_DEFAULT, NULL, on_lingering_read, lingering);
}

/* Writes @answer on @stream, shuts the sending side of @socket, and reads
 * and drops what the client still sends until it closes, LINGER_BYTES have
 * come or the connection's deadline shuts it; then closes @stream. Takes
 * @stream and @answer. */
static void
answer_and_linger (GIOStream *stream,
                   GSocket   *socket,
                   GBytes    *answer)
{
  Lingering *lingering = g_new0 (Lingering, 1);

  lingering->stream = stream;
  lingering->socket = socket != NULL ? g_object_ref (socket) : NULL;
  lingering->answer = answer;
  g_output_stream_write_all_async (g_io_stream_get_output_stream (stream), g_bytes_get_data (answer, NULL),
                                   g_bytes_get_size (answer), G_PRIORITY_DEFAULT, NULL, on_answer_written,
                                   lingering);
}

/* A complete answer with a JSON error, for when libsoup is not writing it */
static GBytes *
error_answer (guint       status,
              const char *code,
              const char *message)
{
  g_autofree char *body = error_text (code, message, NULL);
  char *answer = g_strdup_printf ("HTTP/1.1 %u %s\r\nServer: stache\r\nContent-Type: application/json\r\n"
                                  "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                                  status,
                                  /* (libsoup 3.2 does not know 431) */
                                  status == 431 ? "Request Header Fields Too Large" : soup_status_get_phrase (status),
                                  strlen (body), body);

  return g_bytes_new_take (answer, strlen (answer));
}

/* ---- Connections ---- */

/* One accepted connection. Each has one deadline at a time: its request
 * headers (from accepting it, or from its last response), then its body
 * (from the headers); none while a request is being answered. Past it the
 * connection is shut down, which is how slow or silent clients ("slowloris")
 * are let go. */
typedef struct
{
  Server            *server;
  GSocketConnection *connection;   /* not a reference: libsoup holds it */
  char              *key;
  gint64             since;        /* monotonic µs it began waiting */
  gboolean           busy;         /* a request is being answered */
  guint              deadline;
  GSocketConnection *waiting;      /* held until its head is in (check_head()) */
  gboolean           shut;         /* by connection_shut() */
  GSource           *head_source;
} Connection;

static void
connection_free (gpointer data)
{
  Connection *conn = data;

  if (conn->deadline != 0)
    g_source_remove (conn->deadline);
  if (conn->head_source != NULL)
    {
      g_source_destroy (conn->head_source);
      g_source_unref (conn->head_source);
    }
  g_free (conn->key);
  g_free (conn);
}

static void
connection_shut (Connection *conn)
{
  GSocket *socket = g_socket_connection_get_socket (conn->connection);

  conn->shut = TRUE;
  /* libsoup's pending read sees the end of the stream and lets go of the
   * connection, which then leaves the table (forget_connection()) */
  g_socket_shutdown (socket, TRUE, TRUE, NULL);
}

static gboolean
on_deadline (gpointer user_data)
{
  Connection *conn = user_data;

  conn->deadline = 0;
  connection_shut (conn);
  return G_SOURCE_REMOVE;
}

static void
connection_wait (Connection *conn,
                 guint       seconds)
{
  if (conn->deadline != 0)
    g_source_remove (conn->deadline);
  conn->deadline = seconds > 0 ? g_timeout_add_seconds (seconds, on_deadline, conn) : 0;
  conn->since = g_get_monotonic_time ();
}

static void
forget_connection (gpointer  user_data,
                   GObject  *where_the_object_was)
{
  Server *server = user_data;
  GHashTableIter iter;
  Connection *conn;

  g_hash_table_iter_init (&iter, server->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    if ((GObject *) conn->connection == where_the_object_was)
      {
        g_hash_table_iter_remove (&iter);
        break;
      }
}

static Connection *
connection_of (Server            *server,
               SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  g_autofree char *key = NULL;

  if (remote == NULL)
    return NULL;
  key = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote));
  return g_hash_table_lookup (server->connections, key);
}

/* At the cap, the connection that has waited longest without a request
 * being answered on it makes room: a client that holds connections open
 * without finishing its requests cannot lock others out. */
static gboolean
evict_one (Server *server)
{
  GHashTableIter iter;
  Connection *conn, *oldest = NULL;

  g_hash_table_iter_init (&iter, server->connections);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &conn))
    if (!conn->busy && (oldest == NULL || conn->since < oldest->since))
      oldest = conn;
  if (oldest == NULL)
    return FALSE;

  connection_shut (oldest);
  return TRUE;
}

static void start_accepting (Server *server);

static gboolean
accept_again (gpointer user_data)
{
  start_accepting (user_data);
  return G_SOURCE_REMOVE;
}

/* Accept errors (most often EMFILE: out of file descriptors) are logged
 * at most once every 10 seconds, with how many there were, and accepting
 * backs off from 10 ms to 1 s while they go on. */
static void
accept_failed (Server       *server,
               const GError *error)
{
  gint64 now = g_get_monotonic_time ();

  server->accept_errors_unlogged++;
  if (now - server->last_accept_log >= 10 * G_USEC_PER_SEC)
    {
      g_printerr (_("stache serve: cannot accept connections: %s (%u times since the last report)\n"),
                  error->message, server->accept_errors_unlogged);
      server->last_accept_log = now;
      server->accept_errors_unlogged = 0;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
    evict_one (server);

  server->accept_backoff_ms = CLAMP (server->accept_backoff_ms * 2, 10, 1000);
  g_timeout_add (server->accept_backoff_ms, accept_again, server);
}

/* The head of a request (its request line and headers) must be in before
 * the connection goes to libsoup: libsoup drops a connection whose head
 * passes 64 KiB without a word, and the client sees a reset. So the server
 * looks at what has come (MSG_PEEK leaves it for libsoup to read), with
 * SO_RCVLOWAT telling poll() to wake it only when more has come, and
 * answers 431 itself when the head is too long. */
#define HEAD_LIMIT (64 * 1024)

static gboolean on_head_readable (GSocket *socket, GIOCondition condition, gpointer user_data);
static void connection_shut (Connection *conn);

static void
connection_drop_waiting (Connection *conn)
{
  g_autoptr(GSocketConnection) connection = g_steal_pointer (&conn->waiting);

  /* The weak reference takes it out of the table when it goes */
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

static void
check_head (Connection   *conn,
            GIOCondition  condition)
{
  Server *server = conn->server;
  GSocket *socket = g_socket_connection_get_socket (conn->waiting);
  int fd = g_socket_get_fd (socket);
  g_autofree char *head = g_malloc (HEAD_LIMIT + 1);
  ssize_t n;
  int lowat;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;

  if (conn->head_source != NULL)
    {
      g_source_destroy (conn->head_source);
      g_clear_pointer (&conn->head_source, g_source_unref);
    }

  do
    n = recv (fd, head, HEAD_LIMIT + 1, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);

  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || conn->shut)
    {
      /* Closed (or shut by its deadline) before a whole head came. (A shut
       * socket still shows what it had: the flag tells.) */
      connection_drop_waiting (conn);
      return;
    }

  if (n > 0 && (g_strstr_len (head, n, "\r\n\r\n") != NULL || g_strstr_len (head, n, "\n\n") != NULL))
    {
      lowat = 1;
      setsockopt (fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
      connection = g_steal_pointer (&conn->waiting);
      local = g_socket_connection_get_local_address (connection, NULL);
      remote = g_socket_connection_get_remote_address (connection, NULL);
      if (local == NULL || remote == NULL ||
          !soup_server_accept_iostream (server->server, G_IO_STREAM (connection), local, remote, &error))
        {
          g_printerr (_("stache serve: cannot accept a connection: %s\n"),
                      error != NULL ? error->message : _("no address"));
          g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
        }
      return;
    }

  if (n > HEAD_LIMIT)
    {
      g_autofree char *message = g_strdup_printf (_("The request line and headers are longer than %d bytes"),
                                                  HEAD_LIMIT);

      connection = g_steal_pointer (&conn->waiting);
      connection_wait (conn, LINGER_SECONDS);
      answer_and_linger (G_IO_STREAM (g_steal_pointer (&connection)), socket,
                         error_answer (431, "headers_too_large", message));
      return;
    }

  if (condition != 0)
    {
      struct pollfd ends = { fd, POLLRDHUP, 0 };

      /* (with SO_RCVLOWAT above what is there, readable means closed) */
      if (poll (&ends, 1, 0) > 0 && (ends.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0)
        condition |= G_IO_HUP;
    }
  if ((condition & (G_IO_HUP | G_IO_ERR)) != 0)
    {
      /* The client will send no more, and what it sent is not a request */
      connection_drop_waiting (conn);
      return;
    }

  /* Not all in yet: wake when more than what is here has come */
  lowat = (int) MAX (n, 0) + 1;
  setsockopt (fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
  conn->head_source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (conn->head_source, (GSourceFunc) (void (*) (void)) on_head_readable, conn, NULL);
  g_source_attach (conn->head_source, NULL);
}

static gboolean
on_head_readable (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  Connection *conn = user_data;

  /* check_head() destroys this source and may make another */
  check_head (conn, condition);
  return G_SOURCE_REMOVE;
}

static void
on_accepted (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Server *server = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketAddress) remote = NULL;
  Connection *conn;

  connection = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), result, NULL, &error);
  if (connection == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        accept_failed (server, error);
      return;
    }
  server->accept_backoff_ms = 0;

  if (g_hash_table_size (server->connections) >= server->max_connections && !evict_one (server))
    {
      /* Every connection is answering a request: this one is told so */
      static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        "Connection: close\r\nContent-Length: 80\r\n\r\n"
        "{\"error\": {\"code\": \"busy\", \"message\": \"Too many connections; try again\"}}      ";

      g_socket_send (g_socket_connection_get_socket (connection), busy, sizeof busy - 1, NULL, NULL);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      start_accepting (server);
      return;
    }

  remote = g_socket_connection_get_remote_address (connection, NULL);
  if (remote == NULL)
    {
      g_printerr (_("stache serve: cannot accept a connection: %s\n"), _("no address"));
      start_accepting (server);
      return;
    }

  conn = g_new0 (Connection, 1);
  conn->server = server;
  conn->connection = connection;
  conn->key = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote));
  conn->waiting = g_steal_pointer (&connection);
  g_hash_table_replace (server->connections, conn->key, conn);
  g_object_weak_ref (G_OBJECT (conn->connection), forget_connection, server);
  connection_wait (conn, server->header_timeout);
  check_head (conn, 0);

  start_accepting (server);
}

static void
start_accepting (Server *server)
{
  if (!g_cancellable_is_cancelled (server->accepting))
    g_socket_listener_accept_async (server->listener, server->accepting, on_accepted, server);
}

static void
stop_accepting (Server *server)
{
  g_cancellable_cancel (server->accepting);
  g_socket_listener_close (server->listener);
}

/* ---- Authentication and limits (early handler) ---- */

/* Compares digests rather than the strings: the time taken depends on
 * neither the position of the first difference nor the token's length. */
static gboolean
token_matches (const char *expected,
               const char *given)
{
  g_autofree char *a = g_compute_checksum_for_string (G_CHECKSUM_SHA256, expected, -1);
  g_autofree char *b = g_compute_checksum_for_string (G_CHECKSUM_SHA256, given, -1);
  volatile guint8 difference = 0;

  for (gsize i = 0; a[i] != '\0' && b[i] != '\0'; i++)
    difference |= (guint8) (a[i] ^ b[i]);

  return difference == 0;
}

static gboolean
check_authorization (Server            *server,
                     SoupServerMessage *msg)
{
  const char *header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Authorization");
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);

  if (header == NULL)
    {
      soup_message_headers_replace (response_headers, "WWW-Authenticate", "Bearer realm=\"stache\"");
      set_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                 _("This server needs a bearer token: send “Authorization: Bearer TOKEN”"));
      return FALSE;
    }

  if (g_ascii_strncasecmp (header, "Bearer ", 7) != 0 || !token_matches (server->token, header + 7))
    {
      soup_message_headers_replace (response_headers, "WWW-Authenticate",
                                    "Bearer realm=\"stache\", error=\"invalid_token\"");
      set_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", _("The bearer token is not valid"));
      return FALSE;
    }

  return TRUE;
}

static void
set_too_large (Server            *server,
               SoupServerMessage *msg)
{
  set_error_printf (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                    _("The request body is larger than %" G_GSIZE_FORMAT " bytes"), server->max_body_size);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
set_busy (Server            *server,
          SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  set_error_printf (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "busy",
                    _("The server holds %" G_GSIZE_FORMAT " bytes of request bodies already, its limit "
                      "(serve_max_buffered); try again shortly"), server->buffered);
  soup_message_headers_replace (headers, "Retry-After", "1");
  soup_message_headers_replace (headers, "Connection", "close");
}

/* Stops keeping @msg's body: the client may still be sending, so reading
 * goes on, but nothing more is stored, and what was is let go. */
static void
drop_body (SoupServerMessage *msg,
           RequestState      *state)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  state->server->buffered -= state->counted;
  state->counted = 0;
}

static void answer_before_body (SoupServerMessage *msg);

static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              RequestState      *state)
{
  Server *server = state->server;
  gsize size = g_bytes_get_size (chunk);

  state->received += size;
  if (soup_server_message_get_status (msg) != 0)
    return;   /* refused already; nothing is kept */

  if (state->received > server->max_body_size)
    {
      drop_body (msg, state);
      set_too_large (server, msg);
      answer_before_body (msg);
      return;
    }

  state->counted += size;
  server->buffered += size;
  server->trim_after = TRUE;
  if (server->buffered > server->max_buffered)
    {
      drop_body (msg, state);
      set_busy (server, msg);
      answer_before_body (msg);
    }
}

/* While shutting down the server keeps accepting connections and answers
 * every new request 503 shutting_down (closing its connection), so a
 * client that connected just before the signal is told, not reset. It
 * stops once the work in progress is done and no request came for
 * DRAIN_QUIET_MS, or DRAIN_MAX_MS after the signal whatever comes. */
#define DRAIN_QUIET_MS 250
#define DRAIN_MAX_MS   10000

static gboolean
drain_check (gpointer user_data)
{
  Server *server = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean idle = server->n_requests == 0 && server->n_jobs == 0;

  if ((idle && now - server->last_request >= DRAIN_QUIET_MS * 1000) ||
      (now - server->shutdown_started >= DRAIN_MAX_MS * 1000 && server->n_jobs == 0))
    {
      server->drain_source = 0;
      stop_accepting (server);
      g_main_loop_quit (server->loop);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
maybe_quit (Server *server)
{
  if (server->shutting_down && server->drain_source == 0)
    server->drain_source = g_timeout_add (50, drain_check, server);
}

/* A request's bookkeeping once it is answered (or its connection taken
 * back to answer it before its body, see answer_before_body()) */
static void
request_done (Server       *server,
              RequestState *state)
{
  if (state->finished)
    return;
  state->finished = TRUE;
  server->n_requests--;
  server->buffered -= state->counted;
  state->counted = 0;
  /* Large bodies leave large free blocks behind: give them back to the
   * system once nothing is held. */
  if (server->buffered == 0 && server->trim_after)
    {
      server->trim_after = FALSE;
      malloc_trim (0);
    }
  maybe_quit (server);
}

static void
on_finished (SoupServerMessage *msg,
             RequestState      *state)
{
  Server *server = state->server;
  Connection *conn = connection_of (server, msg);

  /* Answered: the connection may wait for the next request */
  if (conn != NULL)
    {
      conn->busy = FALSE;
      connection_wait (conn, server->idle_timeout);
    }
  request_done (server, state);
}

/* ---- Answering before the body ---- */

/* (see answer_and_linger()) */


/* A request refused from its headers while its body is still to come (too
 * large, unauthorized, busy, shutting down, a Content-Length that is not a
 * number) is answered at once: libsoup would otherwise read the whole
 * declared body first, and keep it, before writing the answer. The
 * connection is taken back from libsoup, the answer written and the sending
 * side shut; what the client still sends is then read and dropped for a
 * moment (LINGER_BYTES, LINGER_SECONDS at most), so that the client reads
 * the answer rather than a reset. With "Expect: 100-continue" libsoup
 * answers without reading the body, so it keeps the connection. */
/* The answer libsoup would have written: status line, the response
 * headers, the body */
static GBytes *
answer_of (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_response_body (msg));
  GString *answer = g_string_new (NULL);
  SoupMessageHeadersIter iter;
  const char *name, *value;
  guint status = soup_server_message_get_status (msg);

  g_string_append_printf (answer, "HTTP/1.1 %u %s\r\n", status, soup_status_get_phrase (status));
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    if (g_ascii_strcasecmp (name, "Content-Length") != 0 && g_ascii_strcasecmp (name, "Transfer-Encoding") != 0 &&
        g_ascii_strcasecmp (name, "Connection") != 0)
      g_string_append_printf (answer, "%s: %s\r\n", name, value);
  g_string_append_printf (answer, "Connection: close\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                          g_bytes_get_size (body));
  g_string_append_len (answer, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body));
  return g_string_free_to_bytes (answer);
}

static gboolean
answer_now (gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  RequestState *state = g_object_get_data (G_OBJECT (msg), REQUEST_STATE_KEY);
  Server *server = state->server;
  Connection *conn = connection_of (server, msg);
  GBytes *answer = answer_of (msg);
  GIOStream *stream;

  request_done (server, state);
  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL)
    {
      g_bytes_unref (answer);
      return G_SOURCE_REMOVE;
    }
  if (conn != NULL)
    {
      conn->busy = FALSE;
      connection_wait (conn, LINGER_SECONDS);
    }
  answer_and_linger (stream, conn != NULL ? g_socket_connection_get_socket (conn->connection) : NULL, answer);
  return G_SOURCE_REMOVE;
}

/* Called when @msg has been refused (its status is set) from its headers
 * or part way through its body */
static void
answer_before_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  gboolean pending;

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_CONTENT_LENGTH:
      pending = soup_message_headers_get_content_length (headers) != 0;
      break;
    case SOUP_ENCODING_CHUNKED:
      pending = TRUE;
      break;
    default:
      pending = FALSE;
      break;
    }
  if (!pending || (soup_message_headers_get_expectations (headers) & SOUP_EXPECTATION_CONTINUE) != 0)
    return;

  /* Nothing more of the body is kept, and libsoup reads no more of it */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_body_truncate (soup_server_message_get_request_body (msg));
  soup_server_message_pause (msg);
  g_idle_add_full (G_PRIORITY_HIGH, answer_now, g_object_ref (msg), g_object_unref);
}

/* ---- Requests libsoup refuses itself ---- */

/* libsoup answers a request it cannot parse (a malformed request line or
 * header, an invalid percent-encoding in the path, a transfer coding it
 * does not know) with a status and an empty body, before any handler runs
 * and with no signal in between. So every request starts out with this
 * JSON error as its response body, and the early handler, which runs only
 * for requests libsoup could read, clears it. */
static void
on_request_started (SoupServer        *soup_server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  gsize length = 0;
  char *text = error_text ("invalid_request",
                           _("The request could not be read: its request line or one of its headers is "
                             "malformed (an invalid percent-encoding in the path, for example) or not "
                             "supported"),
                           &length);

  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

/* Content-Length as libsoup reads it (strtoull) takes "-1" for 2^64 - 1
 * and "+5" for 5: only digits are a length */
static gboolean
content_length_valid (SoupMessageHeaders *headers)
{
  const char *declared = soup_message_headers_get_one (headers, "Content-Length");

  if (declared == NULL)
    return TRUE;
  if (*declared == '\0' || strlen (declared) > 18)
    return FALSE;
  for (const char *c = declared; *c != '\0'; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  return TRUE;
}

static void
early_handler (SoupServer        *soup_server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  Server *server = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  RequestState *state = g_new0 (RequestState, 1);
  const Route *route = NULL;
  goffset length;

  state->server = server;
  g_object_set_data_full (G_OBJECT (msg), REQUEST_STATE_KEY, state, g_free);
  /* libsoup could read the request: it is answered by what follows, not
   * by the error set when it started (on_request_started()) */
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_message_headers_remove (soup_server_message_get_response_headers (msg), "Content-Type");
  {
    Connection *conn = connection_of (server, msg);

    /* Headers are in: now the body has its time */
    if (conn != NULL)
      {
        conn->busy = TRUE;
        connection_wait (conn, server->body_timeout);
      }
  }
  server->n_requests++;
  server->last_request = g_get_monotonic_time ();
  g_signal_connect (msg, "finished", G_CALLBACK (on_finished), state);

  if (server->shutting_down)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
      set_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "shutting_down", _("The server is shutting down"));
      answer_before_body (msg);
      return;
    }

  if (!content_length_valid (headers))
    {
      set_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request",
                 _("The Content-Length header is not a number of bytes"));
      answer_before_body (msg);
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      gboolean bad_escape = FALSE;

      if (g_str_equal (routes[i].method, soup_server_message_get_method (msg)) &&
          path_matches (routes[i].path, path, NULL, &bad_escape))
        route = &routes[i];
    }

  /* Unknown routes need a token too, so that they reveal nothing. */
  if (server->token != NULL && (route == NULL || !route->open) && !check_authorization (server, msg))
    {
      answer_before_body (msg);
      return;
    }

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      (length = soup_message_headers_get_content_length (headers)) > 0 &&
      (guint64) length > server->max_body_size)
    {
      set_too_large (server, msg);
      answer_before_body (msg);
      return;
    }
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      (length = soup_message_headers_get_content_length (headers)) > 0 &&
      server->buffered + (guint64) length > server->max_buffered)
    {
      set_busy (server, msg);
      answer_before_body (msg);
      return;
    }

  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), state);
}

/* ---- The request handler ---- */

static gboolean
has_content_type (SoupServerMessage *msg,
                  const char        *wanted)
{
  const char *type = soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg),
                                                            NULL);

  return type != NULL && g_ascii_strcasecmp (type, wanted) == 0;
}

static void
request_handler (SoupServer        *soup_server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  Server *server = user_data;
  Request request = { server, msg, query, NULL, NULL };
  Connection *conn = connection_of (server, msg);
  const Route *route;

  /* The body is in; answering may take long (an ingest) */
  if (conn != NULL)
    connection_wait (conn, 0);
  route = find_route (msg, path, &request.param);

  if (route == NULL)
    return;

  /* Errors quote parameters back, and JSON must be valid UTF-8 */
  if (query != NULL)
    {
      GHashTableIter iter;
      const char *name, *value;

      g_hash_table_iter_init (&iter, query);
      while (g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &value))
        if (!g_utf8_validate (name, -1, NULL) || (value != NULL && !g_utf8_validate (value, -1, NULL)))
          {
            set_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                       _("A query parameter is not valid UTF-8 once percent-decoded"));
            goto out;
          }
    }

  if (route->body == BODY_JSON)
    {
      SoupMessageBody *body = soup_server_message_get_request_body (msg);
      g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GError) error = NULL;
      gsize size = 0;
      const char *data = g_bytes_get_data (bytes, &size);

      if (!has_content_type (msg, "application/json"))
        {
          set_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                     _("Send the body as application/json"));
          goto out;
        }
      /* Nesting is limited before json-glib's recursive parser sees the
       * body, and a string holding U+0000 is refused naming its member:
       * stored, it would end there. */
      if (size > 0)
        root = stache_json_parse (data, (gssize) size, 0, TRUE, _("the body"), &error);
      if (root == NULL && g_error_matches (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT))
        {
          set_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_argument", error->message);
          goto out;
        }
      if (root == NULL)
        {
          set_error_printf (msg, SOUP_STATUS_BAD_REQUEST, "invalid_json", _("The body is not valid JSON: %s"),
                            error != NULL ? error->message : _("it is empty"));
          goto out;
        }
      if (!JSON_NODE_HOLDS_OBJECT (root))
        {
          set_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_json", _("The body must be a JSON object"));
          goto out;
        }
      request.body = json_object_ref (json_node_get_object (root));
    }
  else if (route->body == BODY_MULTIPART && !has_content_type (msg, "multipart/form-data"))
    {
      set_error (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                 _("Send the file as multipart/form-data"));
      goto out;
    }

  route->func (&request);

out:
  g_free (request.param);
  g_clear_pointer (&request.body, json_object_unref);
}

/* ---- OpenAPI ---- */

/* The schemas; the paths are written from the route table. */
static const char openapi_components[] =
  "{"
  "\"securitySchemes\": {\"bearerAuth\": {\"type\": \"http\", \"scheme\": \"bearer\","
  "  \"description\": \"The token of the stache_api_token setting (STACHE_API_TOKEN); needed when set\"}},"
  "\"schemas\": {"
  "\"Error\": {\"type\": \"object\", \"required\": [\"error\"], \"properties\": {\"error\": {"
  "  \"type\": \"object\", \"required\": [\"code\", \"message\"], \"properties\": {"
  "  \"code\": {\"type\": \"string\", \"enum\": [\"invalid_json\", \"invalid_argument\", \"invalid_filter\","
  "    \"invalid_multipart\", \"invalid_path\", \"invalid_request\", \"headers_too_large\", \"unauthorized\", \"route_not_found\", \"document_not_found\","
  "    \"namespace_not_found\", \"namespace_exists\", \"namespace_not_empty\", \"not_found\", \"exists\", \"not_empty\","
  "    \"method_not_allowed\", \"payload_too_large\", \"unsupported_media_type\", \"not_supported\","
  "    \"internal_error\", \"shutting_down\", \"upstream_error\", \"upstream_unavailable\", \"busy\"]},"
  "  \"message\": {\"type\": \"string\"}}}}},"
  "\"OpenApiDocument\": {\"type\": \"object\"},"
  "\"Health\": {\"type\": \"object\", \"required\": [\"status\", \"version\"], \"properties\": {"
  "  \"status\": {\"type\": \"string\", \"const\": \"ok\"}, \"version\": {\"type\": \"string\"}}},"
  "\"SearchMode\": {\"type\": \"string\", \"enum\": [\"hybrid\", \"vector\", \"keyword\"], \"default\": \"hybrid\"},"
  "\"TopK\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": " G_STRINGIFY (STACHE_OPERATION_MAX_TOP_K) ","
  "  \"description\": \"Default: the search_top_k setting\"},"
  "\"SearchRequest\": {\"type\": \"object\", \"required\": [\"query\"], \"additionalProperties\": false,"
  "  \"properties\": {\"query\": {\"type\": \"string\", \"minLength\": 1},"
  "  \"namespace\": {\"type\": \"string\", \"description\": \"Default: all namespaces\"},"
  "  \"top_k\": {\"$ref\": \"#/components/schemas/TopK\"}, \"mode\": {\"$ref\": \"#/components/schemas/SearchMode\"},"
  "  \"filter\": {\"type\": \"object\", \"description\": \"A metadata filter\"},"
  "  \"group_by_document\": {\"type\": \"boolean\", \"default\": false,"
  "    \"description\": \"One result per document, the best of its chunks\"}}},"
  "\"SearchResult\": {\"type\": \"object\", \"properties\": {\"rank\": {\"type\": \"integer\"},"
  "  \"score\": {\"type\": \"number\"}, \"chunk_id\": {\"type\": [\"string\", \"null\"]},"
  "  \"document_id\": {\"type\": [\"string\", \"null\"]}, \"namespace\": {\"type\": [\"string\", \"null\"]},"
  "  \"text\": {\"type\": [\"string\", \"null\"]}, \"metadata\": {\"type\": [\"object\", \"null\"]}}},"
  "\"SearchResponse\": {\"type\": \"object\", \"required\": [\"query\", \"results\"], \"properties\": {"
  "  \"query\": {\"type\": \"string\"},"
  "  \"results\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/SearchResult\"}}}},"
  "\"AskRequest\": {\"type\": \"object\", \"required\": [\"question\"], \"additionalProperties\": false,"
  "  \"properties\": {\"question\": {\"type\": \"string\", \"minLength\": 1},"
  "  \"namespace\": {\"type\": \"string\"},"
  "  \"top_k\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": " G_STRINGIFY (STACHE_OPERATION_MAX_TOP_K) ","
  "    \"description\": \"How many passages the model is given; default 5\"}}},"
  "\"AskResponse\": {\"type\": \"object\", \"required\": [\"question\", \"answer\", \"sources\"], \"properties\": {"
  "  \"question\": {\"type\": \"string\"}, \"answer\": {\"type\": \"string\"},"
  "  \"model\": {\"type\": [\"string\", \"null\"]},"
  "  \"sources\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/SearchResult\"}}}},"
  "\"IngestTextRequest\": {\"type\": \"object\", \"required\": [\"text\"], \"additionalProperties\": false,"
  "  \"properties\": {\"text\": {\"type\": \"string\", \"minLength\": 1},"
  "  \"namespace\": {\"type\": \"string\", \"description\": \"Default: default\"},"
  "  \"source\": {\"type\": \"string\", \"description\": \"Where the text comes from; with the namespace, it makes the document id\"},"
  "  \"title\": {\"type\": \"string\"}, \"metadata\": {\"type\": \"object\"}}},"
  "\"UploadRequest\": {\"type\": \"object\", \"required\": [\"file\"], \"properties\": {"
  "  \"file\": {\"type\": \"string\", \"contentMediaType\": \"application/octet-stream\","
  "    \"description\": \"The file, with its file name; the same name in the same namespace replaces it\"},"
  "  \"namespace\": {\"type\": \"string\"}}},"
  "\"IngestResult\": {\"type\": \"object\", \"required\": [\"outcome\"], \"properties\": {"
  "  \"source\": {\"type\": [\"string\", \"null\"]},"
  "  \"outcome\": {\"type\": \"string\", \"enum\": [\"added\", \"unchanged\", \"replaced\", \"skipped\", \"failed\"]},"
  "  \"document_id\": {\"type\": [\"string\", \"null\"]}, \"namespace\": {\"type\": [\"string\", \"null\"]},"
  "  \"title\": {\"type\": [\"string\", \"null\"]}, \"chunks\": {\"type\": \"integer\"},"
  "  \"reason\": {\"type\": [\"string\", \"null\"]}}},"
  "\"Document\": {\"type\": \"object\", \"required\": [\"id\", \"namespace\"], \"properties\": {"
  "  \"id\": {\"type\": \"string\"}, \"namespace\": {\"type\": \"string\"},"
  "  \"source\": {\"type\": [\"string\", \"null\"]}, \"title\": {\"type\": [\"string\", \"null\"]},"
  "  \"media_type\": {\"type\": [\"string\", \"null\"]}, \"content_hash\": {\"type\": [\"string\", \"null\"]},"
  "  \"size\": {\"type\": \"integer\"}, \"chunks\": {\"type\": \"integer\"},"
  "  \"created\": {\"type\": \"integer\"}, \"updated\": {\"type\": \"integer\"},"
  "  \"summary\": {\"type\": [\"string\", \"null\"]},"
  "  \"metadata\": {\"type\": [\"object\", \"null\"], \"description\": \"GET /v1/documents/{id} only\"}}},"
  "\"DocumentList\": {\"type\": \"object\", \"required\": [\"documents\"], \"properties\": {"
  "  \"documents\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/Document\"}}}},"
  "\"Deleted\": {\"type\": \"object\", \"required\": [\"deleted\"], \"properties\": {"
  "  \"deleted\": {\"type\": \"boolean\", \"const\": true}, \"id\": {\"type\": \"string\"},"
  "  \"name\": {\"type\": \"string\"}}},"
  "\"Namespace\": {\"type\": \"object\", \"required\": [\"name\"], \"properties\": {"
  "  \"name\": {\"type\": \"string\"}, \"description\": {\"type\": [\"string\", \"null\"]},"
  "  \"created\": {\"type\": \"integer\"}}},"
  "\"NamespaceList\": {\"type\": \"object\", \"required\": [\"namespaces\"], \"properties\": {"
  "  \"namespaces\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/Namespace\"}}}},"
  "\"CreateNamespaceRequest\": {\"type\": \"object\", \"required\": [\"name\"], \"additionalProperties\": false,"
  "  \"properties\": {\"name\": {\"type\": \"string\", \"minLength\": 1},"
  "  \"description\": {\"type\": \"string\"}}},"
  "\"Provider\": {\"type\": \"object\", \"properties\": {"
  "  \"type\": {\"type\": [\"string\", \"null\"]}, \"name\": {\"type\": [\"string\", \"null\"]},"
  "  \"plugin\": {\"type\": [\"string\", \"null\"]}, \"module\": {\"type\": [\"string\", \"null\"]},"
  "  \"plugin_file\": {\"type\": [\"string\", \"null\"]}, \"folder\": {\"type\": [\"string\", \"null\"]},"
  "  \"loader\": {\"type\": [\"string\", \"null\"]}, \"status\": {\"type\": \"string\"},"
  "  \"reason\": {\"type\": [\"string\", \"null\"]}, \"error_code\": {\"type\": [\"string\", \"null\"]}}},"
  "\"ProviderList\": {\"type\": \"object\", \"required\": [\"providers\"], \"properties\": {"
  "  \"providers\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/components/schemas/Provider\"}}}}"
  "}}";

static void
add_schema_ref (JsonBuilder *builder,
                const char  *media_type,
                const char  *schema)
{
  g_autofree char *ref = g_strconcat ("#/components/schemas/", schema, NULL);

  json_builder_set_member_name (builder, "content");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, media_type);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "schema");
  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "$ref", ref);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

static void
add_response (JsonBuilder *builder,
              guint        status,
              const char  *description,
              const char  *schema)
{
  g_autofree char *key = g_strdup_printf ("%u", status);

  json_builder_set_member_name (builder, key);
  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "description", description);
  add_schema_ref (builder, "application/json", schema);
  json_builder_end_object (builder);
}

static void
add_parameter (JsonBuilder *builder,
               const char  *name,
               const char  *in,
               gboolean     required)
{
  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "name", name);
  stache_tool_add_string_member (builder, "in", in);
  json_builder_set_member_name (builder, "required");
  json_builder_add_boolean_value (builder, required);
  json_builder_set_member_name (builder, "schema");
  json_builder_begin_object (builder);
  if (g_str_equal (name, "cascade"))
    {
      stache_tool_add_string_member (builder, "type", "boolean");
      json_builder_set_member_name (builder, "default");
      json_builder_add_boolean_value (builder, FALSE);
    }
  else
    stache_tool_add_string_member (builder, "type", "string");
  json_builder_end_object (builder);
  if (g_str_equal (in, "path"))
    stache_tool_add_string_member (builder, "description", "Percent-encoded (a / is %2F)");
  json_builder_end_object (builder);
}

static void
add_operation (JsonBuilder *builder,
               const Route *route)
{
  g_autofree char *method = g_ascii_strdown (route->method, -1);
  const char *brace = strchr (route->path, '{');
  g_auto(GStrv) errors = g_strsplit (route->errors, " ", -1);

  json_builder_set_member_name (builder, method);
  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "operationId", route->operation_id);
  stache_tool_add_string_member (builder, "summary", route->summary);

  if (route->open)
    {
      json_builder_set_member_name (builder, "security");
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
    }

  if (brace != NULL || route->query_params != NULL)
    {
      json_builder_set_member_name (builder, "parameters");
      json_builder_begin_array (builder);
      if (brace != NULL)
        {
          g_autofree char *name = g_strndup (brace + 1, strcspn (brace + 1, "}"));

          add_parameter (builder, name, "path", TRUE);
        }
      if (route->query_params != NULL)
        add_parameter (builder, route->query_params, "query", FALSE);
      json_builder_end_array (builder);
    }

  if (route->request_schema != NULL)
    {
      json_builder_set_member_name (builder, "requestBody");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "required");
      json_builder_add_boolean_value (builder, TRUE);
      add_schema_ref (builder, route->body == BODY_MULTIPART ? "multipart/form-data" : "application/json",
                      route->request_schema);
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "responses");
  json_builder_begin_object (builder);
  add_response (builder, route->status, "Success", route->response_schema);
  if (route->status == SOUP_STATUS_CREATED)
    add_response (builder, SOUP_STATUS_OK, "Success, nothing new created", route->response_schema);
  for (guint i = 0; errors[i] != NULL; i++)
    {
      if (errors[i][0] != '\0')
        add_response (builder, (guint) g_ascii_strtoull (errors[i], NULL, 10),
                      soup_status_get_phrase ((guint) g_ascii_strtoull (errors[i], NULL, 10)), "Error");
    }
  if (!route->open)
    add_response (builder, SOUP_STATUS_UNAUTHORIZED, "Missing or wrong bearer token", "Error");
  add_response (builder, SOUP_STATUS_METHOD_NOT_ALLOWED, "Wrong method", "Error");
  add_response (builder, SOUP_STATUS_INTERNAL_SERVER_ERROR, "The store failed", "Error");
  add_response (builder, SOUP_STATUS_SERVICE_UNAVAILABLE, "Shutting down", "Error");
  json_builder_end_object (builder);

  json_builder_end_object (builder);
}

static char *
openapi_document (gboolean pretty)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_data (parser, openapi_components, -1, &error))
    g_error ("The OpenAPI components do not parse: %s", error->message);

  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "openapi", "3.1.0");
  json_builder_set_member_name (builder, "info");
  json_builder_begin_object (builder);
  stache_tool_add_string_member (builder, "title", "Stache REST API");
  stache_tool_add_string_member (builder, "version", PACKAGE_VERSION);
  stache_tool_add_string_member (builder, "description",
                                 "Search, ask and manage a Stache store. Errors are "
                                 "{\"error\": {\"code\", \"message\"}} with a stable code.");
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "security");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "bearerAuth");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "paths");
  json_builder_begin_object (builder);
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      /* Routes of one path are next to each other in the table. */
      if (i > 0 && g_str_equal (routes[i - 1].path, routes[i].path))
        continue;
      json_builder_set_member_name (builder, routes[i].path);
      json_builder_begin_object (builder);
      for (guint j = i; j < G_N_ELEMENTS (routes) && g_str_equal (routes[j].path, routes[i].path); j++)
        add_operation (builder, &routes[j]);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "components");
  json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_pretty (generator, pretty);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/* ---- Listening and shutdown ---- */

static gboolean
on_signal (gpointer user_data)
{
  Server *server = user_data;

  if (server->shutting_down)
    {
      g_printerr ("%s\n", _("stache serve: stopping at once; work in progress is abandoned"));
      server->exit_status = 1;
      g_main_loop_quit (server->loop);
      return G_SOURCE_CONTINUE;
    }

  server->shutting_down = TRUE;
  server->shutdown_started = g_get_monotonic_time ();
  g_printerr (_("stache serve: shutting down after %u requests in progress\n"), server->n_requests);
  maybe_quit (server);
  return G_SOURCE_CONTINUE;
}

static GInetAddress *
resolve_host (const char  *host,
              GError     **error)
{
  GInetAddress *address = g_inet_address_new_from_string (host);
  g_autoptr(GResolver) resolver = NULL;
  GList *addresses;

  if (address != NULL)
    return address;

  resolver = g_resolver_get_default ();
  addresses = g_resolver_lookup_by_name (resolver, host, NULL, error);
  if (addresses == NULL)
    return NULL;

  address = g_object_ref (addresses->data);
  g_resolver_free_addresses (addresses);
  return address;
}

static char *
url_for (GInetSocketAddress *address)
{
  GInetAddress *inet = g_inet_socket_address_get_address (address);
  g_autofree char *text = g_inet_address_to_string (inet);
  guint16 port = g_inet_socket_address_get_port (address);

  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("http://[%s]:%u", text, port);

  return g_strdup_printf ("http://%s:%u", text, port);
}

int
stache_serve_main (int    argc,
                   char **argv)
{
  g_autofree char *host = NULL;
  int port = DEFAULT_PORT;
  gboolean insecure = FALSE;
  gboolean openapi = FALSE;
  gint64 max_body_size = 0;
  const GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, N_("Address to listen on (default 127.0.0.1)"), N_("HOST") },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, N_("Port (default 8000; 0 picks a free one)"), N_("PORT") },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &insecure,
      N_("Allow a non-loopback address without an API token"), NULL },
    { "max-body-size", 0, 0, G_OPTION_ARG_INT64, &max_body_size,
      N_("Largest request body (default: serve_max_body_size setting, else 16 MiB)"), N_("BYTES") },
    { "openapi", 0, 0, G_OPTION_ARG_NONE, &openapi, N_("Print the OpenAPI document and exit"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) bind_address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autofree char *url = NULL;
  StacheSettings *settings;
  Server server = { 0 };
  guint sigterm_id, sigint_id;

  g_option_context_set_summary (context,
                                _("Serve the store over HTTP as a JSON REST API (see GET /openapi.json).\n"
                                  "Set STACHE_API_TOKEN (setting stache_api_token) to require "
                                  "“Authorization: Bearer TOKEN”.\n"
                                  "The first line on standard output is “Listening on URL”."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("stache serve: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr (_("stache serve: unexpected argument “%s”\n"), argv[1]);
      return EXIT_USAGE;
    }

  if (openapi)
    {
      g_autofree char *text = openapi_document (TRUE);

      g_print ("%s\n", text);
      return 0;
    }

  if (port < 0 || port > 65535)
    {
      g_printerr ("%s\n", _("stache serve: --port must be between 0 and 65535"));
      return EXIT_USAGE;
    }
  if (max_body_size < 0)
    {
      g_printerr ("%s\n", _("stache serve: --max-body-size must be positive"));
      return EXIT_USAGE;
    }

  address = resolve_host (host != NULL ? host : DEFAULT_HOST, &error);
  if (address == NULL)
    {
      g_printerr (_("stache serve: cannot use the address “%s”: %s\n"), host, error->message);
      return EXIT_USAGE;
    }

  if ((server.store = stache_tool_open_store ()) == NULL)
    return 1;
  settings = stache_store_get_settings (server.store);
  server.token = stache_settings_get_nonempty (settings, TOKEN_KEY, NULL);

  if (server.token == NULL && !g_inet_address_get_is_loopback (address) && !insecure)
    {
      g_printerr (_("stache serve: refusing to listen on “%s”, which is not a loopback address, "
                    "without an API token. Set STACHE_API_TOKEN, or pass --insecure to serve "
                    "anyone who can reach it.\n"), host);
      g_object_unref (server.store);
      return EXIT_USAGE;
    }

  {
    struct rlimit limit;
    gint64 fd_room = 1024 - 64;
    gint64 body = max_body_size, buffered, connections, header_timeout, body_timeout, idle_timeout;

    /* Room for the store's files, the plugins' and the log besides */
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
      fd_room = MAX ((gint64) limit.rlim_cur - 64, 16);
    fd_room = MIN (fd_room, 4096);
    if ((max_body_size <= 0 &&
         !stache_settings_get_int_range (settings, MAX_BODY_KEY, DEFAULT_MAX_BODY_SIZE, 1, G_MAXINT64, &body,
                                         &error)) ||
        !stache_settings_get_int_range (settings, MAX_BUFFERED_KEY, DEFAULT_MAX_BUFFERED, 1, G_MAXINT64, &buffered,
                                        &error) ||
        !stache_settings_get_int_range (settings, MAX_CONNECTIONS_KEY, fd_room, 1, 1000000, &connections, &error) ||
        !stache_settings_get_int_range (settings, HEADER_TIMEOUT_KEY, 10, 1, 86400, &header_timeout, &error) ||
        !stache_settings_get_int_range (settings, BODY_TIMEOUT_KEY, 60, 1, 86400, &body_timeout, &error) ||
        !stache_settings_get_int_range (settings, IDLE_TIMEOUT_KEY, 30, 1, 86400, &idle_timeout, &error))
      {
        g_printerr ("stache serve: %s\n", error->message);
        g_object_unref (server.store);
        g_free (server.token);
        return EXIT_USAGE;
      }
    server.max_body_size = (gsize) body;
    server.max_buffered = MAX ((gsize) buffered, server.max_body_size);
    server.max_connections = (guint) connections;
    server.header_timeout = (guint) header_timeout;
    server.body_timeout = (guint) body_timeout;
    server.idle_timeout = (guint) idle_timeout;
  }

  server.server = g_object_new (SOUP_TYPE_SERVER, "raw-paths", TRUE, "server-header", "stache", NULL);
  g_signal_connect (server.server, "request-started", G_CALLBACK (on_request_started), &server);
  soup_server_add_early_handler (server.server, NULL, early_handler, &server, NULL);
  soup_server_add_handler (server.server, NULL, request_handler, &server, NULL);
  g_mutex_init (&server.upload_lock);

  server.listener = g_socket_listener_new ();
  server.accepting = g_cancellable_new ();
  server.connections = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, connection_free);
  /* Bursts of clients (the tests send 50 at once) must not overflow the
   * accept queue while the main loop is busy */
  g_socket_listener_set_backlog (server.listener, 128);
  bind_address = g_inet_socket_address_new (address, (guint16) port);
  if (!g_socket_listener_add_address (server.listener, bind_address, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error))
    {
      g_printerr (_("stache serve: cannot listen: %s\n"), error->message);
      g_object_unref (server.listener);
      g_object_unref (server.server);
      g_object_unref (server.store);
      g_free (server.token);
      g_mutex_clear (&server.upload_lock);
      return 1;
    }
  start_accepting (&server);

  server.loop = g_main_loop_new (NULL, FALSE);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &server);
  sigint_id = g_unix_signal_add (SIGINT, on_signal, &server);

  url = url_for (G_INET_SOCKET_ADDRESS (effective));
  /* A fixed, untranslated line that scripts read (with --port 0 too) */
  g_print ("Listening on %s\n", url);
  fflush (stdout);
  g_printerr (_("stache serve: serving %s; API token %s; press Ctrl+C to stop\n"), url,
              server.token != NULL ? _("required") : _("not required"));

  g_main_loop_run (server.loop);

  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);
  if (server.drain_source != 0)
    g_source_remove (server.drain_source);
  stop_accepting (&server);
  soup_server_disconnect (server.server);
  if (server.exit_status == 0)
    g_printerr ("%s\n", _("stache serve: stopped"));

  /* Jobs still running (after a second signal) use the store; leave it. */
  if (server.n_jobs == 0)
    {
      g_object_unref (server.server);
      g_object_unref (server.listener);
      g_object_unref (server.accepting);
      g_object_unref (server.store);
      g_main_loop_unref (server.loop);
      g_mutex_clear (&server.upload_lock);
    }
  g_free (server.token);

  return server.exit_status;
}
