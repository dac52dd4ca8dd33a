/* test-interfaces.c: what the interface wrappers guarantee to callers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small providers written here implement the LLM, embeddings, reranker,
 * namespace and document index interfaces; the tests check the argument
 * checks, the result checks and the thread-backed async defaults that every
 * provider gets from the core.
 */
#include <math.h>
#include <string.h>
#include <stache.h>

/* ---- an LLM that echoes, and one that fails without saying why ---- */

#define TEST_TYPE_ECHO_LLM (test_echo_llm_get_type ())
G_DECLARE_FINAL_TYPE (TestEchoLlm, test_echo_llm, TEST, ECHO_LLM, StacheProvider)
struct _TestEchoLlm { StacheProvider parent_instance; gboolean silent_failure; };

static StacheCompletion *
echo_generate (StacheLlmProvider  *provider,
               const char         *prompt,
               const char         *system_prompt,
               JsonObject         *options,
               GCancellable       *cancellable,
               GError            **error)
{
  g_autofree char *text = NULL;
  StacheCompletion *completion;

  if (TEST_ECHO_LLM (provider)->silent_failure)
    return NULL;

  text = g_strdup_printf ("%s|%s", system_prompt ? system_prompt : "-", prompt);
  completion = stache_completion_new (text);
  stache_completion_set_model (completion, "echo");
  return completion;
}

static void
echo_llm_iface_init (StacheLlmProviderInterface *iface)
{
  iface->generate = echo_generate;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestEchoLlm, test_echo_llm, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_LLM_PROVIDER, echo_llm_iface_init))
static void test_echo_llm_class_init (TestEchoLlmClass *klass) { }
static void test_echo_llm_init (TestEchoLlm *self) { }

/* ---- an embedder implementing only embed(): length and vowels ---- */

#define TEST_TYPE_TINY_EMBEDDER (test_tiny_embedder_get_type ())
G_DECLARE_FINAL_TYPE (TestTinyEmbedder, test_tiny_embedder, TEST, TINY_EMBEDDER, StacheProvider)
struct _TestTinyEmbedder { StacheProvider parent_instance; gboolean broken; };

static GArray *
tiny_embed (StacheEmbeddingProvider  *provider,
            const char               *text,
            GCancellable             *cancellable,
            GError                  **error)
{
  GArray *v = g_array_new (FALSE, FALSE, sizeof (float));
  float values[2] = { (float) strlen (text), 0 };

  for (const char *p = text; *p; p++)
    if (strchr ("aeiou", *p))
      values[1]++;
  if (TEST_TINY_EMBEDDER (provider)->broken)
    values[1] = NAN;

  g_array_append_vals (v, values, 2);
  return v;
}

static guint
tiny_get_dimensions (StacheEmbeddingProvider *provider)
{
  return 2;
}

static void
tiny_embedder_iface_init (StacheEmbeddingProviderInterface *iface)
{
  iface->embed = tiny_embed;
  iface->get_dimensions = tiny_get_dimensions;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestTinyEmbedder, test_tiny_embedder, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_EMBEDDING_PROVIDER,
                                                      tiny_embedder_iface_init))
static void test_tiny_embedder_class_init (TestTinyEmbedderClass *klass) { }
static void test_tiny_embedder_init (TestTinyEmbedder *self) { }

/* ---- an embedder with batch limits that records each call ---- */

#define TEST_TYPE_SLICING_EMBEDDER (test_slicing_embedder_get_type ())
G_DECLARE_FINAL_TYPE (TestSlicingEmbedder, test_slicing_embedder, TEST, SLICING_EMBEDDER, StacheProvider)
struct _TestSlicingEmbedder
{
  StacheProvider parent_instance;
  GMutex         lock;
  GString       *calls;       /* "n," per embed_batch call */
  guint          n_calls;
  guint          grow_after;  /* vectors get longer from this call on (0: never) */
};

