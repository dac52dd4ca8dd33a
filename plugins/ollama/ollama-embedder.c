/* ollama-embedder.c: the `ollama` embeddings provider, POST {url}/api/embed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The texts of one call are sent in order, at most `ollama_batch_size`
 * (default 64) and `ollama_batch_bytes` bytes of text (default 1 MiB) to a
 * request; the provider declares these limits and the interface's
 * embed_batch does the splitting:
 *
 *   {"model": "nomic-embed-text",
 *    "input": [<text>, …],
 *    "keep_alive": <ollama_keep_alive>}                          (if set)
 *
 * and answered with {"model": …, "embeddings": [[…], …]}, one vector per
 * text in the order of "input". The answer is checked: as many vectors as
 * texts, all of one non-zero length, and that length the same as in every
 * earlier answer to this provider. Anything else is reported as
 * STACHE_HTTP_ERROR_MALFORMED_RESPONSE.
 *
 * Settings: `ollama_embedding_model` (default nomic-embed-text),
 * `ollama_batch_size`, `ollama_batch_bytes`, and `ollama_url` and `ollama_keep_alive` (see
 * ollama-common.c).
 *
 * Ollama does not say a model's vector length before it is used, so
 * get_dimensions() is 0 until the first answer and that answer's length
 * afterwards; it is read and set atomically, as calls may come from
 * several threads.
 */
#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "ollama-common.h"
#include "ollama-embedder.h"

#define OLLAMA_SETTING_EMBEDDING_MODEL  "ollama_embedding_model"
#define OLLAMA_SETTING_BATCH_SIZE       "ollama_batch_size"
#define OLLAMA_SETTING_BATCH_BYTES      "ollama_batch_bytes"

#define OLLAMA_DEFAULT_EMBEDDING_MODEL  "nomic-embed-text"
#define OLLAMA_DEFAULT_BATCH_SIZE       64
#define OLLAMA_DEFAULT_BATCH_BYTES      1048576
/* Generous bounds: they only catch values that cannot be meant */
#define OLLAMA_MAX_BATCH_SIZE           65536
#define OLLAMA_MAX_BATCH_BYTES          G_GINT64_CONSTANT (1073741824)

#define EMBED_PATH                      "/api/embed"

struct _OllamaEmbedder
{
  StacheRemoteProvider parent_instance;

  /* Set once, by setup, before the provider is handed out; the client
   * belongs to the base class */
  StacheHttpClient *client;
  char             *url;
  char             *model;
  char             *keep_alive;   /* NULL: the server's default */
  guint             batch_size;
  guint             batch_bytes;

  /* The vector length of the first answer, 0 before; atomic */
  gint              seen_dimensions;
};

static void ollama_embedder_iface_init (StacheEmbeddingProviderInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (OllamaEmbedder, ollama_embedder, STACHE_TYPE_REMOTE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_EMBEDDING_PROVIDER,
                                                               ollama_embedder_iface_init))

/* ---- one request ---- */

