/* qdrant-vectordb.c: the `qdrant` vector database provider, Qdrant's REST API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Settings: `qdrant_url` (default http://localhost:6333), `qdrant_api_key`
 * (optional, sent as the `api-key` header and redacted from every error
 * message) and `qdrant_collection` (default `stache`). Every namespace
 * lives in the one collection; each point carries its namespace in its
 * payload.
 *
 * Collection: on the first insert of a provider instance,
 * GET /collections/{name}; on 404 the collection is made with
 *   PUT /collections/{name}  {"vectors": {"size": <dims>, "distance": "Cosine"}}
 * and keyword payload indexes on `namespace` and `document_id`:
 *   PUT /collections/{name}/index  {"field_name": "namespace", "field_schema": "keyword"}
 *
 * Point ids: Qdrant takes only unsigned integers and UUIDs, so the id of a
 * point is a UUID made of the first 16 bytes of
 * sha256(namespace + "\n" + chunk id), written 8-4-4-4-12 in hex (with the
 * version and variant bits of a name-based UUID set). The chunk id itself is
 * kept in the payload:
 *   {"chunk_id", "namespace", "document_id", "position", "text", "metadata": {…}}
 * so inserting a chunk id again in the same namespace replaces the point.
 *
 * Upsert: PUT /collections/{name}/points?wait=true {"points": [{"id", "vector", "payload"}]}
 * Search: POST /collections/{name}/points/search
 *   {"vector": […], "limit": top_k, "with_payload": true, "filter": …}
 * Count:  POST /collections/{name}/points/count {"filter": …, "exact": true}
 * Delete: POST /collections/{name}/points/delete?wait=true
 *   {"points": [uuids]} by ids, {"filter": …} by filter; the points matched
 *   are counted first, so the number deleted can be returned.
 * A collection that does not exist (HTTP 404) has no points: searching
 * finds nothing, counting gives 0, deleting deletes 0.
 *
 * Filter translation (stache-filter.h syntax to Qdrant's filter):
 *   namespace ns               → {"key": "namespace", "match": {"value": ns}}
 *   {"field": v}               → {"key": "metadata.field", "match": {"value": v}}
 *   {"document_id": v}         → {"key": "document_id", "match": {"value": v}}
 *   {"field": null}            → {"is_null": {"key": "metadata.field"}}
 *   {"field": {"$in": [...]}}  → {"key": "metadata.field", "match": {"any": [...]}}
 *   {"$and": [f, …]}           → {"must": [<filter f>, …]}    (nested filters)
 *   {"$or": [f, …]}            → {"should": [<filter f>, …]}  (nested filters)
 * The members of one filter object are all required: the object becomes
 * {"must": [<condition of each member>]}; the namespace condition joins the
 * outermost "must".
 *
 * Thread safety: the settings are read once by setup; whether the
 * collection is known to exist is guarded by a mutex.
 */
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "qdrant-vectordb.h"

#define QDRANT_PROVIDER_NAME        "qdrant"
#define QDRANT_SETTING_URL          "qdrant_url"
#define QDRANT_SETTING_API_KEY      "qdrant_api_key"
#define QDRANT_SETTING_COLLECTION   "qdrant_collection"
#define QDRANT_DEFAULT_URL          "http://localhost:6333"
#define QDRANT_DEFAULT_COLLECTION   "stache"
#define QDRANT_DEFAULT_NAMESPACE    "default"

struct _QdrantVectorDb
{
  StacheRemoteProvider parent_instance;

  /* Set once, by setup */
  StacheHttpClient *client;
  char             *collection_url;   /* {base}/collections/{escaped name} */

  GMutex            mutex;
  gboolean          collection_ready; /* under mutex */
};

static void qdrant_vector_db_iface_init (StacheVectorDbProviderInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (QdrantVectorDb, qdrant_vector_db, STACHE_TYPE_REMOTE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_VECTOR_DB_PROVIDER,
                                                               qdrant_vector_db_iface_init))

/* ---- helpers ---- */

/* Whether @error, from the calling thread's last request, is the HTTP 404
 * of a collection that does not exist */
static gboolean
is_not_found (QdrantVectorDb *self,
              const GError   *error)
{
  return g_error_matches (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT) &&
         stache_http_client_get_last_status (self->client) == 404;
}

