/* cohere-reranker.c: the `cohere` reranker provider, POST {url}/…/rerank
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Cohere, Jina and Hugging Face's Text Embeddings Inference (TEI) each
 * serve a cross-encoder behind a /rerank endpoint that takes a query and a
 * list of document texts and answers with a relevance score per document,
 * by index. The setting `cohere_api` picks the flavour:
 *
 * - `cohere` (the default): POST {url}/v1/rerank, url by default
 *   https://api.cohere.com
 *
 *     {"model": "rerank-v3.5", "query": <query>,
 *      "documents": [<text>, …], "top_n": <n>}
 *     → {"id": …, "results": [{"index": <i>, "relevance_score": <s>}, …],
 *        "meta": {…}}
 *
 * - `jina`: POST {url}/v1/rerank, url by default https://api.jina.ai; the
 *   request of Cohere plus "return_documents": false, so the texts are not
 *   sent back; the model by default `jina-reranker-v2-base-multilingual`
 *
 *     → {"model": …, "usage": {"total_tokens": …},
 *        "results": [{"index": <i>, "document": {"text": …},
 *                     "relevance_score": <s>}, …]}
 *
 * - `tei`: POST {url}/rerank, url by default http://localhost:8080; no
 *   model (the server serves one) and no top_n (TEI always scores every
 *   text)
 *
 *     {"query": <query>, "texts": [<text>, …],
 *      "raw_scores": false, "return_text": false}
 *     → [{"index": <i>, "score": <s>}, …]
 *
 * The default URL and model follow the flavour only when `cohere_url` and
 * `cohere_model` are unset (or blank). `cohere_api_key`, when set, is sent
 * as `Authorization: Bearer <key>` (Cohere and Jina need one, TEI only
 * when started with --api-key); the HTTP client redacts it from every
 * message.
 *
 * A request holds at most `cohere_max_documents` documents (default 1000,
 * Cohere's own limit); longer candidate lists are sent in several requests,
 * in order, and their scores merged. The scores of one model are
 * comparable across requests for the same query: a cross-encoder scores
 * each (query, document) pair on its own.
 *
 * top_n: Cohere and Jina are asked for the best min (top_k, documents of
 * the request) of each request. The best top_k of all the candidates are
 * among the best top_k of the requests they were sent in, so nothing is
 * lost, and the answers stay small. An answer must then score at least
 * top_n distinct documents of its request and at most all of them; the
 * documents it leaves out are dropped. TEI must score every text.
 *
 * Every answer is checked: each item an object with a whole-number index
 * of a document of its request, no index twice, a finite number as score.
 * Anything else is %STACHE_HTTP_ERROR_MALFORMED_RESPONSE naming the
 * provider, the URL and what is wrong. HTTP errors, timeouts, retries and
 * cancellation are the client's (see StacheHttpClient): service messages
 * such as Cohere's {"message": …} or TEI's {"error": …, "error_type": …}
 * end up in the error.
 *
 * The results come back best first, each with the service's score (Cohere
 * and Jina: 0 to 1; TEI with raw_scores false: a sigmoid, 0 to 1);
 * results with equal scores keep their original order. At most top_k are
 * returned.
 *
 * Settings: `cohere_url`, `cohere_api_key`, `cohere_model`, `cohere_api`,
 * `cohere_max_documents`, and the client's `http_*`.
 *
 * Thread safety: everything is set once by setup; rerank calls may
 * run in several threads at once.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "cohere-reranker.h"

#define COHERE_PROVIDER_NAME            "cohere"

#define COHERE_SETTING_URL              "cohere_url"
#define COHERE_SETTING_API_KEY          "cohere_api_key"
#define COHERE_SETTING_MODEL            "cohere_model"
#define COHERE_SETTING_API              "cohere_api"
#define COHERE_SETTING_MAX_DOCUMENTS    "cohere_max_documents"

#define COHERE_DEFAULT_API              "cohere"
#define COHERE_DEFAULT_MAX_DOCUMENTS    1000
/* A generous bound: it only catches values that cannot be meant */
#define COHERE_MAX_MAX_DOCUMENTS        1000000

