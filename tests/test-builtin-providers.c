/* test-builtin-providers.c: the embedded default providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `hashing` embeddings, the `simple` reranker and the `extractive` LLM
 * are loaded from the build tree (STACHE_TEST_BUILTIN_PLUGINS) through the
 * plugin loader, as an application would load them, and used through the
 * public interface functions.
 */
#include <math.h>
#include <string.h>
#include <stache.h>

static StachePluginLoader *loader;

/* ---- helpers ---- */

static StacheSettings *
new_settings (void)
{
  g_autoptr(GError) error = NULL;
  StacheSettings *settings = stache_settings_new_from_file (NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (settings);

  return settings;
}

/* Creates the provider @name of @type with @settings (NULL for fresh
 * ones), which must succeed */
static StacheProvider *
create (StacheProviderType  type,
        const char         *name,
        StacheSettings     *settings)
{
  g_autoptr(StacheSettings) own = NULL;
  g_autoptr(GError) error = NULL;
  StacheProvider *provider;

  if (settings == NULL)
    settings = own = new_settings ();

  provider = stache_plugin_loader_create_provider (loader, type, name, settings, &error);
  g_assert_no_error (error);
  g_assert_true (STACHE_IS_PROVIDER (provider));

  return provider;
}

static StacheEmbeddingProvider *
create_hashing_in (const char *dimensions,
                   const char *language)
{
  g_autoptr(StacheSettings) settings = new_settings ();

  if (dimensions != NULL)
    stache_settings_set_string (settings, "hashing_dimensions", dimensions);
  if (language != NULL)
    stache_settings_set_string (settings, "text_language", language);

  return STACHE_EMBEDDING_PROVIDER (create (STACHE_PROVIDER_TYPE_EMBEDDINGS, "hashing", settings));
}

static StacheEmbeddingProvider *
create_hashing (const char *dimensions)
{
  return create_hashing_in (dimensions, NULL);
}

static GArray *
embed (StacheEmbeddingProvider *embedder,
       const char              *text)
{
  g_autoptr(GError) error = NULL;
  GArray *vector = stache_embedding_provider_embed (embedder, text, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (vector);
  g_assert_cmpuint (vector->len, ==, stache_embedding_provider_get_dimensions (embedder));

  return vector;
}

static double
norm (GArray *v)
{
  double sum = 0;

  for (guint i = 0; i < v->len; i++)
    sum += (double) g_array_index (v, float, i) * g_array_index (v, float, i);

  return sqrt (sum);
}

static double
cosine (GArray *a,
        GArray *b)
{
  double dot = 0;

  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    dot += (double) g_array_index (a, float, i) * g_array_index (b, float, i);

  return dot / (norm (a) * norm (b));
}

static double
text_cosine (StacheEmbeddingProvider *embedder,
             const char              *a,
             const char              *b)
{
  g_autoptr(GArray) va = embed (embedder, a);
  g_autoptr(GArray) vb = embed (embedder, b);

  return cosine (va, vb);
}

static const char * const sample_texts[] = {
  "The quick brown fox jumps over the lazy dog.",
  "Stache stores documents, chunks and embeddings for GNOME applications.",
  "Ünïcödé naïve façade — Straße, ΣΊΣΥΦΟΣ, Москва, 東京タワーは高い。",
  "x",
  "42",
  NULL
};

/* ---- hashing embeddings ---- */

static void
test_hashing_is_deterministic (void)
{
  g_autoptr(StacheEmbeddingProvider) first = create_hashing (NULL);
  g_autoptr(StacheEmbeddingProvider) second = create_hashing (NULL);

  for (guint i = 0; sample_texts[i] != NULL; i++)
    {
      g_autoptr(GArray) a = embed (first, sample_texts[i]);
      g_autoptr(GArray) again = embed (first, sample_texts[i]);
      g_autoptr(GArray) b = embed (second, sample_texts[i]);

      g_assert_cmpmem (a->data, a->len * sizeof (float), again->data, again->len * sizeof (float));
      g_assert_cmpmem (a->data, a->len * sizeof (float), b->data, b->len * sizeof (float));
    }
}

/* The vectors themselves are pinned: stores keep them, and the model id
 * ("hashing:v1:…") promises that they never change. A speed-up of the
 * hashing must give these same vectors (a weighted sum of all components
 * and one component, for ASCII words, accented words, a word longer than
 * the ASCII fast path takes, a script without spaces, repeats). With
 * text_language=none, words count as they are: the vectors of the
 * releases before stemming; with english (the default), by their stems. */
typedef struct
{
  const char *text;
  double      weighted_sum;
  guint       index;
  double      value;
} PinnedVector;

static void
check_pinned (const char         *language,
              const PinnedVector *pinned,
              guint               n_pinned)
{
  g_autoptr(StacheEmbeddingProvider) embedder = create_hashing_in (NULL, language);

  for (guint i = 0; i < n_pinned; i++)
    {
      g_autoptr(GArray) v = embed (embedder, pinned[i].text);
      double sum = 0;

      g_assert_cmpuint (v->len, ==, 384);
      for (guint j = 0; j < v->len; j++)
        sum += g_array_index (v, float, j) * (j + 1);
      /* (to pin a new scheme's vectors) */
      if (g_getenv ("STACHE_TEST_PRINT_PINS") != NULL)
        {
          g_printerr ("%s: %.5f %u %.5f\n", language, sum, pinned[i].index,
                      g_array_index (v, float, pinned[i].index));
          continue;
        }
      g_assert_cmpfloat_with_epsilon (sum, pinned[i].weighted_sum, 1e-3);
      g_assert_cmpfloat_with_epsilon (g_array_index (v, float, pinned[i].index), pinned[i].value, 1e-5);
    }
}

static void
test_hashing_vectors_are_pinned (void)
{
  static const PinnedVector words[] = {
    { "Plugins are discovered by libpeas from .plugin files.", -271.67441, 335, 0.19110 },
    { "Café naïve RÉSUMÉ déjà-vu", 27.54435, 15, 0.13930 },
    { "supercalifragilisticexpialidociouswordthatisverylongindeedmorethansixtytwocharacterslong ok",
      129.18098, 32, 0.13558 },
    { "日本語のテキスト です", -124.13449, 7, 0.19518 },
    { "a b c a b c", 16.31454, 144, 0.38926 },
  };
  static const PinnedVector stems[] = {
    { "Plugins are discovered by libpeas from .plugin files.", -285.32714, 335, 0.14750 },
    { "Café naïve RÉSUMÉ déjà-vu", 55.79414, 15, 0.13667 },
    { "supercalifragilisticexpialidociouswordthatisverylongindeedmorethansixtytwocharacterslong ok",
      111.74010, 32, 0.13527 },
    { "日本語のテキスト です", -167.07409, 7, 0.19518 },
    { "a b c a b c", 25.58596, 144, 0.38926 },
  };

  check_pinned ("none", words, G_N_ELEMENTS (words));
  check_pinned ("english", stems, G_N_ELEMENTS (stems));
}

static void
test_hashing_vectors_have_unit_length (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = create_hashing (NULL);

  for (guint i = 0; sample_texts[i] != NULL; i++)
    {
      g_autoptr(GArray) v = embed (embedder, sample_texts[i]);

      g_assert_cmpfloat_with_epsilon (norm (v), 1.0, 1e-5);
    }
}

static void
test_hashing_text_without_words_is_zero (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = create_hashing (NULL);
  const char * const texts[] = { "", "   ", "?!… — ...", NULL };

  for (guint i = 0; texts[i] != NULL; i++)
    {
      g_autoptr(GArray) v = embed (embedder, texts[i]);

      g_assert_cmpfloat (norm (v), ==, 0.0);
    }
}

static void
test_hashing_dimensions_setting (void)
{
  g_autoptr(StacheEmbeddingProvider) by_default = create_hashing (NULL);
  g_autoptr(StacheEmbeddingProvider) small = create_hashing ("64");
  g_autoptr(StacheEmbeddingProvider) large = create_hashing (" 8192 ");
  g_autoptr(GArray) v = NULL;

  g_assert_cmpuint (stache_embedding_provider_get_dimensions (by_default), ==, 384);
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (small), ==, 64);
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (large), ==, 8192);

  v = embed (small, "sixty-four buckets");
  g_assert_cmpuint (v->len, ==, 64);
  g_assert_cmpfloat_with_epsilon (norm (v), 1.0, 1e-5);
}

