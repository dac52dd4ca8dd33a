/* test-qdrant.c: the `qdrant` vector database provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts a fake Qdrant on the loopback interface (port 0), a
 * SoupServer in a thread of its own with its own GMainContext, fed by a
 * GSocketService. It keeps points in memory, implements the endpoints the
 * plugin uses, checks every body's shape (and the api-key header) strictly
 * and evaluates filters (must/should, match value/any, is_null). A request
 * that breaks the rules is answered 400 and recorded; every test ends by
 * checking that none did.
 */
#include <math.h>
#include <string.h>

#include <libsoup/soup.h>
#include <stache-plugin.h>

#include "stache-test-server.h"

#define TEST_KEY "qdrant-secret-key-123"
#define COLL     "/collections/stache"

static StachePluginLoader *loader;

typedef enum { SCENARIO_NORMAL, SCENARIO_FAIL_ONCE, SCENARIO_ECHO_KEY } Scenario;

typedef struct {
  StacheTestHttp http;      /* first */
  Scenario      scenario;
  /* under http.mutex */
  gboolean      exists;
  gint64        size;
  GPtrArray    *indexes;   /* char * */
  GHashTable   *points;    /* uuid → JsonNode (point object) */
  GPtrArray    *log;       /* char *: "METHOD path?query body" */
} Fixture;

static void
respond (SoupServerMessage *msg, guint status, const char *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
}

static void
respond_result (SoupServerMessage *msg, JsonNode *result)
{
  g_autoptr(JsonObject) root = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;

  json_object_set_member (root, "result", result);
  json_object_set_string_member (root, "status", "ok");
  json_object_set_double_member (root, "time", 0.001);
  json_node_set_object (node, root);
  text = json_to_string (node, FALSE);
  respond (msg, 200, text);
}

/* ---- filter evaluation ---- */

static JsonNode *
payload_lookup (JsonObject *payload, const char *key)
{
  g_auto(GStrv) parts = g_strsplit (key, ".", -1);
  JsonNode *node = NULL;
  JsonObject *o = payload;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (o == NULL || (node = json_object_get_member (o, parts[i])) == NULL)
        return NULL;
      o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
    }
  return node;
}

static gboolean eval_filter (Fixture *f, JsonObject *filter, JsonObject *payload);

static gboolean
eval_condition (Fixture *f, JsonObject *c, JsonObject *payload)
{
  const char * const cond_known[] = { "key", "match", NULL };
  const char * const match_known[] = { "value", "any", NULL };
  JsonObject *match;
  JsonNode *actual;

  if (json_object_has_member (c, "must") || json_object_has_member (c, "should"))
    return eval_filter (f, c, payload);

  if (json_object_has_member (c, "is_null"))
    {
      actual = payload_lookup (payload, json_object_get_string_member (
                                 json_object_get_object_member (c, "is_null"), "key"));
      return actual == NULL || JSON_NODE_HOLDS_NULL (actual);
    }

  stache_test_http_check_members (&f->http, "condition", c, cond_known);
  if (!json_object_has_member (c, "key") || !json_object_has_member (c, "match"))
    {
      stache_test_http_problem (&f->http, "condition without key/match");
      return FALSE;
    }
  match = json_object_get_object_member (c, "match");
  stache_test_http_check_members (&f->http, "match", match, match_known);
  actual = payload_lookup (payload, json_object_get_string_member (c, "key"));
  if (actual == NULL || !JSON_NODE_HOLDS_VALUE (actual))
    return FALSE;
  if (json_object_has_member (match, "value"))
    return json_node_equal (actual, json_object_get_member (match, "value"));
  if (json_object_has_member (match, "any"))
    {
      JsonArray *any = json_object_get_array_member (match, "any");

      for (guint i = 0; i < json_array_get_length (any); i++)
        if (json_node_equal (actual, json_array_get_element (any, i)))
          return TRUE;
      return FALSE;
    }
  stache_test_http_problem (&f->http, "match without value/any");
  return FALSE;
}

static gboolean
eval_filter (Fixture *f, JsonObject *filter, JsonObject *payload)
{
  const char * const known[] = { "must", "should", "must_not", NULL };

  stache_test_http_check_members (&f->http, "filter", filter, known);
  if (json_object_has_member (filter, "must"))
    {
      JsonArray *a = json_object_get_array_member (filter, "must");

      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!eval_condition (f, json_array_get_object_element (a, i), payload))
          return FALSE;
    }
  if (json_object_has_member (filter, "should"))
    {
      JsonArray *a = json_object_get_array_member (filter, "should");
      gboolean any = FALSE;

      for (guint i = 0; i < json_array_get_length (a); i++)
        any = eval_condition (f, json_array_get_object_element (a, i), payload) || any;
      if (!any)
        return FALSE;
    }
  return TRUE;
}

