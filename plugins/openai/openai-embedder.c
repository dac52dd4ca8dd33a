/* openai-embedder.c: the `openai` embeddings provider, POST {base}/embeddings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The texts of one call are sent in as few requests as the limits allow,
 * in order:
 *
 *   {"model": "text-embedding-3-small",
 *    "input": [<text>, …],
 *    "dimensions": <openai_dimensions>}                        (if set)
 *
 * A request holds at most `openai_batch_size` texts (default 128; OpenAI
 * takes up to 2048) and at most `openai_batch_bytes` bytes of UTF-8 text
 * (default 256 KiB, which keeps a request under OpenAI's limit of 300 000
 * tokens per request). The provider only declares these limits
 * (get_batch_limits); stache_embedding_provider_embed_batch() does the
 * splitting for every provider. A text longer than the byte limit on its
 * own is sent alone rather than refused: the service decides whether it
 * fits the model.
 *
 * The answer's `data` items each carry an `index` and an `embedding`. The
 * API does not promise their order, so each vector is placed by its index,
 * after checking that every index 0…n-1 appears exactly once and that every
 * vector has the same length. The vectors of all requests form one GArray
 * of float, one row per text, in the order of the texts.
 *
 * Dimensions: with `openai_dimensions` set (models text-embedding-3-*
 * shorten their vectors on request), it is sent and every vector must have
 * that length; get_dimensions() returns it from the start. Otherwise
 * get_dimensions() returns 0 until the first answer, then the length seen
 * in it. Every later answer must have the same length: the vectors of one
 * provider are stored side by side.
 *
 * Settings: `openai_embedding_model`, `openai_dimensions`,
 * `openai_batch_size`, `openai_batch_bytes`, and `openai_base_url` and
 * `openai_api_key` (see openai-common.c).
 *
 * Thread safety: everything but the length seen is set once by
 * setup; the length seen is read and set atomically.
 */
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "openai-common.h"
#include "openai-embedder.h"

#define OPENAI_SETTING_EMBEDDING_MODEL  "openai_embedding_model"
#define OPENAI_SETTING_DIMENSIONS       "openai_dimensions"
#define OPENAI_SETTING_BATCH_SIZE       "openai_batch_size"
#define OPENAI_SETTING_BATCH_BYTES      "openai_batch_bytes"

#define OPENAI_DEFAULT_EMBEDDING_MODEL  "text-embedding-3-small"
#define OPENAI_DEFAULT_BATCH_SIZE       128
#define OPENAI_DEFAULT_BATCH_BYTES      262144
/* Generous bounds: they only catch values that cannot be meant */
#define OPENAI_MAX_DIMENSIONS           65536
#define OPENAI_MAX_BATCH_SIZE           65536
#define OPENAI_MAX_BATCH_BYTES          G_GINT64_CONSTANT (1073741824)

#define EMBEDDINGS_PATH                 "/embeddings"

struct _OpenaiEmbedder
{
  StacheRemoteProvider parent_instance;

  /* Set once, by setup, before the provider is handed out */
  StacheHttpClient *client;
  char             *url;
  char             *model;
  guint             configured_dimensions;   /* 0: not configured */
  guint             batch_size;
  guint             batch_bytes;

  /* The vector length of the first answer, 0 before; atomic */
  gint              seen_dimensions;
};

static void openai_embedder_iface_init (StacheEmbeddingProviderInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (OpenaiEmbedder, openai_embedder, STACHE_TYPE_REMOTE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_EMBEDDING_PROVIDER,
                                                               openai_embedder_iface_init))

/* ---- one request ---- */

static JsonNode *
build_request (OpenaiEmbedder     *self,
               const char * const *texts,
               guint               n_texts)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, self->model);

  json_builder_set_member_name (builder, "input");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n_texts; i++)
    json_builder_add_string_value (builder, texts[i]);
  json_builder_end_array (builder);

  if (self->configured_dimensions != 0)
    {
      json_builder_set_member_name (builder, "dimensions");
      json_builder_add_int_value (builder, self->configured_dimensions);
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Checks the length @length of a vector in an answer against the
 * configured length, the length of the vectors before it in this call
 * (*@dimensions, 0 for the first) and the length the provider saw first. */
static gboolean
check_length (OpenaiEmbedder  *self,
              guint            item,
              guint            length,
              guint           *dimensions,
              GError         **error)
{
  guint seen = (guint) g_atomic_int_get (&self->seen_dimensions);

  if (length == 0)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“data[%u].embedding” is empty"), item);
      return FALSE;
    }

  if (*dimensions != 0 && length != *dimensions)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“data[%u].embedding” has %u values, other vectors %u"),
                                        item, length, *dimensions);
      return FALSE;
    }

  if (self->configured_dimensions != 0 && length != self->configured_dimensions)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“data[%u].embedding” has %u values, but %s asks for %u"),
                                        item, length, OPENAI_SETTING_DIMENSIONS,
                                        self->configured_dimensions);
      return FALSE;
    }

  if (seen != 0 && length != seen)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“data[%u].embedding” has %u values, but earlier answers of model "
                                        "“%s” had %u"),
                                        item, length, self->model, seen);
      return FALSE;
    }

  *dimensions = length;
  return TRUE;
}