static void
test_hashing_invalid_dimensions_fail (void)
{
  const char * const values[] = { "abc", "3", "15", "8193", "-384", "1e3", NULL };

  for (guint i = 0; values[i] != NULL; i++)
    {
      g_autoptr(StacheSettings) settings = new_settings ();
      g_autoptr(GError) error = NULL;
      g_autoptr(StacheProvider) provider = NULL;

      stache_settings_set_string (settings, "hashing_dimensions", values[i]);
      provider = stache_plugin_loader_create_provider (loader, STACHE_PROVIDER_TYPE_EMBEDDINGS,
                                                       "hashing", settings, &error);
      g_assert_null (provider);
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
      g_assert_nonnull (strstr (error->message, "hashing_dimensions"));
      g_assert_nonnull (strstr (error->message, values[i]));
    }
}

static void
test_hashing_folds_accents_and_case (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = create_hashing (NULL);

  g_assert_cmpfloat (text_cosine (embedder, "Café", "cafe"), >, 0.99);
  g_assert_cmpfloat (text_cosine (embedder, "CAFÉ CRÈME", "café crème"), >, 0.99);
  /* Decomposed input (e + U+0301) folds like the precomposed one */
  g_assert_cmpfloat (text_cosine (embedder, "Cafe\xcc\x81", "café"), >, 0.99);
  g_assert_cmpfloat (text_cosine (embedder, "Straße", "STRASSE"), >, 0.99);
  g_assert_cmpfloat (text_cosine (embedder, "Café", "tea"), <, 0.5);
}