/* Row of a text: [its length, the call number] so order and slicing show */
static GArray *
slicing_embed_batch (StacheEmbeddingProvider  *provider,
                     const char * const       *texts,
                     GCancellable             *cancellable,
                     GError                  **error)
{
  TestSlicingEmbedder *self = TEST_SLICING_EMBEDDER (provider);
  GArray *v = g_array_new (FALSE, FALSE, sizeof (float));
  guint n = g_strv_length ((char **) texts);
  guint call, dims;

  g_mutex_lock (&self->lock);
  call = self->n_calls++;
  g_string_append_printf (self->calls, "%u,", n);
  g_mutex_unlock (&self->lock);

  dims = (self->grow_after != 0 && call >= self->grow_after) ? 3 : 2;
  for (guint i = 0; i < n; i++)
    {
      float row[3] = { (float) strlen (texts[i]), (float) call, 0 };

      g_array_append_vals (v, row, dims);
    }
  return v;
}

static void
slicing_get_batch_limits (StacheEmbeddingProvider *provider,
                          guint                   *max_texts,
                          guint                   *max_bytes)
{
  *max_texts = 3;
  *max_bytes = 10;
}

static void
slicing_embedder_iface_init (StacheEmbeddingProviderInterface *iface)
{
  iface->embed_batch = slicing_embed_batch;
  iface->get_batch_limits = slicing_get_batch_limits;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestSlicingEmbedder, test_slicing_embedder, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_EMBEDDING_PROVIDER,
                                                      slicing_embedder_iface_init))

static void
test_slicing_embedder_finalize (GObject *object)
{
  TestSlicingEmbedder *self = TEST_SLICING_EMBEDDER (object);

  g_string_free (self->calls, TRUE);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (test_slicing_embedder_parent_class)->finalize (object);
}

static void
test_slicing_embedder_class_init (TestSlicingEmbedderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_slicing_embedder_finalize;
}

static void
test_slicing_embedder_init (TestSlicingEmbedder *self)
{
  g_mutex_init (&self->lock);
  self->calls = g_string_new (NULL);
}

/* ---- an LLM that streams word by word ---- */

#define TEST_TYPE_WORDY_LLM (test_wordy_llm_get_type ())
G_DECLARE_FINAL_TYPE (TestWordyLlm, test_wordy_llm, TEST, WORDY_LLM, StacheProvider)
struct _TestWordyLlm { StacheProvider parent_instance; gboolean bad_utf8; };

static StacheCompletion *
wordy_generate_stream (StacheLlmProvider  *provider,
                       const char         *prompt,
                       const char         *system_prompt,
                       JsonObject         *options,
                       StacheTokenFunc     token_func,
                       gpointer            token_data,
                       GCancellable       *cancellable,
                       GError            **error)
{
  g_auto(GStrv) words = g_strsplit (prompt, " ", -1);
  GString *text = g_string_new (NULL);
  StacheCompletion *completion;

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *piece = g_strdup_printf ("%s%s", i > 0 ? " " : "", words[i]);

      token_func (piece, token_data);
      token_func ("", token_data);   /* empty pieces never reach the caller */
      g_string_append (text, piece);
    }
  if (TEST_WORDY_LLM (provider)->bad_utf8)
    token_func ("\xff", token_data);

  completion = stache_completion_new (text->str);
  g_string_free (text, TRUE);
  return completion;
}

static StacheCompletion *
wordy_generate (StacheLlmProvider  *provider,
                const char         *prompt,
                const char         *system_prompt,
                JsonObject         *options,
                GCancellable       *cancellable,
                GError            **error)
{
  return stache_completion_new (prompt);
}

static void
wordy_llm_iface_init (StacheLlmProviderInterface *iface)
{
  iface->generate = wordy_generate;
  iface->generate_stream = wordy_generate_stream;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestWordyLlm, test_wordy_llm, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_LLM_PROVIDER, wordy_llm_iface_init))
static void test_wordy_llm_class_init (TestWordyLlmClass *klass) { }
static void test_wordy_llm_init (TestWordyLlm *self) { }

/* ---- providers written the way Lua must write them ---- */

/* An embedder that only has embed_batch_variant: [length, 1] per text */
#define TEST_TYPE_VARIANT_EMBEDDER (test_variant_embedder_get_type ())
G_DECLARE_FINAL_TYPE (TestVariantEmbedder, test_variant_embedder, TEST, VARIANT_EMBEDDER, StacheProvider)
struct _TestVariantEmbedder { StacheProvider parent_instance; gboolean wrong_type; };