/* What differs between the services that speak the API */
typedef struct
{
  const char *name;           /* the value of `cohere_api` */
  const char *title;          /* for messages */
  const char *default_url;
  const char *path;
  const char *default_model;  /* NULL: no model is sent */
  gboolean    top_n;          /* the request takes "top_n" */
  gboolean    return_documents;  /* the request takes "return_documents" */
  const char *documents_member;
  const char *score_member;
} Flavour;

static const Flavour flavours[] = {
  { "cohere", "Cohere", "https://api.cohere.com", "/v1/rerank", "rerank-v3.5",
    TRUE, FALSE, "documents", "relevance_score" },
  { "jina", "Jina", "https://api.jina.ai", "/v1/rerank", "jina-reranker-v2-base-multilingual",
    TRUE, TRUE, "documents", "relevance_score" },
  { "tei", "Text Embeddings Inference", "http://localhost:8080", "/rerank", NULL,
    FALSE, FALSE, "texts", "score" },
};

struct _CohereReranker
{
  StacheRemoteProvider parent_instance;

  /* Set once, by setup, before the provider is handed out */
  const Flavour    *flavour;
  StacheHttpClient *client;
  char             *url;
  char             *model;        /* NULL for TEI */
  guint             max_documents;
};

static void cohere_reranker_iface_init (StacheRerankerProviderInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (CohereReranker, cohere_reranker, STACHE_TYPE_REMOTE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_RERANKER_PROVIDER,
                                                               cohere_reranker_iface_init))

/* ---- responses ---- */

/* ---- one request ---- */

static JsonNode *
build_request (CohereReranker *self,
               const char     *query,
               GPtrArray      *results,
               guint           start,
               guint           n_documents,
               guint           top_n)
{
  const Flavour *flavour = self->flavour;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);

  if (self->model != NULL)
    {
      json_builder_set_member_name (builder, "model");
      json_builder_add_string_value (builder, self->model);
    }

  json_builder_set_member_name (builder, "query");
  json_builder_add_string_value (builder, query);

  json_builder_set_member_name (builder, flavour->documents_member);
  json_builder_begin_array (builder);
  for (guint i = start; i < start + n_documents; i++)
    {
      const char *text = stache_search_result_get_text (g_ptr_array_index (results, i));

      json_builder_add_string_value (builder, text != NULL ? text : "");
    }
  json_builder_end_array (builder);

  if (flavour->top_n)
    {
      json_builder_set_member_name (builder, "top_n");
      json_builder_add_int_value (builder, top_n);
    }

  if (flavour->return_documents)
    {
      json_builder_set_member_name (builder, "return_documents");
      json_builder_add_boolean_value (builder, FALSE);
    }

  if (!flavour->top_n)
    {
      /* TEI: scores between 0 and 1, and no texts sent back */
      json_builder_set_member_name (builder, "raw_scores");
      json_builder_add_boolean_value (builder, FALSE);
      json_builder_set_member_name (builder, "return_text");
      json_builder_add_boolean_value (builder, FALSE);
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* The array of scored items in @response, or NULL with @error set */
static JsonArray *
get_items (CohereReranker  *self,
           JsonNode        *response,
           GError         **error)
{
  JsonNode *node;

  /* TEI answers with a bare array */
  if (!self->flavour->top_n)
    {
      if (!JSON_NODE_HOLDS_ARRAY (response))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("the body is not a JSON array"));
          return NULL;
        }
      return json_node_get_array (response);
    }

  if (!JSON_NODE_HOLDS_OBJECT (response))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the body is not a JSON object"));
      return NULL;
    }

  node = json_object_get_member (json_node_get_object (response), "results");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("it has no “results” array"));
      return NULL;
    }

  return json_node_get_array (node);
}

/* Scores @results[@start … @start+@n_documents-1] in one request, asking
 * for the best @top_n, and stores each score in @scores at the result's
 * index, marking it in @scored. */