static void
test_hashing_related_texts_are_closer (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = create_hashing (NULL);
  const char *query = "the cat sat on the mat";
  double related = text_cosine (embedder, query, "a cat on a mat");
  double unrelated = text_cosine (embedder, query, "stock prices fell sharply");

  g_assert_cmpfloat (related, >, unrelated);
  g_assert_cmpfloat (related, >, 0.3);
  g_assert_cmpfloat (fabs (unrelated), <, 0.2);

  /* Shared word pieces count: a plural is close to its singular */
  g_assert_cmpfloat (text_cosine (embedder, "embedding providers", "embeddings provider"), >,
                     text_cosine (embedder, "embedding providers", "vector databases"));
}

static void
test_hashing_batch_equals_single (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = create_hashing ("128");
  g_autoptr(GArray) batch = NULL;
  g_autoptr(GError) error = NULL;
  guint n_texts = g_strv_length ((char **) sample_texts);

  batch = stache_embedding_provider_embed_batch (embedder, sample_texts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (batch->len, ==, n_texts * 128);

  for (guint i = 0; i < n_texts; i++)
    {
      g_autoptr(GArray) single = embed (embedder, sample_texts[i]);

      g_assert_cmpmem (single->data, 128 * sizeof (float),
                       &g_array_index (batch, float, i * 128), 128 * sizeof (float));
    }
}

typedef struct
{
  StacheEmbeddingProvider *embedder;
  GArray                  *expected[G_N_ELEMENTS (sample_texts)];
} ThreadData;

static gpointer
embed_in_thread (gpointer user_data)
{
  ThreadData *data = user_data;

  for (guint round = 0; round < 50; round++)
    {
      for (guint i = 0; sample_texts[i] != NULL; i++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GArray) v = stache_embedding_provider_embed (data->embedder, sample_texts[i],
                                                                 NULL, &error);

          g_assert_no_error (error);
          g_assert_cmpmem (v->data, v->len * sizeof (float),
                           data->expected[i]->data, data->expected[i]->len * sizeof (float));
        }
    }

  return NULL;
}

static void
test_hashing_is_thread_safe (void)
{
  g_autoptr(StacheEmbeddingProvider) embedder = create_hashing (NULL);
  ThreadData data = { embedder, { NULL } };
  GThread *threads[4];

  for (guint i = 0; sample_texts[i] != NULL; i++)
    data.expected[i] = embed (embedder, sample_texts[i]);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("embed", embed_in_thread, &data);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  for (guint i = 0; sample_texts[i] != NULL; i++)
    g_array_unref (data.expected[i]);
}

/* ---- simple reranker ---- */

typedef struct
{
  const char *id;
  const char *text;
  double      score;
} ResultSpec;