static GVariant *
variant_embed_batch (StacheEmbeddingProvider  *provider,
                     const char * const       *texts,
                     GCancellable             *cancellable,
                     GError                  **error)
{
  g_autoptr(GVariantBuilder) builder = NULL;

  if (TEST_VARIANT_EMBEDDER (provider)->wrong_type)
    return g_variant_new_string ("not vectors");

  builder = g_variant_builder_new (G_VARIANT_TYPE ("ad"));
  for (guint i = 0; texts[i] != NULL; i++)
    {
      g_variant_builder_add (builder, "d", (double) strlen (texts[i]));
      g_variant_builder_add (builder, "d", 1.0);
    }
  /* floating, as a C provider may well return it */
  return g_variant_builder_end (builder);
}

static void
variant_embedder_iface_init (StacheEmbeddingProviderInterface *iface)
{
  iface->embed_batch_variant = variant_embed_batch;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestVariantEmbedder, test_variant_embedder, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_EMBEDDING_PROVIDER,
                                                      variant_embedder_iface_init))
static void test_variant_embedder_class_init (TestVariantEmbedderClass *klass) { }
static void test_variant_embedder_init (TestVariantEmbedder *self) { }

/* A reranker that only rescores: the score is the text's length */
#define TEST_TYPE_LENGTH_SCORER (test_length_scorer_get_type ())
G_DECLARE_FINAL_TYPE (TestLengthScorer, test_length_scorer, TEST, LENGTH_SCORER, StacheProvider)
struct _TestLengthScorer { StacheProvider parent_instance; };

static gboolean
length_rescore (StacheRerankerProvider  *provider,
                const char              *query,
                GPtrArray               *results,
                GCancellable            *cancellable,
                GError                 **error)
{
  for (guint i = 0; i < results->len; i++)
    {
      StacheSearchResult *result = g_ptr_array_index (results, i);

      stache_search_result_set_score (result, (double) strlen (stache_search_result_get_text (result)));
    }
  return TRUE;
}

static void
length_scorer_iface_init (StacheRerankerProviderInterface *iface)
{
  iface->rescore = length_rescore;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestLengthScorer, test_length_scorer, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_RERANKER_PROVIDER,
                                                      length_scorer_iface_init))
static void test_length_scorer_class_init (TestLengthScorerClass *klass) { }
static void test_length_scorer_init (TestLengthScorer *self) { }

/* ---- a reranker that reverses, and keeps everything ---- */

#define TEST_TYPE_REVERSER (test_reverser_get_type ())
G_DECLARE_FINAL_TYPE (TestReverser, test_reverser, TEST, REVERSER, StacheProvider)
struct _TestReverser { StacheProvider parent_instance; };

static GList *
reverse_rerank (StacheRerankerProvider  *provider,
                const char              *query,
                GPtrArray               *results,
                guint                    top_k,
                GCancellable            *cancellable,
                GError                 **error)
{
  GList *list = NULL;

  /* Returns more than top_k on purpose, and rescores its input. */
  for (guint i = 0; i < results->len; i++)
    {
      StacheSearchResult *result = g_ptr_array_index (results, i);

      stache_search_result_set_score (result, i);
      list = g_list_prepend (list, g_object_ref (result));
    }

  return list;
}

static void
reverser_iface_init (StacheRerankerProviderInterface *iface)
{
  iface->rerank = reverse_rerank;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestReverser, test_reverser, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_RERANKER_PROVIDER, reverser_iface_init))
static void test_reverser_class_init (TestReverserClass *klass) { }
static void test_reverser_init (TestReverser *self) { }

/* ---- a namespace registry with nothing implemented but get ---- */

#define TEST_TYPE_LAZY_NAMESPACES (test_lazy_namespaces_get_type ())
G_DECLARE_FINAL_TYPE (TestLazyNamespaces, test_lazy_namespaces, TEST, LAZY_NAMESPACES, StacheProvider)
struct _TestLazyNamespaces { StacheProvider parent_instance; };

static StacheNamespace *
lazy_get_namespace (StacheNamespaceProvider  *provider,
                    const char               *name,
                    GCancellable             *cancellable,
                    GError                  **error)
{
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND, "No namespace “%s”", name);
  return NULL;
}

static void
lazy_namespaces_iface_init (StacheNamespaceProviderInterface *iface)
{
  iface->get_namespace = lazy_get_namespace;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestLazyNamespaces, test_lazy_namespaces, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_NAMESPACE_PROVIDER,
                                                      lazy_namespaces_iface_init))