static gboolean
point_matches (Fixture *f, JsonObject *request, JsonObject *point)
{
  JsonObject *payload = json_object_get_object_member (point, "payload");

  if (!json_object_has_member (request, "filter"))
    return TRUE;
  return eval_filter (f, json_object_get_object_member (request, "filter"), payload);
}

/* ---- endpoints ---- */

static void
check_point (Fixture *f, JsonObject *p)
{
  const char * const known[] = { "id", "vector", "payload", NULL };
  const char * const payload_known[] = { "chunk_id", "namespace", "document_id", "position",
                                         "text", "metadata", NULL };
  JsonObject *payload;
  const char *id;

  stache_test_http_check_members (&f->http, "point", p, known);
  id = json_object_get_string_member_with_default (p, "id", "");
  if (strlen (id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-')
    stache_test_http_problem (&f->http, "point id “%s” is not a UUID", id);
  if (json_array_get_length (json_object_get_array_member (p, "vector")) != (guint) f->size)
    stache_test_http_problem (&f->http, "vector length is not %" G_GINT64_FORMAT, f->size);
  payload = json_object_get_object_member (p, "payload");
  stache_test_http_check_members (&f->http, "payload", payload, payload_known);
  if (json_object_get_string_member_with_default (payload, "chunk_id", NULL) == NULL ||
      json_object_get_string_member_with_default (payload, "namespace", NULL) == NULL ||
      !json_object_has_member (payload, "metadata"))
    stache_test_http_problem (&f->http, "payload lacks chunk_id/namespace/metadata");
}

static double
cosine (JsonArray *a, JsonArray *b)
{
  double dot = 0, na = 0, nb = 0;

  for (guint i = 0; i < json_array_get_length (a) && i < json_array_get_length (b); i++)
    {
      double x = json_array_get_double_element (a, i), y = json_array_get_double_element (b, i);
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
  return na > 0 && nb > 0 ? dot / sqrt (na * nb) : 0;
}

static gint
compare_scores (gconstpointer a, gconstpointer b)
{
  double x = json_object_get_double_member (*(JsonObject **) a, "score");
  double y = json_object_get_double_member (*(JsonObject **) b, "score");

  return x < y ? 1 : x > y ? -1 : 0;
}

static void
handle_points (Fixture *f, SoupServerMessage *msg, const char *op, JsonObject *body)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_str_equal (op, "search"))
    {
      const char * const known[] = { "vector", "limit", "with_payload", "filter", NULL };
      g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
      JsonArray *query = json_object_get_array_member (body, "vector");
      JsonNode *result = json_node_new (JSON_NODE_ARRAY);
      JsonArray *array = json_array_new ();
      gint64 limit = json_object_get_int_member_with_default (body, "limit", 0);

      stache_test_http_check_members (&f->http, "search", body, known);
      if (!json_object_get_boolean_member_with_default (body, "with_payload", FALSE) || limit < 1)
        stache_test_http_problem (&f->http, "search: with_payload/limit");
      g_hash_table_iter_init (&iter, f->points);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          JsonObject *p = json_node_get_object (value);
          JsonObject *hit;

          if (!point_matches (f, body, p))
            continue;
          hit = json_object_new ();
          json_object_set_string_member (hit, "id", key);
          json_object_set_int_member (hit, "version", 1);
          json_object_set_double_member (hit, "score",
                                         cosine (query, json_object_get_array_member (p, "vector")));
          json_object_set_member (hit, "payload", json_node_copy (json_object_get_member (p, "payload")));
          g_ptr_array_add (hits, hit);
        }
      g_ptr_array_sort (hits, compare_scores);
      for (guint i = 0; i < hits->len && i < limit; i++)
        json_array_add_object_element (array, json_object_ref (g_ptr_array_index (hits, i)));
      json_node_take_array (result, array);
      respond_result (msg, result);
    }
  else if (g_str_equal (op, "count") || g_str_equal (op, "delete"))
    {
      const char * const count_known[] = { "filter", "exact", NULL };
      const char * const delete_known[] = { "filter", "points", NULL };
      gboolean del = g_str_equal (op, "delete");
      g_autoptr(GPtrArray) doomed = g_ptr_array_new ();
      gint64 n = 0;
      JsonNode *result = json_node_new (JSON_NODE_OBJECT);
      JsonObject *ro = json_object_new ();

      stache_test_http_check_members (&f->http, op, body, del ? delete_known : count_known);
      if (!del && !json_object_get_boolean_member_with_default (body, "exact", FALSE))
        stache_test_http_problem (&f->http, "count: exact is not true");
      if (del && json_object_has_member (body, "points") == json_object_has_member (body, "filter"))
        stache_test_http_problem (&f->http, "delete: needs exactly one of points/filter");
      if (del && json_object_has_member (body, "points"))
        {
          JsonArray *ids = json_object_get_array_member (body, "points");

          for (guint i = 0; i < json_array_get_length (ids); i++)
            g_hash_table_remove (f->points, json_array_get_string_element (ids, i));
        }
      else
        {
          g_hash_table_iter_init (&iter, f->points);
          while (g_hash_table_iter_next (&iter, &key, &value))
            if (point_matches (f, body, json_node_get_object (value)))
              {
                n++;
                if (del)
                  g_hash_table_iter_remove (&iter);
              }
        }
      if (del)
        json_object_set_string_member (ro, "status", "completed");
      else
        json_object_set_int_member (ro, "count", n);
      json_node_take_object (result, ro);
      respond_result (msg, result);
    }
  else
    {
      stache_test_http_problem (&f->http, "unknown points op %s", op);
      respond (msg, 404, "{\"status\":{\"error\":\"Not found\"}}");
    }
}