/* The UUID of the point of @chunk_id in @namespace_ */
static char *
point_uuid (const char *namespace_,
            const char *chunk_id)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;

  g_checksum_update (checksum, (const guchar *) namespace_, -1);
  g_checksum_update (checksum, (const guchar *) "\n", 1);
  g_checksum_update (checksum, (const guchar *) chunk_id, -1);
  g_checksum_get_digest (checksum, digest, &len);

  digest[6] = (guint8) ((digest[6] & 0x0f) | 0x50);  /* name-based, SHA */
  digest[8] = (guint8) ((digest[8] & 0x3f) | 0x80);  /* RFC 4122 variant */

  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                          "%02x%02x%02x%02x%02x%02x",
                          digest[0], digest[1], digest[2], digest[3], digest[4], digest[5],
                          digest[6], digest[7], digest[8], digest[9], digest[10], digest[11],
                          digest[12], digest[13], digest[14], digest[15]);
}

static JsonNode *
request (QdrantVectorDb  *self,
         const char      *method,
         const char      *path,
         JsonNode        *body,
         GCancellable    *cancellable,
         GError         **error)
{
  g_autofree char *url = g_strconcat (self->collection_url, path, NULL);

  return stache_http_client_request_json (self->client, method, url, body, cancellable, error);
}

/* The "result" object of a Qdrant answer */
static JsonObject *
result_object (QdrantVectorDb  *self,
               JsonNode        *response,
               const char      *url,
               GError         **error)
{
  JsonNode *result;

  if (response == NULL || !JSON_NODE_HOLDS_OBJECT (response) ||
      (result = json_object_get_member (json_node_get_object (response), "result")) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (result))
    {
      stache_http_client_set_malformed (self->client, error, url, _("it has no “result” object"));
      return NULL;
    }

  return json_node_get_object (result);
}

/* ---- filters ---- */

static void add_conditions (JsonBuilder *b, JsonObject *filter);

static void
add_key (JsonBuilder *b,
         const char  *field)
{
  g_autofree char *key = NULL;

  if (g_str_equal (field, "document_id"))
    key = g_strdup (field);
  else
    key = g_strconcat ("metadata.", field, NULL);

  json_builder_set_member_name (b, "key");
  json_builder_add_string_value (b, key);
}

/* {"must": [conditions of @filter]} */
static void
add_filter (JsonBuilder *b,
            JsonObject  *filter)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "must");
  json_builder_begin_array (b);
  add_conditions (b, filter);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
add_nested (JsonBuilder *b,
            const char  *clause,
            JsonArray   *filters)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, clause);
  json_builder_begin_array (b);
  for (guint i = 0; i < json_array_get_length (filters); i++)
    add_filter (b, json_array_get_object_element (filters, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/* Adds one condition per member of @filter (validated by the caller's
 * stache_filter_validate()) to the array being built */
static void
add_conditions (JsonBuilder *b,
                JsonObject  *filter)
{
  g_autoptr(GList) members = json_object_get_members (filter);

  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (filter, name);

      if (g_str_equal (name, "$and"))
        add_nested (b, "must", json_node_get_array (node));
      else if (g_str_equal (name, "$or"))
        add_nested (b, "should", json_node_get_array (node));
      else if (JSON_NODE_HOLDS_NULL (node))
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "is_null");
          json_builder_begin_object (b);
          add_key (b, name);
          json_builder_end_object (b);
          json_builder_end_object (b);
        }
      else
        {
          json_builder_begin_object (b);
          add_key (b, name);
          json_builder_set_member_name (b, "match");
          json_builder_begin_object (b);
          if (JSON_NODE_HOLDS_OBJECT (node))
            {
              json_builder_set_member_name (b, "any");
              json_builder_add_value (b, json_node_copy (
                json_object_get_member (json_node_get_object (node), "$in")));
            }
          else
            {
              json_builder_set_member_name (b, "value");
              json_builder_add_value (b, json_node_copy (node));
            }
          json_builder_end_object (b);
          json_builder_end_object (b);
        }
    }
}

/* Adds "filter": {...} for @namespace_ and @filter, or nothing when both
 * are NULL */
static void
add_query_filter (JsonBuilder *b,
                  const char  *namespace_,
                  JsonObject  *filter)
{
  if (namespace_ == NULL && filter == NULL)
    return;

  json_builder_set_member_name (b, "filter");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "must");
  json_builder_begin_array (b);
  if (namespace_ != NULL)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "key");
      json_builder_add_string_value (b, "namespace");
      json_builder_set_member_name (b, "match");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "value");
      json_builder_add_string_value (b, namespace_);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  if (filter != NULL)
    add_conditions (b, filter);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/* ---- the collection ---- */