static void test_lazy_namespaces_class_init (TestLazyNamespacesClass *klass) { }
static void test_lazy_namespaces_init (TestLazyNamespaces *self) { }

/* ---- a document index in a hash table ---- */

#define TEST_TYPE_HASH_INDEX (test_hash_index_get_type ())
G_DECLARE_FINAL_TYPE (TestHashIndex, test_hash_index, TEST, HASH_INDEX, StacheProvider)
struct _TestHashIndex { StacheProvider parent_instance; GHashTable *docs; };

static gboolean
hash_index_document (StacheDocumentIndexProvider  *provider,
                     StacheDocument               *document,
                     GCancellable                 *cancellable,
                     GError                      **error)
{
  g_hash_table_replace (TEST_HASH_INDEX (provider)->docs,
                        g_strdup (stache_document_get_id (document)), g_object_ref (document));
  return TRUE;
}

static GList *
hash_list_documents (StacheDocumentIndexProvider  *provider,
                     const char                   *namespace_,
                     GCancellable                 *cancellable,
                     GError                      **error)
{
  GList *values = g_hash_table_get_values (TEST_HASH_INDEX (provider)->docs);

  for (GList *l = values; l; l = l->next)
    g_object_ref (l->data);
  return values;
}

static void
hash_index_iface_init (StacheDocumentIndexProviderInterface *iface)
{
  iface->index_document = hash_index_document;
  iface->list_documents = hash_list_documents;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestHashIndex, test_hash_index, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_DOCUMENT_INDEX_PROVIDER,
                                                      hash_index_iface_init))