static void
handle_request (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  Fixture *f = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *api_key = soup_message_headers_get_one (headers, "api-key");
  const char *uri_query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *body = NULL;
  guint n_problems;

  n_problems = stache_test_http_begin (&f->http, msg, path);
  g_ptr_array_add (f->log, g_strdup_printf ("%s %s%s%s %.*s", method, path,
                                            uri_query ? "?" : "", uri_query ? uri_query : "",
                                            (int) g_bytes_get_size (bytes),
                                            (const char *) g_bytes_get_data (bytes, NULL)));

  if (g_strcmp0 (api_key, TEST_KEY) != 0)
    stache_test_http_problem (&f->http, "%s: api-key is “%s”", path, api_key ? api_key : "(none)");

  if (f->scenario == SCENARIO_ECHO_KEY)
    {
      g_autofree char *text = g_strdup_printf ("{\"status\":{\"error\":\"Forbidden: bad key %s\"}}", api_key);
      respond (msg, 403, text);
      goto out;
    }
  if (f->scenario == SCENARIO_FAIL_ONCE && f->http.n_requests == 1)
    {
      respond (msg, 500, "{\"status\":{\"error\":\"Service internal error\"}}");
      goto out;
    }
  if (stache_test_server_fault (&f->http.ts, f->http.fault, msg, f->http.n_requests,
                                "{\"status\":{\"error\":\"Service internal error\"},"
                                "\"time\":0.0001}"))
    goto out;

  if (g_bytes_get_size (bytes) > 0)
    {
      if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                       (gssize) g_bytes_get_size (bytes), NULL) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        stache_test_http_problem (&f->http, "%s: body is not a JSON object", path);
      else
        body = json_node_get_object (json_parser_get_root (parser));
    }

  if (g_str_equal (path, COLL))
    {
      if (g_str_equal (method, "GET"))
        {
          if (!f->exists)
            respond (msg, 404, "{\"status\":{\"error\":\"Not found: Collection `stache` doesn't exist!\"},\"time\":0}");
          else
            {
              JsonNode *r = json_node_new (JSON_NODE_OBJECT);
              json_node_take_object (r, json_object_new ());
              respond_result (msg, r);
            }
          goto out;
        }
      if (g_str_equal (method, "PUT") && body != NULL && !f->exists)
        {
          const char * const known[] = { "vectors", NULL };
          JsonObject *v = json_object_get_object_member (body, "vectors");

          stache_test_http_check_members (&f->http, "create", body, known);
          if (v == NULL || g_strcmp0 (json_object_get_string_member_with_default (v, "distance", ""), "Cosine") != 0 ||
              json_object_get_int_member_with_default (v, "size", 0) < 1 || json_object_get_size (v) != 2)
            stache_test_http_problem (&f->http, "create: bad vectors");
          else
            {
              f->exists = TRUE;
              f->size = json_object_get_int_member (v, "size");
            }
          if (f->http.problems->len == n_problems)
            {
              JsonNode *r = json_node_new (JSON_NODE_VALUE);
              json_node_set_boolean (r, TRUE);
              respond_result (msg, r);
              goto out;
            }
        }
      else
        stache_test_http_problem (&f->http, "%s %s unexpected", method, path);
    }
  else if (!f->exists)
    {
      respond (msg, 404, "{\"status\":{\"error\":\"Not found: Collection `stache` doesn't exist!\"},\"time\":0}");
      goto out;
    }
  else if (g_str_equal (path, COLL "/index") && g_str_equal (method, "PUT") && body != NULL)
    {
      const char * const known[] = { "field_name", "field_schema", NULL };

      stache_test_http_check_members (&f->http, "index", body, known);
      if (g_strcmp0 (json_object_get_string_member_with_default (body, "field_schema", ""), "keyword") != 0)
        stache_test_http_problem (&f->http, "index: schema is not keyword");
      g_ptr_array_add (f->indexes, g_strdup (json_object_get_string_member_with_default (body, "field_name", "")));
    }
  else if (g_str_equal (path, COLL "/points") && g_str_equal (method, "PUT") && body != NULL)
    {
      const char * const known[] = { "points", NULL };
      JsonArray *points = json_object_get_array_member (body, "points");

      stache_test_http_check_members (&f->http, "upsert", body, known);
      if (g_strcmp0 (uri_query, "wait=true") != 0)
        stache_test_http_problem (&f->http, "upsert without wait=true");
      for (guint i = 0; i < json_array_get_length (points); i++)
        {
          JsonObject *p = json_array_get_object_element (points, i);

          check_point (f, p);
          g_hash_table_replace (f->points, g_strdup (json_object_get_string_member (p, "id")),
                                json_node_copy (json_array_get_element (points, i)));
        }
    }
  else if (g_str_has_prefix (path, COLL "/points/") && g_str_equal (method, "POST") && body != NULL)
    {
      const char *op = path + strlen (COLL "/points/");

      if (g_str_equal (op, "delete") && g_strcmp0 (uri_query, "wait=true") != 0)
        stache_test_http_problem (&f->http, "delete without wait=true");
      handle_points (f, msg, op, body);
      if (f->http.problems->len == n_problems)
        goto out;
    }
  else
    stache_test_http_problem (&f->http, "%s %s unexpected", method, path);

  if (f->http.problems->len != n_problems)
    respond (msg, 400, "{\"status\":{\"error\":\"Bad request\"}}");
  else if (soup_server_message_get_status (msg) == 0 || soup_server_message_get_status (msg) == SOUP_STATUS_NONE)
    {
      JsonNode *r = json_node_new (JSON_NODE_OBJECT);
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "status", "completed");
      json_node_take_object (r, o);
      respond_result (msg, r);
    }