static gboolean
put_index (QdrantVectorDb  *self,
           const char      *field,
           GCancellable    *cancellable,
           GError         **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) response = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "field_name");
  json_builder_add_string_value (b, field);
  json_builder_set_member_name (b, "field_schema");
  json_builder_add_string_value (b, "keyword");
  json_builder_end_object (b);
  body = json_builder_get_root (b);

  response = request (self, "PUT", "/index", body, cancellable, error);
  return response != NULL;
}

static gboolean
ensure_collection (QdrantVectorDb  *self,
                   guint            dims,
                   GCancellable    *cancellable,
                   GError         **error)
{
  g_autoptr(JsonNode) response = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok = FALSE;

  g_mutex_lock (&self->mutex);

  if (self->collection_ready)
    {
      ok = TRUE;
      goto out;
    }

  response = request (self, "GET", "", NULL, cancellable, &local_error);
  if (response == NULL)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) body = NULL;
      g_autoptr(JsonNode) created = NULL;

      if (!is_not_found (self, local_error))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          goto out;
        }

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "vectors");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, dims);
      json_builder_set_member_name (b, "distance");
      json_builder_add_string_value (b, "Cosine");
      json_builder_end_object (b);
      json_builder_end_object (b);
      body = json_builder_get_root (b);

      created = request (self, "PUT", "", body, cancellable, error);
      if (created == NULL ||
          !put_index (self, "namespace", cancellable, error) ||
          !put_index (self, "document_id", cancellable, error))
        goto out;
    }

  self->collection_ready = TRUE;
  ok = TRUE;

out:
  g_mutex_unlock (&self->mutex);
  return ok;
}

/* ---- StacheVectorDbProvider ---- */

static gboolean
qdrant_vector_db_insert (StacheVectorDbProvider  *provider,
                         const char              *namespace_,
                         GPtrArray               *chunks,
                         GArray                  *vectors,
                         GCancellable            *cancellable,
                         GError                 **error)
{
  QdrantVectorDb *self = QDRANT_VECTOR_DB (provider);
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) response = NULL;
  const float *values;
  guint dims;

  if (chunks->len == 0)
    return TRUE;

  if (namespace_ == NULL)
    namespace_ = QDRANT_DEFAULT_NAMESPACE;

  dims = vectors->len / chunks->len;
  values = (const float *) (gpointer) vectors->data;

  if (!ensure_collection (self, dims, cancellable, error))
    return FALSE;

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "points");
  json_builder_begin_array (b);
  for (guint i = 0; i < chunks->len; i++)
    {
      StacheChunk *chunk = g_ptr_array_index (chunks, i);
      g_autofree char *uuid = point_uuid (namespace_, stache_chunk_get_id (chunk));
      JsonObject *metadata = stache_chunk_get_metadata (chunk);
      const char *document_id = stache_chunk_get_document_id (chunk);
      const char *text = stache_chunk_get_text (chunk);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, uuid);
      json_builder_set_member_name (b, "vector");
      json_builder_begin_array (b);
      for (guint k = 0; k < dims; k++)
        json_builder_add_double_value (b, values[(gsize) i * dims + k]);
      json_builder_end_array (b);

      json_builder_set_member_name (b, "payload");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "chunk_id");
      json_builder_add_string_value (b, stache_chunk_get_id (chunk));
      json_builder_set_member_name (b, "namespace");
      json_builder_add_string_value (b, namespace_);
      json_builder_set_member_name (b, "document_id");
      if (document_id != NULL)
        json_builder_add_string_value (b, document_id);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "position");
      json_builder_add_int_value (b, stache_chunk_get_position (chunk));
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, text != NULL ? text : "");
      json_builder_set_member_name (b, "metadata");
      if (metadata != NULL)
        {
          JsonNode *node = json_node_new (JSON_NODE_OBJECT);

          json_node_set_object (node, metadata);
          json_builder_add_value (b, node);
        }
      else
        {
          json_builder_begin_object (b);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);

      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  body = json_builder_get_root (b);

  response = request (self, "PUT", "/points?wait=true", body, cancellable, error);
  return response != NULL;
}