static void
test_hash_index_finalize (GObject *object)
{
  g_hash_table_unref (TEST_HASH_INDEX (object)->docs);
  G_OBJECT_CLASS (test_hash_index_parent_class)->finalize (object);
}
static void
test_hash_index_class_init (TestHashIndexClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_hash_index_finalize;
}
static void
test_hash_index_init (TestHashIndex *self)
{
  self->docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

/* ---- helpers ---- */

static GAsyncResult *
run_until_done (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static void
keep_result (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* ---- LLM ---- */

static void
test_llm_generate_and_async (void)
{
  g_autoptr(StacheLlmProvider) llm = g_object_new (TEST_TYPE_ECHO_LLM, NULL);
  g_autoptr(StacheCompletion) sync_result = NULL;
  g_autoptr(StacheCompletion) async_result = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  sync_result = stache_llm_provider_generate (llm, "hello", "be brief", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_completion_get_text (sync_result), ==, "be brief|hello");

  stache_llm_provider_generate_async (llm, "again", NULL, NULL, NULL, keep_result, &result);
  async_result = stache_llm_provider_generate_finish (llm, run_until_done (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_completion_get_text (async_result), ==, "-|again");
  g_assert_true (stache_llm_provider_has_capability (llm, "generate"));
}

static void
test_llm_refuses_bad_prompts (void)
{
  g_autoptr(StacheLlmProvider) llm = g_object_new (TEST_TYPE_ECHO_LLM, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (stache_llm_provider_generate (llm, "", NULL, NULL, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_null (stache_llm_provider_generate (llm, "bad \xff utf-8", NULL, NULL, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
}

static void
test_llm_silent_failure_becomes_error (void)
{
  g_autoptr(StacheLlmProvider) llm = g_object_new (TEST_TYPE_ECHO_LLM, NULL);
  g_autoptr(GError) error = NULL;

  TEST_ECHO_LLM (llm)->silent_failure = TRUE;
  g_assert_null (stache_llm_provider_generate (llm, "hi", NULL, NULL, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "TestEchoLlm"));
}

static void
collect_token (const char *token,
               gpointer    user_data)
{
  GPtrArray *tokens = user_data;

  g_assert_cmpstr (token, !=, "");
  g_ptr_array_add (tokens, g_strdup (token));
}

static void
test_llm_stream_default_gives_whole_text (void)
{
  g_autoptr(StacheLlmProvider) llm = g_object_new (TEST_TYPE_ECHO_LLM, NULL);
  g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate_stream (llm, "hello", NULL, NULL, collect_token,
                                                    tokens, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tokens->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (tokens, 0), ==, "-|hello");
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "-|hello");

  /* Arguments are checked before anything is generated */
  g_assert_null (stache_llm_provider_generate_stream (llm, "", NULL, NULL, collect_token,
                                                      tokens, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (tokens->len, ==, 1);
}

static void
test_llm_stream_pieces (void)
{
  g_autoptr(StacheLlmProvider) llm = g_object_new (TEST_TYPE_WORDY_LLM, NULL);
  g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *joined = NULL;

  completion = stache_llm_provider_generate_stream (llm, "one two three", NULL, NULL,
                                                    collect_token, tokens, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tokens->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (tokens, 1), ==, " two");
  g_ptr_array_add (tokens, NULL);
  joined = g_strjoinv ("", (char **) tokens->pdata);
  g_assert_cmpstr (joined, ==, stache_completion_get_text (completion));

  /* A piece that is not UTF-8 is never passed on, and fails the call */
  g_clear_object (&completion);
  g_ptr_array_set_size (tokens, 0);
  TEST_WORDY_LLM (llm)->bad_utf8 = TRUE;
  completion = stache_llm_provider_generate_stream (llm, "one", NULL, NULL, collect_token,
                                                    tokens, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "UTF-8"));
  g_assert_cmpuint (tokens->len, ==, 1);
}

/* ---- embeddings ---- */

static void
test_embed_batch_from_variant (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = g_object_new (TEST_TYPE_VARIANT_EMBEDDER, NULL);
  const char *texts[] = { "cat", "banana", NULL };
  g_autoptr(GArray) rows = NULL;
  g_autoptr(GArray) one = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GError) error = NULL;

  rows = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 4);
  g_assert_cmpfloat (g_array_index (rows, float, 0), ==, 3);
  g_assert_cmpfloat (g_array_index (rows, float, 2), ==, 6);

  one = stache_embedding_provider_embed (embedder, "kiwi", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->len, ==, 2);
  g_assert_cmpfloat (g_array_index (one, float, 0), ==, 4);

  /* The invoker gives the variant back, also for other providers */
  variant = stache_embedding_provider_embed_batch_variant (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (variant, G_VARIANT_TYPE ("ad")));
  g_assert_cmpuint (g_variant_n_children (variant), ==, 4);

  TEST_VARIANT_EMBEDDER (embedder)->wrong_type = TRUE;
  g_clear_pointer (&rows, g_array_unref);
  rows = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_null (rows);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "“ad”"));
}

static void
test_embed_batch_is_split_by_limits (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = g_object_new (TEST_TYPE_SLICING_EMBEDDER, NULL);
  TestSlicingEmbedder *slicer = TEST_SLICING_EMBEDDER (embedder);
  /* limits: 3 texts, 10 bytes; the 14-byte text goes alone */
  const char *texts[] = { "a", "bb", "ccc", "dddd", "fourteen bytes", "e", "ff", NULL };
  const float lengths[] = { 1, 2, 3, 4, 14, 1, 2 };
  const float calls[] = { 0, 0, 0, 1, 2, 3, 3 };
  g_autoptr(GArray) rows = NULL;
  g_autoptr(GArray) async_rows = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint max_texts, max_bytes;

  stache_embedding_provider_get_batch_limits (embedder, &max_texts, &max_bytes);
  g_assert_cmpuint (max_texts, ==, 3);
  g_assert_cmpuint (max_bytes, ==, 10);

  rows = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (slicer->calls->str, ==, "3,1,1,2,");
  g_assert_cmpuint (rows->len, ==, 14);
  for (guint i = 0; i < 7; i++)
    {
      g_assert_cmpfloat (g_array_index (rows, float, 2 * i), ==, lengths[i]);
      g_assert_cmpfloat (g_array_index (rows, float, 2 * i + 1), ==, calls[i]);
    }

  /* The async default splits the same way */
  g_string_truncate (slicer->calls, 0);
  stache_embedding_provider_embed_batch_async (embedder, texts, NULL, keep_result, &result);
  async_rows = stache_embedding_provider_embed_batch_finish (embedder, run_until_done (&result),
                                                             &error);
  g_assert_no_error (error);
  g_assert_cmpstr (slicer->calls->str, ==, "3,1,1,2,");
  g_assert_cmpuint (async_rows->len, ==, 14);

  /* Slices whose vectors differ in length cannot be joined */
  g_clear_pointer (&rows, g_array_unref);
  slicer->n_calls = 0;
  slicer->grow_after = 1;
  rows = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_null (rows);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "TestSlicingEmbedder"));

  /* No limits: one call with everything */
  {
    g_autoptr(StacheEmbeddingProvider) tiny = g_object_new (TEST_TYPE_TINY_EMBEDDER, NULL);

    stache_embedding_provider_get_batch_limits (tiny, &max_texts, &max_bytes);
    g_assert_cmpuint (max_texts, ==, 0);
    g_assert_cmpuint (max_bytes, ==, 0);
  }
}

static void
test_embed_batch_defaults_to_embed (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = g_object_new (TEST_TYPE_TINY_EMBEDDER, NULL);
  const char *texts[] = { "cat", "banana", NULL };
  const char *none[] = { NULL };
  g_autoptr(GArray) rows = NULL;
  g_autoptr(GArray) empty = NULL;
  g_autoptr(GArray) async_rows = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  rows = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 4);
  g_assert_cmpfloat (g_array_index (rows, float, 0), ==, 3);
  g_assert_cmpfloat (g_array_index (rows, float, 1), ==, 1);
  g_assert_cmpfloat (g_array_index (rows, float, 2), ==, 6);
  g_assert_cmpfloat (g_array_index (rows, float, 3), ==, 3);

  empty = stache_embedding_provider_embed_batch (embedder, none, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (empty->len, ==, 0);

  stache_embedding_provider_embed_batch_async (embedder, texts, NULL, keep_result, &result);
  async_rows = stache_embedding_provider_embed_batch_finish (embedder, run_until_done (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (async_rows->data, async_rows->len * sizeof (float), rows->data, rows->len * sizeof (float));
}

static void
test_embedding_results_are_checked (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = g_object_new (TEST_TYPE_TINY_EMBEDDER, NULL);
  g_autoptr(GArray) vector = NULL;
  g_autoptr(GError) error = NULL;

  TEST_TINY_EMBEDDER (embedder)->broken = TRUE;
  vector = stache_embedding_provider_embed (embedder, "nan please", NULL, &error);
  g_assert_null (vector);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "finite"));
}

/* ---- reranker ---- */

static void
test_rerank_truncates_and_leaves_input_alone (void)
{
  g_autoptr(StacheRerankerProvider) reranker = g_object_new (TEST_TYPE_REVERSER, NULL);
  g_autoptr(GPtrArray) input = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) output = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (input, stache_search_result_new ("a", "first", 0.9));
  g_ptr_array_add (input, stache_search_result_new ("b", "second", 0.8));
  g_ptr_array_add (input, stache_search_result_new ("c", "third", 0.7));

  output = stache_reranker_provider_rerank (reranker, "q", input, 2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (output->len, ==, 2);
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (output, 0)), ==, "c");
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (output, 1)), ==, "b");

  /* The provider rescored what it was given; the caller's results are not
   * what it was given. */
  g_assert_cmpfloat (stache_search_result_get_score (g_ptr_array_index (input, 0)), ==, 0.9);
  g_assert_cmpuint (input->len, ==, 3);
}