out:
  g_mutex_unlock (&f->http.mutex);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->scenario = GPOINTER_TO_INT (data);
  f->indexes = g_ptr_array_new_with_free_func (g_free);
  f->log = g_ptr_array_new_with_free_func (g_free);
  f->points = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) json_node_unref);
  stache_test_http_start (&f->http, "qdrant", "/", handle_request, f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  stache_test_http_stop (&f->http);
  g_ptr_array_unref (f->indexes);
  g_ptr_array_unref (f->log);
  g_hash_table_unref (f->points);
}

/* The last logged request whose line starts with @prefix */
static char *
last_request (Fixture *f, const char *prefix)
{
  char *found = NULL;

  g_mutex_lock (&f->http.mutex);
  for (guint i = f->log->len; i > 0 && found == NULL; i--)
    if (g_str_has_prefix (g_ptr_array_index (f->log, i - 1), prefix))
      found = g_strdup (g_ptr_array_index (f->log, i - 1));
  g_mutex_unlock (&f->http.mutex);
  return found;
}

/* The provider, with the NULL-terminated key/value pairs @extra on top of
 * the settings that point at the fake server */
static StacheVectorDbProvider *
create_db_with (Fixture *f, const char * const *extra)
{
  const char * const base[] = {
    "qdrant_url", f->http.base_url, "qdrant_api_key", TEST_KEY, "http_backoff_ms", "10", NULL,
  };
  StacheProvider *provider;

  provider = stache_test_create_provider (loader, STACHE_PROVIDER_TYPE_VECTORDB, "qdrant", base, extra);
  g_assert_true (STACHE_IS_VECTOR_DB_PROVIDER (provider));
  return STACHE_VECTOR_DB_PROVIDER (provider);
}