static gboolean
rerank_one_request (CohereReranker  *self,
                    const char      *query,
                    GPtrArray       *results,
                    guint            start,
                    guint            n_documents,
                    guint            top_n,
                    double          *scores,
                    gboolean        *scored,
                    GCancellable    *cancellable,
                    GError         **error)
{
  const char *score_member = self->flavour->score_member;
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(JsonNode) response = NULL;
  JsonArray *items;
  guint n_items;
  guint needed;

  request = build_request (self, query, results, start, n_documents, top_n);
  response = stache_http_client_request_json (self->client, "POST", self->url, request,
                                              cancellable, error);
  if (response == NULL)
    return FALSE;

  items = get_items (self, response, error);
  if (items == NULL)
    return FALSE;

  /* TEI scores everything; the others the top_n asked for, or more */
  needed = self->flavour->top_n ? top_n : n_documents;
  n_items = json_array_get_length (items);
  if (n_items < needed || n_items > n_documents)
    {
      if (needed == n_documents)
        stache_http_client_set_malformed (self->client, error, self->url,
                                          g_dngettext (GETTEXT_PACKAGE,
                                          "it scores %u items for %u document",
                                          "it scores %u items for %u documents",
                                          n_documents),
                                          n_items, n_documents);
      else
        stache_http_client_set_malformed (self->client, error, self->url,
                                          g_dngettext (GETTEXT_PACKAGE,
                                          "it scores %u items for %u document and top_n %u",
                                          "it scores %u items for %u documents and top_n %u",
                                          n_documents),
                                          n_items, n_documents, top_n);
      return FALSE;
    }

  for (guint item = 0; item < n_items; item++)
    {
      JsonNode *node = json_array_get_element (items, item);
      JsonObject *object;
      JsonNode *index_node;
      JsonNode *score_node;
      gint64 index;
      double score;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("item %u is not an object"), item);
          return FALSE;
        }
      object = json_node_get_object (node);

      index_node = json_object_get_member (object, "index");
      if (!stache_json_node_is_integer (index_node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“index” of item %u is not a whole number"), item);
          return FALSE;
        }
      /* An integral double is at most 2^53 here, so the cast is exact */
      index = json_node_get_value_type (index_node) == G_TYPE_INT64
                ? json_node_get_int (index_node)
                : (gint64) json_node_get_double (index_node);
      if (index < 0 || index >= n_documents)
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“index” of item %u is %" G_GINT64_FORMAT ", outside 0 to %u"),
                                            item, index, n_documents - 1);
          return FALSE;
        }
      if (scored[start + index])
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("index %" G_GINT64_FORMAT " is scored twice"), index);
          return FALSE;
        }

      score_node = json_object_get_member (object, score_member);
      if (!stache_json_node_is_number (score_node) || !isfinite (score = json_node_get_double (score_node)))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“%s” of item %u is not a finite number"),
                                            score_member, item);
          return FALSE;
        }

      scores[start + index] = score;
      scored[start + index] = TRUE;
    }

  return TRUE;
}

/* ---- StacheRerankerProvider ---- */

typedef struct
{
  StacheSearchResult *result;  /* borrowed */
  guint               index;   /* position in the input */
  double              score;
} Ranked;

static int
compare_ranked (gconstpointer a,
                gconstpointer b)
{
  const Ranked *ra = a;
  const Ranked *rb = b;

  if (ra->score != rb->score)
    return ra->score > rb->score ? -1 : 1;

  return (ra->index > rb->index) - (ra->index < rb->index);
}

static GList *
cohere_reranker_rerank (StacheRerankerProvider  *provider,
                        const char              *query,
                        GPtrArray               *results,
                        guint                    top_k,
                        GCancellable            *cancellable,
                        GError                 **error)
{
  CohereReranker *self = COHERE_RERANKER (provider);
  g_autofree double *scores = NULL;
  g_autofree gboolean *scored = NULL;
  g_autoptr(GArray) ranked = NULL;
  GList *list = NULL;

  /* Nothing to ask the service */
  if (results->len == 0 || top_k == 0)
    return NULL;

  scores = g_new0 (double, results->len);
  scored = g_new0 (gboolean, results->len);

  for (guint start = 0; start < results->len; start += self->max_documents)
    {
      guint n_documents = MIN (self->max_documents, results->len - start);

      if (!rerank_one_request (self, query, results, start, n_documents,
                               MIN (top_k, n_documents), scores, scored, cancellable, error))
        return NULL;
    }

  ranked = g_array_sized_new (FALSE, FALSE, sizeof (Ranked), results->len);
  for (guint i = 0; i < results->len; i++)
    {
      Ranked entry;

      /* Left out by top_n: not among the best top_k */
      if (!scored[i])
        continue;

      entry.result = g_ptr_array_index (results, i);
      entry.index = i;
      entry.score = scores[i];
      g_array_append_val (ranked, entry);
    }

  g_array_sort (ranked, compare_ranked);

  /* The results are copies made for this call: they take the new score. */
  for (guint i = MIN (top_k, ranked->len); i > 0; i--)
    {
      Ranked *entry = &g_array_index (ranked, Ranked, i - 1);

      stache_search_result_set_score (entry->result, entry->score);
      list = g_list_prepend (list, g_object_ref (entry->result));
    }

  return list;
}