static const char *
payload_string (JsonObject *payload,
                const char *member)
{
  JsonNode *node = json_object_get_member (payload, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static GList *
qdrant_vector_db_search (StacheVectorDbProvider  *provider,
                         const char              *namespace_,
                         GArray                  *query,
                         guint                    top_k,
                         JsonObject              *filter,
                         GCancellable            *cancellable,
                         GError                 **error)
{
  QdrantVectorDb *self = QDRANT_VECTOR_DB (provider);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) response = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *url = g_strconcat (self->collection_url, "/points/search", NULL);
  GList *results = NULL;
  JsonNode *result;
  JsonArray *array;

  if (top_k == 0)
    return NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "vector");
  json_builder_begin_array (b);
  for (guint k = 0; k < query->len; k++)
    json_builder_add_double_value (b, g_array_index (query, float, k));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "limit");
  json_builder_add_int_value (b, top_k);
  json_builder_set_member_name (b, "with_payload");
  json_builder_add_boolean_value (b, TRUE);
  add_query_filter (b, namespace_, filter);
  json_builder_end_object (b);
  body = json_builder_get_root (b);

  response = stache_http_client_request_json (self->client, "POST", url, body,
                                              cancellable, &local_error);
  if (response == NULL)
    {
      if (is_not_found (self, local_error))
        return NULL;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (!JSON_NODE_HOLDS_OBJECT (response) ||
      (result = json_object_get_member (json_node_get_object (response), "result")) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (result))
    {
      stache_http_client_set_malformed (self->client, error, url, _("it has no “result” array"));
      return NULL;
    }

  array = json_node_get_array (result);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      JsonObject *object, *payload;
      JsonNode *score, *metadata;
      const char *chunk_id;
      StacheSearchResult *hit;

      if (!JSON_NODE_HOLDS_OBJECT (item) ||
          (score = json_object_get_member (object = json_node_get_object (item), "score")) == NULL ||
          !JSON_NODE_HOLDS_VALUE (score) ||
          (json_node_get_value_type (score) != G_TYPE_DOUBLE &&
           json_node_get_value_type (score) != G_TYPE_INT64) ||
          json_object_get_member (object, "payload") == NULL ||
          !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "payload")) ||
          (chunk_id = payload_string (payload = json_object_get_object_member (object, "payload"),
                                      "chunk_id")) == NULL)
        {
          g_list_free_full (results, g_object_unref);
          stache_http_client_set_malformed (self->client, error, url,
                                            _("a result has no score or no payload with a chunk id"));
          return NULL;
        }

      hit = stache_search_result_new (chunk_id, payload_string (payload, "text"),
                                      json_node_get_double (score));
      stache_search_result_set_document_id (hit, payload_string (payload, "document_id"));
      stache_search_result_set_namespace (hit, payload_string (payload, "namespace"));
      metadata = json_object_get_member (payload, "metadata");
      if (metadata != NULL && JSON_NODE_HOLDS_OBJECT (metadata))
        stache_search_result_set_metadata (hit, json_node_get_object (metadata));
      results = g_list_prepend (results, hit);
    }

  return g_list_reverse (results);
}

/* Counts the points matching @namespace_ and @filter; 0 when the
 * collection does not exist */
static gint64
count_points (QdrantVectorDb  *self,
              const char      *namespace_,
              JsonObject      *filter,
              GCancellable    *cancellable,
              GError         **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) response = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *url = g_strconcat (self->collection_url, "/points/count", NULL);
  JsonObject *result;
  JsonNode *count;

  json_builder_begin_object (b);
  add_query_filter (b, namespace_, filter);
  json_builder_set_member_name (b, "exact");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  body = json_builder_get_root (b);

  response = stache_http_client_request_json (self->client, "POST", url, body,
                                              cancellable, &local_error);
  if (response == NULL)
    {
      if (is_not_found (self, local_error))
        return 0;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return -1;
    }

  result = result_object (self, response, url, error);
  if (result == NULL)
    return -1;

  count = json_object_get_member (result, "count");
  if (count == NULL || !JSON_NODE_HOLDS_VALUE (count) ||
      json_node_get_value_type (count) != G_TYPE_INT64 || json_node_get_int (count) < 0)
    {
      stache_http_client_set_malformed (self->client, error, url,
                                        _("“result.count” is not a whole number"));
      return -1;
    }

  return json_node_get_int (count);
}

static gint64
qdrant_vector_db_count (StacheVectorDbProvider  *provider,
                        const char              *namespace_,
                        GCancellable            *cancellable,
                        GError                 **error)
{
  return count_points (QDRANT_VECTOR_DB (provider), namespace_, NULL, cancellable, error);
}