/* ---- namespaces ---- */

static void
test_rescore_orders_and_cuts (void)
{
  g_autoptr(StacheRerankerProvider) scorer = g_object_new (TEST_TYPE_LENGTH_SCORER, NULL);
  g_autoptr(StacheRerankerProvider) reverser = g_object_new (TEST_TYPE_REVERSER, NULL);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GPtrArray) async_ranked = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (results, stache_search_result_new ("short", "ab", 0.9));
  g_ptr_array_add (results, stache_search_result_new ("long", "abcdef", 0.1));
  g_ptr_array_add (results, stache_search_result_new ("tie", "abcdef", 0.5));
  g_ptr_array_add (results, stache_search_result_new ("mid", "abcd", 0.3));

  ranked = stache_reranker_provider_rerank (scorer, "q", results, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ranked->len, ==, 3);
  /* by score, ties in the order given, cut to top_k */
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (ranked, 0)), ==, "long");
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (ranked, 1)), ==, "tie");
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (ranked, 2)), ==, "mid");
  /* on copies */
  g_assert_cmpfloat (stache_search_result_get_score (g_ptr_array_index (results, 0)), ==, 0.9);

  stache_reranker_provider_rerank_async (scorer, "q", results, 1, NULL, keep_result, &result);
  async_ranked = stache_reranker_provider_rerank_finish (scorer, run_until_done (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (async_ranked->len, ==, 1);
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (async_ranked, 0)), ==, "long");

  /* rescore in place, directly or through a provider that only reranks */
  g_assert_true (stache_reranker_provider_rescore (scorer, "q", results, NULL, &error));
  g_assert_cmpfloat (stache_search_result_get_score (g_ptr_array_index (results, 0)), ==, 2);
  g_assert_true (stache_reranker_provider_rescore (reverser, "q", results, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (stache_search_result_get_score (g_ptr_array_index (results, 3)), ==, 3);
}

static void
test_namespace_names_are_validated (void)
{
  const char *good[] = { "notes", "research/papers", "a.b-c_d/e1" };
  const char *bad[] = { "", "/lead", "trail/", "two//slashes", "up/../out", ".", "sp ace", "ü" };
  g_autofree char *long_name = g_strnfill (256, 'x');

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (stache_namespace_name_validate (good[i], NULL));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (stache_namespace_name_validate (bad[i], &error));
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
    }

  g_assert_false (stache_namespace_name_validate (long_name, NULL));
}