static void
cohere_reranker_iface_init (StacheRerankerProviderInterface *iface)
{
  iface->rerank = cohere_reranker_rerank;
}

/* ---- setup: reads and checks the settings ---- */

/* The flavour `cohere_api` names, or NULL with @error set */
static const Flavour *
read_flavour (StacheSettings  *settings,
              GError         **error)
{
  g_autofree char *name = stache_settings_get_nonempty (settings, COHERE_SETTING_API,
                                                        COHERE_DEFAULT_API);
  g_autofree char *where = NULL;
  g_autofree char *env_name = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (flavours); i++)
    {
      if (strcmp (name, flavours[i].name) == 0)
        return &flavours[i];
    }

  where = stache_settings_describe_source (settings, COHERE_SETTING_API);
  env_name = stache_settings_key_to_env_name (COHERE_SETTING_API);
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
               /* Translators: the first %s is a settings key, the second its
                * environment variable, the third where its value came from,
                * the fourth the value; cohere, jina and tei are values, not
                * to be translated */
               _("Setting “%s” (%s, from %s) has the value “%s”, which is not one of "
                 "cohere, jina or tei"),
               COHERE_SETTING_API, env_name, where, name);

  return NULL;
}

static gboolean
cohere_reranker_setup (StacheRemoteProvider  *provider,
                       StacheSettings        *settings,
                       GCancellable          *cancellable,
                       GError               **error)
{
  CohereReranker *self = COHERE_RERANKER (provider);
  StacheHttpClient *client;
  g_autofree char *base = NULL;
  g_autofree char *api_name = NULL;
  const Flavour *flavour;
  gint64 max_documents;

  flavour = read_flavour (settings, error);
  if (flavour == NULL)
    return FALSE;

  if (!stache_settings_get_int_range (settings, COHERE_SETTING_MAX_DOCUMENTS,
                                      COHERE_DEFAULT_MAX_DOCUMENTS, 1, COHERE_MAX_MAX_DOCUMENTS,
                                      &max_documents, error))
    return FALSE;

  base = stache_settings_get_http_url (settings, COHERE_SETTING_URL, flavour->default_url, error);
  if (base == NULL)
    return FALSE;

  api_name = g_strdup_printf ("%s rerank", flavour->title);
  client = stache_remote_provider_create_client (provider, settings, COHERE_PROVIDER_NAME, api_name, error);
  if (client == NULL ||
      !stache_remote_provider_set_api_key (provider, settings, COHERE_SETTING_API_KEY, "Authorization",
                                           "Bearer ", FALSE, error))
    return FALSE;

  /* TEI serves one model and takes no "model" */
  if (flavour->default_model != NULL)
    self->model = stache_settings_get_nonempty (settings, COHERE_SETTING_MODEL,
                                                flavour->default_model);
  self->flavour = flavour;
  self->max_documents = (guint) max_documents;
  self->url = g_strconcat (base, flavour->path, NULL);
  self->client = client;

  return TRUE;
}

/* ---- GObject ---- */

static void
cohere_reranker_finalize (GObject *object)
{
  CohereReranker *self = COHERE_RERANKER (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->model, g_free);

  G_OBJECT_CLASS (cohere_reranker_parent_class)->finalize (object);
}

static void
cohere_reranker_class_init (CohereRerankerClass *klass)
{
  STACHE_REMOTE_PROVIDER_CLASS (klass)->setup = cohere_reranker_setup;
  G_OBJECT_CLASS (klass)->finalize = cohere_reranker_finalize;
}

static void
cohere_reranker_class_finalize (CohereRerankerClass *klass)
{
}

static void
cohere_reranker_init (CohereReranker *self)
{
  self->flavour = &flavours[0];
  self->max_documents = COHERE_DEFAULT_MAX_DOCUMENTS;
}

void
cohere_reranker_register (GTypeModule *module)
{
  cohere_reranker_register_type (module);
}