static JsonNode *
build_request (OllamaEmbedder     *self,
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

  if (self->keep_alive != NULL)
    {
      json_builder_set_member_name (builder, "keep_alive");
      json_builder_add_string_value (builder, self->keep_alive);
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Checks the length @length of vector @item against the vectors before it
 * in this call (*@dimensions, 0 for the first) and the length the provider
 * saw first. */
static gboolean
check_length (OllamaEmbedder  *self,
              guint            item,
              guint            length,
              guint           *dimensions,
              GError         **error)
{
  guint seen = (guint) g_atomic_int_get (&self->seen_dimensions);

  if (length == 0)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“embeddings[%u]” is empty"), item);
      return FALSE;
    }

  if (*dimensions != 0 && length != *dimensions)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“embeddings[%u]” has %u values, other vectors %u"),
                                        item, length, *dimensions);
      return FALSE;
    }

  if (seen != 0 && length != seen)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“embeddings[%u]” has %u values, but earlier answers of model "
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
embed_one_request (OllamaEmbedder      *self,
                   const char * const  *texts,
                   guint                n_texts,
                   guint               *dimensions,
                   GArray              *values,
                   GCancellable        *cancellable,
                   GError             **error)
{
  g_autoptr(JsonNode) request = build_request (self, texts, n_texts);
  g_autoptr(JsonNode) response = NULL;
  JsonArray *embeddings;
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

  embeddings = stache_json_object_get_array (json_node_get_object (response), "embeddings");
  if (embeddings == NULL)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("it has no “embeddings” array"));
      return FALSE;
    }

  n_items = json_array_get_length (embeddings);
  if (n_items != n_texts)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        g_dngettext (GETTEXT_PACKAGE,
                                        "“embeddings” has %u vectors for %u text",
                                        "“embeddings” has %u vectors for %u texts",
                                        n_texts),
                                        n_items, n_texts);
      return FALSE;
    }

  for (guint item = 0; item < n_items; item++)
    {
      JsonNode *node = json_array_get_element (embeddings, item);
      JsonArray *vector;
      guint length;
      float *row;

      if (!JSON_NODE_HOLDS_ARRAY (node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“embeddings[%u]” is not an array of numbers"), item);
          return FALSE;
        }
      vector = json_node_get_array (node);

      length = json_array_get_length (vector);
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

      row = &g_array_index (values, float, first_value + (gsize) item * length);
      for (guint k = 0; k < length; k++)
        {
          JsonNode *value = json_array_get_element (vector, k);

          if (!stache_json_node_is_number (value))
            {
              stache_http_client_set_malformed (self->client, error, self->url,
                                                _("“embeddings[%u][%u]” is not a number"), item, k);
              return FALSE;
            }
          row[k] = (float) json_node_get_double (value);
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
ollama_embedder_get_batch_limits (StacheEmbeddingProvider *provider,
                                  guint                   *max_texts,
                                  guint                   *max_bytes)
{
  OllamaEmbedder *self = OLLAMA_EMBEDDER (provider);

  *max_texts = self->batch_size;
  *max_bytes = self->batch_bytes;
}

static GArray *
ollama_embedder_embed_batch (StacheEmbeddingProvider  *provider,
                             const char * const       *texts,
                             GCancellable             *cancellable,
                             GError                  **error)
{
  OllamaEmbedder *self = OLLAMA_EMBEDDER (provider);
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (float));
  guint dimensions = 0;

  if (!embed_one_request (self, texts, g_strv_length ((char **) texts), &dimensions, values,
                          cancellable, error))
    return NULL;

  return g_steal_pointer (&values);
}

static GArray *
ollama_embedder_embed (StacheEmbeddingProvider  *provider,
                       const char               *text,
                       GCancellable             *cancellable,
                       GError                  **error)
{
  const char *texts[] = { text, NULL };

  return ollama_embedder_embed_batch (provider, texts, cancellable, error);
}

static guint
ollama_embedder_get_dimensions (StacheEmbeddingProvider *provider)
{
  OllamaEmbedder *self = OLLAMA_EMBEDDER (provider);

  return (guint) g_atomic_int_get (&self->seen_dimensions);
}

static char *
ollama_embedder_get_model_id (StacheEmbeddingProvider *provider)
{
  return g_strdup_printf ("ollama:%s", OLLAMA_EMBEDDER (provider)->model);
}

static char **
ollama_embedder_get_capabilities (StacheEmbeddingProvider *provider)
{
  const char * const caps[] = { "embed", "batch", NULL };

  return g_strdupv ((char **) caps);
}

static void
ollama_embedder_iface_init (StacheEmbeddingProviderInterface *iface)
{
  iface->embed = ollama_embedder_embed;
  iface->embed_batch = ollama_embedder_embed_batch;
  iface->get_batch_limits = ollama_embedder_get_batch_limits;
  iface->get_dimensions = ollama_embedder_get_dimensions;
  iface->get_model_id = ollama_embedder_get_model_id;
  iface->get_capabilities = ollama_embedder_get_capabilities;
}

/* ---- setup: reads and checks the settings ---- */

static gboolean
ollama_embedder_setup (StacheRemoteProvider  *provider,
                       StacheSettings        *settings,
                       GCancellable          *cancellable,
                       GError               **error)
{
  OllamaEmbedder *self = OLLAMA_EMBEDDER (provider);
  gint64 batch_size, batch_bytes;

  if (!stache_settings_get_int_range (settings, OLLAMA_SETTING_BATCH_SIZE, OLLAMA_DEFAULT_BATCH_SIZE,
                                  1, OLLAMA_MAX_BATCH_SIZE, &batch_size, error) ||
      !stache_settings_get_int_range (settings, OLLAMA_SETTING_BATCH_BYTES, OLLAMA_DEFAULT_BATCH_BYTES,
                                  1, OLLAMA_MAX_BATCH_BYTES, &batch_bytes, error))
    return FALSE;

  self->client = ollama_client_new (provider, settings, EMBED_PATH, &self->url, &self->keep_alive, error);
  if (self->client == NULL)
    return FALSE;

  self->model = stache_settings_get_nonempty (settings, OLLAMA_SETTING_EMBEDDING_MODEL,
                                              OLLAMA_DEFAULT_EMBEDDING_MODEL);
  self->batch_size = (guint) batch_size;
  self->batch_bytes = (guint) batch_bytes;

  return TRUE;
}

/* ---- GObject ---- */

static void
ollama_embedder_finalize (GObject *object)
{
  OllamaEmbedder *self = OLLAMA_EMBEDDER (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->keep_alive, g_free);

  G_OBJECT_CLASS (ollama_embedder_parent_class)->finalize (object);
}

static void
ollama_embedder_class_init (OllamaEmbedderClass *klass)
{
  STACHE_REMOTE_PROVIDER_CLASS (klass)->setup = ollama_embedder_setup;
  G_OBJECT_CLASS (klass)->finalize = ollama_embedder_finalize;
}

static void
ollama_embedder_class_finalize (OllamaEmbedderClass *klass)
{
}

static void
ollama_embedder_init (OllamaEmbedder *self)
{
  self->batch_size = OLLAMA_DEFAULT_BATCH_SIZE;
  self->batch_bytes = OLLAMA_DEFAULT_BATCH_BYTES;
}

void
ollama_embedder_register (GTypeModule *module)
{
  ollama_embedder_register_type (module);
}