static void
test_namespace_unimplemented_methods_say_so (void)
{
  g_autoptr(StacheNamespaceProvider) registry = g_object_new (TEST_TYPE_LAZY_NAMESPACES, NULL);
  g_autoptr(StacheNamespace) ns = NULL;
  g_autoptr(GError) error = NULL;

  ns = stache_namespace_provider_create_namespace (registry, "notes", NULL, NULL, NULL, &error);
  g_assert_null (ns);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "create_namespace"));
  g_clear_error (&error);

  g_assert_null (stache_namespace_provider_get_namespace (registry, "notes", NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_null (stache_namespace_provider_get_namespace (registry, "../etc", NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
}

/* ---- document index ---- */

static void
test_document_index_round_trip (void)
{
  g_autoptr(StacheDocumentIndexProvider) index = g_object_new (TEST_TYPE_HASH_INDEX, NULL);
  g_autoptr(StacheDocument) doc = stache_document_new ("doc-1");
  g_autoptr(StacheDocument) nameless = stache_document_new (NULL);
  g_autoptr(GPtrArray) docs = NULL;
  g_autoptr(GPtrArray) async_docs = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (stache_document_index_provider_index_document (index, doc, NULL, &error));
  g_assert_no_error (error);

  g_assert_false (stache_document_index_provider_index_document (index, nameless, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  docs = stache_document_index_provider_list_documents (index, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (docs->len, ==, 1);
  g_assert_true (g_ptr_array_index (docs, 0) == doc);

  stache_document_index_provider_list_documents_async (index, NULL, NULL, keep_result, &result);
  async_docs = stache_document_index_provider_list_documents_finish (index, run_until_done (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (async_docs->len, ==, 1);

  g_assert_false (stache_document_index_provider_delete_document (index, "doc-1", NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/llm/generate-sync-and-async", test_llm_generate_and_async);
  g_test_add_func ("/llm/refuses-bad-prompts", test_llm_refuses_bad_prompts);
  g_test_add_func ("/llm/silent-failure-is-error", test_llm_silent_failure_becomes_error);
  g_test_add_func ("/llm/stream-default-whole-text", test_llm_stream_default_gives_whole_text);
  g_test_add_func ("/llm/stream-pieces", test_llm_stream_pieces);
  g_test_add_func ("/embeddings/batch-defaults-to-embed", test_embed_batch_defaults_to_embed);
  g_test_add_func ("/embeddings/batch-split-by-limits", test_embed_batch_is_split_by_limits);
  g_test_add_func ("/embeddings/results-checked", test_embedding_results_are_checked);
  g_test_add_func ("/reranker/truncates-and-copies", test_rerank_truncates_and_leaves_input_alone);
  g_test_add_func ("/reranker/rescore-orders-and-cuts", test_rescore_orders_and_cuts);
  g_test_add_func ("/embeddings/batch-from-variant", test_embed_batch_from_variant);
  g_test_add_func ("/namespace/names-validated", test_namespace_names_are_validated);
  g_test_add_func ("/namespace/unimplemented-methods", test_namespace_unimplemented_methods_say_so);
  g_test_add_func ("/document-index/round-trip", test_document_index_round_trip);

  return g_test_run ();
}