static StacheVectorDbProvider *
create_db (Fixture *f)
{
  return create_db_with (f, NULL);
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* Inserts chunk @id of document @doc with metadata @meta_json and vector
 * (x, y, 0) */
static void
insert_one (StacheVectorDbProvider *db, const char *ns, const char *id, const char *doc,
            const char *text, const char *meta_json, float x, float y)
{
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GError) error = NULL;
  StacheChunk *chunk = stache_chunk_new (id, text);
  float v[3] = { x, y, 0 };

  stache_chunk_set_document_id (chunk, doc);
  if (meta_json != NULL)
    {
      g_autoptr(JsonObject) meta = parse_object (meta_json);
      stache_chunk_set_metadata (chunk, meta);
    }
  g_ptr_array_add (chunks, chunk);
  g_array_append_vals (vectors, v, 3);
  g_assert_true (stache_vector_db_provider_insert (db, ns, chunks, vectors, NULL, &error));
  g_assert_no_error (error);
}

static GPtrArray *
search (StacheVectorDbProvider *db, const char *ns, float x, float y, guint k, const char *filter_json)
{
  g_autoptr(GArray) q = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(JsonObject) filter = filter_json ? parse_object (filter_json) : NULL;
  g_autoptr(GError) error = NULL;
  float v[3] = { x, y, 0 };
  GPtrArray *results;

  g_array_append_vals (q, v, 3);
  results = stache_vector_db_provider_search (db, ns, q, k, filter, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (results);
  return results;
}

static const char *
result_id (GPtrArray *r, guint i)
{
  return stache_search_result_get_id (g_ptr_array_index (r, i));
}

static void
populate (StacheVectorDbProvider *db)
{
  insert_one (db, "ns1", "a", "doc1", "alpha", "{\"lang\":\"en\",\"tag\":\"x\"}", 1, 0);
  insert_one (db, "ns1", "b", "doc1", "beta", "{\"lang\":\"fr\",\"tag\":\"y\"}", 1, 1);
  insert_one (db, "ns1", "c", "doc2", "gamma", "{\"lang\":\"de\",\"tag\":\"x\"}", 0, 1);
  insert_one (db, "ns2", "a", "doc9", "other", "{\"lang\":\"en\"}", 1, 0);
}

static void
test_create_and_search (Fixture *f, gconstpointer data)
{
  g_autoptr(StacheVectorDbProvider) db = create_db (f);
  g_autoptr(GPtrArray) r = NULL;
  g_autoptr(GPtrArray) empty = NULL;
  g_autoptr(GError) error = NULL;
  StacheSearchResult *top;

  /* Nothing there yet: no collection, no results, count 0 */
  empty = search (db, "ns1", 1, 0, 5, NULL);
  g_assert_cmpuint (empty->len, ==, 0);
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns1", NULL, &error), ==, 0);
  g_assert_no_error (error);

  populate (db);
  g_assert_true (f->exists);
  g_assert_cmpint (f->size, ==, 3);
  g_assert_cmpuint (f->indexes->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f->indexes, 0), ==, "namespace");
  g_assert_cmpstr (g_ptr_array_index (f->indexes, 1), ==, "document_id");
  g_assert_cmpuint (g_hash_table_size (f->points), ==, 4);

  r = search (db, "ns1", 1, 0.1f, 10, NULL);
  g_assert_cmpuint (r->len, ==, 3);
  g_assert_cmpstr (result_id (r, 0), ==, "a");
  g_assert_cmpstr (result_id (r, 1), ==, "b");
  g_assert_cmpstr (result_id (r, 2), ==, "c");
  top = g_ptr_array_index (r, 0);
  g_assert_cmpstr (stache_search_result_get_text (top), ==, "alpha");
  g_assert_cmpstr (stache_search_result_get_document_id (top), ==, "doc1");
  g_assert_cmpstr (stache_search_result_get_namespace (top), ==, "ns1");
  g_assert_cmpstr (json_object_get_string_member (stache_search_result_get_metadata (top), "lang"), ==, "en");
  g_assert_cmpfloat (stache_search_result_get_score (top), >, 0.99);

  {
    g_autofree char *req = last_request (f, "POST /collections/stache/points/search");
    g_assert_nonnull (strstr (req, "\"limit\":10"));
    g_assert_nonnull (strstr (req, "{\"key\":\"namespace\",\"match\":{\"value\":\"ns1\"}}"));
  }

  /* Namespace isolation and counts */
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns1", NULL, &error), ==, 3);
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns2", NULL, &error), ==, 1);
  g_assert_cmpint (stache_vector_db_provider_count (db, "nope", NULL, &error), ==, 0);
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) r2 = search (db, "ns2", 1, 0, 10, NULL);
    g_assert_cmpuint (r2->len, ==, 1);
    g_assert_cmpstr (stache_search_result_get_text (g_ptr_array_index (r2, 0)), ==, "other");
  }
  {
    g_autoptr(GPtrArray) r2 = search (db, "ns1", 1, 0, 2, NULL);
    g_assert_cmpuint (r2->len, ==, 2);
  }
}