static gint64
qdrant_vector_db_delete_chunks (StacheVectorDbProvider  *provider,
                                const char              *namespace_,
                                const char * const      *ids,
                                JsonObject              *filter,
                                GCancellable            *cancellable,
                                GError                 **error)
{
  QdrantVectorDb *self = QDRANT_VECTOR_DB (provider);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) response = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 n;

  /* Qdrant does not say how many points it deleted: by filter, the
   * points matched are counted first; by ids, the namespace's points are
   * counted before and after. */
  if (ids != NULL && ids[0] == NULL)
    return 0;

  json_builder_begin_object (b);
  if (ids != NULL)
    {
      const char *ns = namespace_ != NULL ? namespace_ : QDRANT_DEFAULT_NAMESPACE;

      n = count_points (self, ns, NULL, cancellable, error);
      if (n <= 0)
        return n;

      json_builder_set_member_name (b, "points");
      json_builder_begin_array (b);
      for (guint i = 0; ids[i] != NULL; i++)
        {
          g_autofree char *uuid = point_uuid (ns, ids[i]);

          json_builder_add_string_value (b, uuid);
        }
      json_builder_end_array (b);
    }
  else
    add_query_filter (b, namespace_, filter);
  json_builder_end_object (b);
  body = json_builder_get_root (b);

  if (ids != NULL)
    {
      /* Counting by ids: the points of the namespace before and after */
      gint64 before = n;
      gint64 after;

      response = request (self, "POST", "/points/delete?wait=true", body, cancellable,
                          &local_error);
      if (response == NULL)
        {
          if (is_not_found (self, local_error))
            return 0;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }

      after = count_points (self, namespace_ != NULL ? namespace_ : QDRANT_DEFAULT_NAMESPACE,
                            NULL, cancellable, error);
      if (after < 0)
        return -1;

      return MAX (before - after, 0);
    }

  n = count_points (self, namespace_, filter, cancellable, error);
  if (n <= 0)
    return n;

  response = request (self, "POST", "/points/delete?wait=true", body, cancellable, &local_error);
  if (response == NULL)
    {
      if (is_not_found (self, local_error))
        return 0;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return -1;
    }

  return n;
}

static char **
qdrant_vector_db_get_capabilities (StacheVectorDbProvider *provider)
{
  const char * const caps[] = { "vector_search", "metadata_filter", "batch_insert",
                                "namespaces", NULL };

  return g_strdupv ((char **) caps);
}

static void
qdrant_vector_db_iface_init (StacheVectorDbProviderInterface *iface)
{
  iface->insert = qdrant_vector_db_insert;
  iface->search = qdrant_vector_db_search;
  iface->delete_chunks = qdrant_vector_db_delete_chunks;
  iface->count = qdrant_vector_db_count;
  iface->get_capabilities = qdrant_vector_db_get_capabilities;
}

static gboolean
qdrant_vector_db_setup (StacheRemoteProvider  *provider,
                        StacheSettings        *settings,
                        GCancellable          *cancellable,
                        GError               **error)
{
  QdrantVectorDb *self = QDRANT_VECTOR_DB (provider);
  StacheHttpClient *client;
  g_autofree char *base = NULL;
  g_autofree char *collection = NULL;
  g_autofree char *escaped = NULL;

  base = stache_settings_get_http_url (settings, QDRANT_SETTING_URL, QDRANT_DEFAULT_URL, error);
  if (base == NULL)
    return FALSE;

  collection = stache_settings_get_nonempty (settings, QDRANT_SETTING_COLLECTION,
                                      QDRANT_DEFAULT_COLLECTION);

  client = stache_remote_provider_create_client (provider, settings, QDRANT_PROVIDER_NAME, "Qdrant", error);
  if (client == NULL ||
      !stache_remote_provider_set_api_key (provider, settings, QDRANT_SETTING_API_KEY, "api-key", NULL, FALSE,
                                           error))
    return FALSE;

  escaped = g_uri_escape_string (collection, NULL, FALSE);
  self->collection_url = g_strconcat (base, "/collections/", escaped, NULL);
  self->client = client;

  return TRUE;
}

/* ---- GObject ---- */

static void
qdrant_vector_db_finalize (GObject *object)
{
  QdrantVectorDb *self = QDRANT_VECTOR_DB (object);

  g_clear_pointer (&self->collection_url, g_free);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (qdrant_vector_db_parent_class)->finalize (object);
}

static void
qdrant_vector_db_class_init (QdrantVectorDbClass *klass)
{
  STACHE_REMOTE_PROVIDER_CLASS (klass)->setup = qdrant_vector_db_setup;
  G_OBJECT_CLASS (klass)->finalize = qdrant_vector_db_finalize;
}

static void
qdrant_vector_db_class_finalize (QdrantVectorDbClass *klass)
{
}

static void
qdrant_vector_db_init (QdrantVectorDb *self)
{
  g_mutex_init (&self->mutex);
}

void
qdrant_vector_db_register (GTypeModule *module)
{
  qdrant_vector_db_register_type (module);
}