static GPtrArray *
make_results (const ResultSpec *specs,
              guint             n_specs)
{
  GPtrArray *results = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n_specs; i++)
    g_ptr_array_add (results, stache_search_result_new (specs[i].id, specs[i].text, specs[i].score));

  return results;
}

static GPtrArray *
rerank (const char *query,
        GPtrArray  *results,
        guint       top_k)
{
  g_autoptr(StacheRerankerProvider) reranker =
    STACHE_RERANKER_PROVIDER (create (STACHE_PROVIDER_TYPE_RERANKER, "simple", NULL));
  g_autoptr(GError) error = NULL;
  GPtrArray *ranked = stache_reranker_provider_rerank (reranker, query, results, top_k,
                                                       NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ranked);

  return ranked;
}

static const char *
ranked_id (GPtrArray *ranked,
           guint      i)
{
  return stache_search_result_get_id (g_ptr_array_index (ranked, i));
}

static double
ranked_score (GPtrArray *ranked,
              guint      i)
{
  return stache_search_result_get_score (g_ptr_array_index (ranked, i));
}

static const ResultSpec rust_results[] = {
  { "scattered", "Memory allocation is discussed in this chapter about systems languages, "
                 "their runtimes and their garbage collectors; later we mention Rust once, "
                 "and type safety comes at the very end.", 0.90 },
  { "partial", "Rust is a systems programming language focused on speed.", 0.89 },
  { "close", "Rust's memory safety comes from ownership and borrowing.", 0.88 },
  { "unrelated", "Stock prices fell sharply on Monday.", 0.50 },
};

static void
test_simple_puts_close_query_terms_first (void)
{
  g_autoptr(GPtrArray) results = make_results (rust_results, G_N_ELEMENTS (rust_results));
  g_autoptr(GPtrArray) ranked = rerank ("How does Rust memory safety work?", results, 10);

  g_assert_cmpuint (ranked->len, ==, 4);
  g_assert_cmpstr (ranked_id (ranked, 0), ==, "close");
  g_assert_cmpstr (ranked_id (ranked, 3), ==, "unrelated");
  for (guint i = 1; i < ranked->len; i++)
    g_assert_cmpfloat (ranked_score (ranked, i - 1), >=, ranked_score (ranked, i));

  /* The results carry the reranker's scores; the caller's are untouched */
  g_assert_cmpfloat (ranked_score (ranked, 0), !=, 0.88);
  g_assert_cmpfloat (stache_search_result_get_score (g_ptr_array_index (results, 2)), ==, 0.88);
}