static void
test_filters (Fixture *f, gconstpointer data)
{
  g_autoptr(StacheVectorDbProvider) db = create_db (f);

  populate (db);
  {
    g_autoptr(GPtrArray) r = search (db, "ns1", 1, 0, 10, "{\"lang\": {\"$in\": [\"fr\", \"de\"]}}");
    g_autofree char *req = last_request (f, "POST /collections/stache/points/search");
    g_assert_cmpuint (r->len, ==, 2);
    g_assert_cmpstr (result_id (r, 0), ==, "b");
    g_assert_cmpstr (result_id (r, 1), ==, "c");
    g_assert_nonnull (strstr (req, "\"filter\":{\"must\":[{\"key\":\"namespace\",\"match\":{\"value\":\"ns1\"}},"
                                   "{\"key\":\"metadata.lang\",\"match\":{\"any\":[\"fr\",\"de\"]}}]}"));
  }
  {
    g_autoptr(GPtrArray) r = search (db, "ns1", 1, 0, 10, "{\"document_id\": \"doc2\"}");
    g_autofree char *req = last_request (f, "POST /collections/stache/points/search");
    g_assert_cmpuint (r->len, ==, 1);
    g_assert_cmpstr (result_id (r, 0), ==, "c");
    g_assert_nonnull (strstr (req, "{\"key\":\"document_id\",\"match\":{\"value\":\"doc2\"}}"));
  }
  {
    g_autoptr(GPtrArray) r = search (db, "ns1", 1, 0, 10,
                                     "{\"$or\": [{\"lang\": \"fr\"}, {\"$and\": [{\"tag\": \"x\"}, {\"document_id\": \"doc2\"}]}]}");
    g_autofree char *req = last_request (f, "POST /collections/stache/points/search");
    g_assert_cmpuint (r->len, ==, 2);
    g_assert_cmpstr (result_id (r, 0), ==, "b");
    g_assert_cmpstr (result_id (r, 1), ==, "c");
    g_assert_nonnull (strstr (req, "{\"should\":[{\"must\":[{\"key\":\"metadata.lang\",\"match\":{\"value\":\"fr\"}}]},"
                                   "{\"must\":[{\"must\":[{\"must\":[{\"key\":\"metadata.tag\",\"match\":{\"value\":\"x\"}}]},"
                                   "{\"must\":[{\"key\":\"document_id\",\"match\":{\"value\":\"doc2\"}}]}]}]}]}"));
  }
}