/* Embeds @texts[0 … @n_texts-1] in one request and appends their vectors,
 * in the order of the texts, to @values. *@dimensions is the vector length
 * of this call so far (0 before the first answer). */
static gboolean
embed_one_request (OpenaiEmbedder      *self,
                   const char * const  *texts,
                   guint                n_texts,
                   guint               *dimensions,
                   GArray              *values,
                   GCancellable        *cancellable,
                   GError             **error)
{
  g_autoptr(JsonNode) request = build_request (self, texts, n_texts);
  g_autoptr(JsonNode) response = NULL;
  g_autofree gboolean *placed = NULL;
  JsonArray *data;
  guint first_value = values->len;
  guint n_items;

  response = stache_http_client_request_json (self->client, "POST", self->url, request,
                                              cancellable, error);
  if (response == NULL)
    return FALSE;

  if (!JSON_NODE_HOLDS_OBJECT (response))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the body is not a JSON object"));
      return FALSE;
    }

  data = stache_json_object_get_array (json_node_get_object (response), "data");
  if (data == NULL)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("it has no “data” array"));
      return FALSE;
    }

  n_items = json_array_get_length (data);
  if (n_items != n_texts)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        g_dngettext (GETTEXT_PACKAGE,
                                        "“data” has %u items for %u text",
                                        "“data” has %u items for %u texts",
                                        n_texts),
                                        n_items, n_texts);
      return FALSE;
    }

  placed = g_new0 (gboolean, n_texts);
  for (guint item = 0; item < n_items; item++)
    {
      JsonNode *node = json_array_get_element (data, item);
      JsonObject *object;
      JsonNode *index_node;
      JsonArray *embedding;
      gint64 index;
      guint length;
      float *row;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“data[%u]” is not an object"), item);
          return FALSE;
        }
      object = json_node_get_object (node);

      index_node = json_object_get_member (object, "index");
      if (!stache_json_node_is_integer (index_node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“data[%u].index” is not a whole number"),
                                            item);
          return FALSE;
        }
      /* An integral double is at most 2^53 here, so the cast is exact */
      index = json_node_get_value_type (index_node) == G_TYPE_INT64
                ? json_node_get_int (index_node)
                : (gint64) json_node_get_double (index_node);
      if (index < 0 || index >= n_texts)
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“data[%u].index” is %" G_GINT64_FORMAT ", outside 0 to %u"),
                                            item, index, n_texts - 1);
          return FALSE;
        }
      if (placed[index])
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("index %" G_GINT64_FORMAT " appears twice in “data”"), index);
          return FALSE;
        }
      placed[index] = TRUE;

      embedding = stache_json_object_get_array (object, "embedding");
      if (embedding == NULL)
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“data[%u].embedding” is not an array of numbers"), item);
          return FALSE;
        }

      length = json_array_get_length (embedding);
      if (!check_length (self, item, length, dimensions, error))
        return FALSE;

      /* The first vector of the answer makes room for all of them */
      if (item == 0)
        {
          if ((gsize) n_texts * length > G_MAXUINT - (gsize) values->len)
            {
              stache_http_client_set_malformed (self->client, error, self->url,
                                                _("the vectors are too long"));
              return FALSE;
            }
          g_array_set_size (values, values->len + n_texts * length);
        }

      row = &g_array_index (values, float, first_value + (gsize) index * length);
      for (guint k = 0; k < length; k++)
        {
          JsonNode *value = json_array_get_element (embedding, k);

          if (!stache_json_node_is_number (value))
            {
              stache_http_client_set_malformed (self->client, error, self->url,
                                                _("“data[%u].embedding[%u]” is not a number"), item, k);
              return FALSE;
            }
          row[k] = (float) json_node_get_double (value);
        }
    }

  /* n_items == n_texts distinct indexes in range: every text has its
   * vector. Checked anyway, so a change above cannot leave holes. */
  for (guint i = 0; i < n_texts; i++)
    {
      if (!placed[i])
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("index %u is missing from “data”"), i);
          return FALSE;
        }
    }

  /* The first answer tells the length; a racing call may have stored it
   * first, with the same value or check_length() would have failed. */
  g_atomic_int_compare_and_exchange (&self->seen_dimensions, 0, (gint) *dimensions);

  return TRUE;
}

/* ---- StacheEmbeddingProvider ---- */

/* One call is one request: the interface's embed_batch splits longer
 * lists by these limits before they reach the provider */
static void
openai_embedder_get_batch_limits (StacheEmbeddingProvider *provider,
                                  guint                   *max_texts,
                                  guint                   *max_bytes)
{
  OpenaiEmbedder *self = OPENAI_EMBEDDER (provider);

  *max_texts = self->batch_size;
  *max_bytes = self->batch_bytes;
}