static void
test_simple_keeps_ties_in_order (void)
{
  static const ResultSpec specs[] = {
    { "best", "a cat sat on a mat", 0.9 },
    { "a", "nothing to see here", 0.3 },
    { "b", "nothing to see here", 0.3 },
    { "c", "nothing to see here", 0.3 },
    { "d", "nothing to see here", 0.3 },
  };
  g_autoptr(GPtrArray) results = make_results (specs, G_N_ELEMENTS (specs));
  g_autoptr(GPtrArray) ranked = rerank ("giraffe", results, 10);
  const char * const expected[] = { "best", "a", "b", "c", "d" };

  g_assert_cmpuint (ranked->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (ranked_id (ranked, i), ==, expected[i]);
  for (guint i = 2; i < ranked->len; i++)
    g_assert_cmpfloat (ranked_score (ranked, i), ==, ranked_score (ranked, 1));
}

static void
test_simple_truncates_to_top_k (void)
{
  g_autoptr(GPtrArray) results = make_results (rust_results, G_N_ELEMENTS (rust_results));
  g_autoptr(GPtrArray) all = rerank ("rust memory safety", results, 10);
  g_autoptr(GPtrArray) top = rerank ("rust memory safety", results, 2);

  g_assert_cmpuint (top->len, ==, 2);
  for (guint i = 0; i < top->len; i++)
    {
      g_assert_cmpstr (ranked_id (top, i), ==, ranked_id (all, i));
      g_assert_cmpfloat (ranked_score (top, i), ==, ranked_score (all, i));
    }
}

static void
test_simple_query_without_words_keeps_original_order (void)
{
  g_autoptr(GPtrArray) results = make_results (rust_results, G_N_ELEMENTS (rust_results));
  g_autoptr(GPtrArray) ranked = rerank ("?!", results, 10);

  for (guint i = 0; i < ranked->len; i++)
    g_assert_cmpstr (ranked_id (ranked, i), ==, rust_results[i].id);
}

/* ---- extractive LLM ---- */

#define ANSWER_HEADER "Extractive answer (no language model configured; quoting the sources):\n\n"
#define ANSWER_NOTHING "Extractive answer: none of the sources contains the words of the question."

static const char eiffel_sources[] =
  "Sources:\n"
  "[1] notes/paris.md\n"
  "Paris is the capital of France. It is known for its museums and cafés.\n"
  "\n"
  "[2] notes/eiffel.md\n"
  "The Eiffel Tower was completed in 1889\n"
  "for the World's Fair. It is 330 metres tall.\n"
  "\n"
  "[3] notes/london.md\n"
  "London has many bridges. Its tower is older than Paris's.\n";

static StacheCompletion *
generate_with (StacheSettings *settings,
               const char     *prompt)
{
  g_autoptr(StacheLlmProvider) llm =
    STACHE_LLM_PROVIDER (create (STACHE_PROVIDER_TYPE_LLM, "extractive", settings));
  g_autoptr(GError) error = NULL;
  StacheCompletion *completion = stache_llm_provider_generate (llm, prompt, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (completion);

  return completion;
}

static StacheCompletion *
generate (const char *prompt)
{
  return generate_with (NULL, prompt);
}

static void
test_extractive_cites_the_right_source (void)
{
  g_autofree char *prompt = g_strconcat ("Question: When was the Eiffel Tower completed?\n\n",
                                         eiffel_sources, NULL);
  g_autoptr(StacheCompletion) completion = generate (prompt);
  const char *text = stache_completion_get_text (completion);

  g_assert_cmpstr (text, ==,
                   ANSWER_HEADER
                   "The Eiffel Tower was completed in 1889 for the World's Fair. [2]");
  g_assert_cmpstr (stache_completion_get_model (completion), ==, "extractive");
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "stop");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, -1);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, -1);
}

static void
test_extractive_quotes_several_sentences_in_source_order (void)
{
  static const char prompt[] =
    "Question: Which bridges and museums are there?\r\n"
    "\r\n"
    "Sources:\r\n"
    "[1] museums.txt\r\n"
    "The city has three museums. The weather is mild.\r\n"
    "\r\n"
    "[2] bridges.txt\r\n"
    "References follow.\r\n"
    "\r\n"
    "[5] Smith, Bridges and museums of Europe, 2003.\r\n"
    "\r\n"
    "[3] more.txt\r\n"
    "Bridges cross the river. Nobody knows.\r\n";
  g_autoptr(StacheCompletion) completion = generate (prompt);

  /* "[5]" is a passage line of [2], not a source: sources are numbered in
   * order. The best sentence has two of the question's words, the others
   * one, which is half as good and still enough. */
  g_assert_cmpstr (stache_completion_get_text (completion), ==,
                   ANSWER_HEADER
                   "The city has three museums. [1] "
                   "[5] Smith, Bridges and museums of Europe, 2003. [2] "
                   "Bridges cross the river. [3]");
}

static void
test_extractive_keeps_list_items_apart (void)
{
  g_autoptr(StacheCompletion) completion =
    generate ("Question: Which package provides the tower?\n\nSources:\n"
              "[1] README.md\n"
              "# Installing\n"
              "Requirements:\n"
              "- the tower package\n"
              "- a compiler\n"
              "1. unpack it\n");

  /* Items and headings carry no full stop; each is a sentence of its own */
  g_assert_cmpstr (stache_completion_get_text (completion), ==,
                   ANSWER_HEADER "- the tower package [1]");
}

static void
test_extractive_says_when_nothing_matches (void)
{
  g_autofree char *prompt = g_strconcat ("Question: What is the boiling point of mercury?\n\n",
                                         eiffel_sources, NULL);
  g_autoptr(StacheCompletion) completion = generate (prompt);

  g_assert_cmpstr (stache_completion_get_text (completion), ==, ANSWER_NOTHING);
  g_assert_cmpstr (stache_completion_get_model (completion), ==, "extractive");
}