static void
test_delete_and_upsert (Fixture *f, gconstpointer data)
{
  g_autoptr(StacheVectorDbProvider) db = create_db (f);
  g_autoptr(GError) error = NULL;
  const char * const ids[] = { "a", "nope", NULL };

  populate (db);

  /* Same chunk id again: replaced, not added */
  insert_one (db, "ns1", "a", "doc1", "alpha v2", "{\"lang\":\"en\"}", 1, 0);
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns1", NULL, &error), ==, 3);
  {
    g_autoptr(GPtrArray) r = search (db, "ns1", 1, 0, 1, NULL);
    g_assert_cmpstr (stache_search_result_get_text (g_ptr_array_index (r, 0)), ==, "alpha v2");
  }

  g_assert_cmpint (stache_vector_db_provider_delete_chunks (db, "ns1", ids, NULL, NULL, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns1", NULL, &error), ==, 2);
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns2", NULL, &error), ==, 1);

  {
    g_autoptr(JsonObject) filter = parse_object ("{\"document_id\": {\"$in\": [\"doc1\", \"doc2\"]}}");
    g_autofree char *req = NULL;

    g_assert_cmpint (stache_vector_db_provider_delete_chunks (db, "ns1", NULL, filter, NULL, &error), ==, 2);
    g_assert_no_error (error);
    req = last_request (f, "POST /collections/stache/points/delete?wait=true");
    g_assert_nonnull (strstr (req, "{\"filter\":{\"must\":[{\"key\":\"namespace\""));
  }
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns1", NULL, &error), ==, 0);
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns2", NULL, &error), ==, 1);
  g_assert_no_error (error);
}

static void
test_retry (Fixture *f, gconstpointer data)
{
  g_autoptr(StacheVectorDbProvider) db = create_db (f);
  g_autoptr(GError) error = NULL;

  insert_one (db, "ns1", "a", "doc1", "alpha", NULL, 1, 0);
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns1", NULL, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (g_ptr_array_index (f->log, 0), "GET /collections/stache"));
  g_assert_nonnull (strstr (g_ptr_array_index (f->log, 1), "GET /collections/stache"));
}

static void
test_key_redacted (Fixture *f, gconstpointer data)
{
  g_autoptr(StacheVectorDbProvider) db = create_db (f);
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GError) error = NULL;
  float v[2] = { 1, 0 };

  g_ptr_array_add (chunks, stache_chunk_new ("a", "alpha"));
  g_array_append_vals (vectors, v, 2);
  g_assert_false (stache_vector_db_provider_insert (db, "ns1", chunks, vectors, NULL, &error));
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_null (strstr (error->message, TEST_KEY));
  g_clear_error (&error);
  g_assert_cmpint (stache_vector_db_provider_count (db, "ns1", NULL, &error), ==, -1);
  g_assert_nonnull (error);
  g_assert_null (strstr (error->message, TEST_KEY));
}

/* ---- faults, through a count ---- */

static gboolean
fault_run (gpointer             fixture,
           const char * const  *settings,
           GCancellable        *cancellable,
           GError             **error)
{
  g_autoptr(StacheVectorDbProvider) db = create_db_with (fixture, settings);
  gint64 n = stache_vector_db_provider_count (db, "ns1", cancellable, error);

  /* The collection does not exist yet: 0 */
  if (n >= 0)
    g_assert_cmpint (n, ==, 0);

  return n >= 0;
}

STACHE_TEST_DEFINE_HTTP_API (Fixture, fault_api, fault_run, "Service internal error");

STACHE_TEST_DEFINE_FAULT_TESTS (Fixture, fault_api)

static void
test_listed (void)
{
  g_auto(GStrv) dbs = stache_plugin_loader_get_available_providers (loader, STACHE_PROVIDER_TYPE_VECTORDB);

  g_assert_true (g_strv_contains ((const char * const *) dbs, "qdrant"));
}

#define ADD(path, scenario, func) \
  g_test_add (path, Fixture, GINT_TO_POINTER (scenario), fixture_setup, func, fixture_teardown)

int
main (int argc, char *argv[])
{
  int status;

  g_setenv ("STACHE_PLUGIN_PATH", g_getenv ("STACHE_TEST_BUILTIN_PLUGINS"), TRUE);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_unsetenv ("QDRANT_URL");
  g_unsetenv ("QDRANT_API_KEY");
  g_unsetenv ("QDRANT_COLLECTION");

  g_test_init (&argc, &argv, NULL);
  loader = stache_plugin_loader_new ();

  g_test_add_func ("/qdrant/listed", test_listed);
  ADD ("/qdrant/create-and-search", SCENARIO_NORMAL, test_create_and_search);
  ADD ("/qdrant/filters", SCENARIO_NORMAL, test_filters);
  ADD ("/qdrant/delete-and-upsert", SCENARIO_NORMAL, test_delete_and_upsert);
  ADD ("/qdrant/retry", SCENARIO_FAIL_ONCE, test_retry);
  ADD ("/qdrant/key-redacted", SCENARIO_ECHO_KEY, test_key_redacted);
  STACHE_TEST_ADD_FAULT_TESTS ("/qdrant", Fixture, GINT_TO_POINTER (SCENARIO_NORMAL),
                               fixture_setup, fixture_teardown);

  status = g_test_run ();
  g_clear_object (&loader);
  return status;
}