static GArray *
openai_embedder_embed_batch (StacheEmbeddingProvider  *provider,
                             const char * const       *texts,
                             GCancellable             *cancellable,
                             GError                  **error)
{
  OpenaiEmbedder *self = OPENAI_EMBEDDER (provider);
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (float));
  guint dimensions = 0;

  if (!embed_one_request (self, texts, g_strv_length ((char **) texts), &dimensions, values,
                          cancellable, error))
    return NULL;

  return g_steal_pointer (&values);
}

static GArray *
openai_embedder_embed (StacheEmbeddingProvider  *provider,
                       const char               *text,
                       GCancellable             *cancellable,
                       GError                  **error)
{
  const char *texts[] = { text, NULL };

  return openai_embedder_embed_batch (provider, texts, cancellable, error);
}

static guint
openai_embedder_get_dimensions (StacheEmbeddingProvider *provider)
{
  OpenaiEmbedder *self = OPENAI_EMBEDDER (provider);

  if (self->configured_dimensions != 0)
    return self->configured_dimensions;

  return (guint) g_atomic_int_get (&self->seen_dimensions);
}

/* The model, and the length it is asked to shorten its vectors to */
static char *
openai_embedder_get_model_id (StacheEmbeddingProvider *provider)
{
  OpenaiEmbedder *self = OPENAI_EMBEDDER (provider);

  return g_strdup_printf ("openai:%s:%u", self->model, self->configured_dimensions);
}

static char **
openai_embedder_get_capabilities (StacheEmbeddingProvider *provider)
{
  const char * const caps[] = { "embed", "batch", NULL };

  return g_strdupv ((char **) caps);
}

static void
openai_embedder_iface_init (StacheEmbeddingProviderInterface *iface)
{
  iface->embed = openai_embedder_embed;
  iface->embed_batch = openai_embedder_embed_batch;
  iface->get_batch_limits = openai_embedder_get_batch_limits;
  iface->get_dimensions = openai_embedder_get_dimensions;
  iface->get_model_id = openai_embedder_get_model_id;
  iface->get_capabilities = openai_embedder_get_capabilities;
}

/* ---- setup: reads and checks the settings ---- */

static gboolean
openai_embedder_setup (StacheRemoteProvider  *provider,
                       StacheSettings        *settings,
                       GCancellable          *cancellable,
                       GError               **error)
{
  OpenaiEmbedder *self = OPENAI_EMBEDDER (provider);
  gint64 dimensions, batch_size, batch_bytes;

  /* 0 stands for "not set": the setting itself must be at least 1 */
  if (!stache_settings_get_int_range (settings, OPENAI_SETTING_DIMENSIONS, 0,
                                  1, OPENAI_MAX_DIMENSIONS, &dimensions, error) ||
      !stache_settings_get_int_range (settings, OPENAI_SETTING_BATCH_SIZE, OPENAI_DEFAULT_BATCH_SIZE,
                                  1, OPENAI_MAX_BATCH_SIZE, &batch_size, error) ||
      !stache_settings_get_int_range (settings, OPENAI_SETTING_BATCH_BYTES, OPENAI_DEFAULT_BATCH_BYTES,
                                  1, OPENAI_MAX_BATCH_BYTES, &batch_bytes, error))
    return FALSE;

  self->client = openai_client_new (provider, settings, EMBEDDINGS_PATH, &self->url, error);
  if (self->client == NULL)
    return FALSE;

  self->model = stache_settings_get_nonempty (settings, OPENAI_SETTING_EMBEDDING_MODEL,
                                              OPENAI_DEFAULT_EMBEDDING_MODEL);
  self->configured_dimensions = (guint) dimensions;
  self->batch_size = (guint) batch_size;
  self->batch_bytes = (guint) batch_bytes;

  return TRUE;
}

/* ---- GObject ---- */

static void
openai_embedder_finalize (GObject *object)
{
  OpenaiEmbedder *self = OPENAI_EMBEDDER (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->model, g_free);

  G_OBJECT_CLASS (openai_embedder_parent_class)->finalize (object);
}

static void
openai_embedder_class_init (OpenaiEmbedderClass *klass)
{
  STACHE_REMOTE_PROVIDER_CLASS (klass)->setup = openai_embedder_setup;
  G_OBJECT_CLASS (klass)->finalize = openai_embedder_finalize;
}

static void
openai_embedder_class_finalize (OpenaiEmbedderClass *klass)
{
}

static void
openai_embedder_init (OpenaiEmbedder *self)
{
  self->batch_size = OPENAI_DEFAULT_BATCH_SIZE;
  self->batch_bytes = OPENAI_DEFAULT_BATCH_BYTES;
}

void
openai_embedder_register (GTypeModule *module)
{
  openai_embedder_register_type (module);
}