static void
test_extractive_reads_a_prompt_without_the_format (void)
{
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(StacheCompletion) single_line = NULL;

  completion = generate ("How tall is the Eiffel Tower?\n"
                         "Paris has many cafés. The Eiffel Tower is 330 metres tall.");
  g_assert_cmpstr (stache_completion_get_text (completion), ==,
                   ANSWER_HEADER "The Eiffel Tower is 330 metres tall. [1]");

  /* A lone question has nothing to quote, not even itself */
  single_line = generate ("How tall is the Eiffel Tower?");
  g_assert_cmpstr (stache_completion_get_text (single_line), ==, ANSWER_NOTHING);
}

static void
test_extractive_max_sentences_setting (void)
{
  g_autoptr(StacheSettings) settings = new_settings ();
  g_autoptr(StacheCompletion) completion = NULL;
  const char *text;

  stache_settings_set_string (settings, "extractive_max_sentences", "1");
  completion = generate_with (settings,
                              "Question: tower\n\nSources:\n"
                              "[1] a\nThe tower is tall.\n\n"
                              "[2] b\nThe tower is old.\n");
  text = stache_completion_get_text (completion);
  g_assert_cmpstr (text, ==, ANSWER_HEADER "The tower is tall. [1]");

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(StacheProvider) provider = NULL;

      stache_settings_set_string (settings, "extractive_max_sentences", i == 0 ? "0" : "many");
      provider = stache_plugin_loader_create_provider (loader, STACHE_PROVIDER_TYPE_LLM,
                                                       "extractive", settings, &error);
      g_assert_null (provider);
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
      g_assert_nonnull (strstr (error->message, "extractive_max_sentences"));
    }
}

int
main (int    argc,
      char **argv)
{
  const char *plugins = g_getenv ("STACHE_TEST_BUILTIN_PLUGINS");
  int status;

  if (plugins == NULL)
    {
      g_printerr ("STACHE_TEST_BUILTIN_PLUGINS must name the folder of the built plugins\n");
      return 1;
    }
  g_setenv ("STACHE_PLUGIN_PATH", plugins, TRUE);

  g_test_init (&argc, &argv, NULL);

  loader = stache_plugin_loader_new ();

  g_test_add_func ("/hashing/deterministic", test_hashing_is_deterministic);
  g_test_add_func ("/hashing/pinned", test_hashing_vectors_are_pinned);
  g_test_add_func ("/hashing/unit-length", test_hashing_vectors_have_unit_length);
  g_test_add_func ("/hashing/no-words-is-zero", test_hashing_text_without_words_is_zero);
  g_test_add_func ("/hashing/dimensions-setting", test_hashing_dimensions_setting);
  g_test_add_func ("/hashing/invalid-dimensions", test_hashing_invalid_dimensions_fail);
  g_test_add_func ("/hashing/folds-accents-and-case", test_hashing_folds_accents_and_case);
  g_test_add_func ("/hashing/related-closer", test_hashing_related_texts_are_closer);
  g_test_add_func ("/hashing/batch-equals-single", test_hashing_batch_equals_single);
  g_test_add_func ("/hashing/thread-safe", test_hashing_is_thread_safe);
  g_test_add_func ("/simple/close-terms-first", test_simple_puts_close_query_terms_first);
  g_test_add_func ("/simple/stable-ties", test_simple_keeps_ties_in_order);
  g_test_add_func ("/simple/top-k", test_simple_truncates_to_top_k);
  g_test_add_func ("/simple/query-without-words", test_simple_query_without_words_keeps_original_order);
  g_test_add_func ("/extractive/cites-source", test_extractive_cites_the_right_source);
  g_test_add_func ("/extractive/several-sentences", test_extractive_quotes_several_sentences_in_source_order);
  g_test_add_func ("/extractive/list-items", test_extractive_keeps_list_items_apart);
  g_test_add_func ("/extractive/nothing-found", test_extractive_says_when_nothing_matches);
  g_test_add_func ("/extractive/unformatted-prompt", test_extractive_reads_a_prompt_without_the_format);
  g_test_add_func ("/extractive/max-sentences", test_extractive_max_sentences_setting);

  status = g_test_run ();

  g_clear_object (&loader);

  return status;
}
