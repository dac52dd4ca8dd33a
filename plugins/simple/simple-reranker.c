/* simple-reranker.c: reranking by query-word coverage and proximity
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `simple` reranker needs no model. It gives each result a new score
 * from four signals, each from 0 to 1:
 *
 * - the original score, min-max normalised over the results of the call
 *   (the best becomes 1, the worst 0; all 1 when they are equal), weight
 *   0.5, so the first search's judgement still counts for half;
 * - coverage: the share of the distinct query words the result contains,
 *   each word weighted by its rarity among the candidates of the call
 *   (log (1 + (N + 1) / (df + 0.5)) for a word found in df of N
 *   candidates), weight 0.35;
 * - proximity: 1 / (1 + w − p), where p is the number of distinct query
 *   words present and w the length in words of the shortest stretch of the
 *   result that contains all p of them; 1 when they stand side by side, 0
 *   when none is present; weight 0.15;
 * - a bonus of 0.1 when the whole query (two words or more) appears as a
 *   phrase, in order and adjacent.
 *
 * New scores range from 0 to 1.1; higher is better. Results come back best
 * first; results with equal new scores keep their original order.
 *
 * Words are compared after folding accents and case, by their stems in the
 * `text_language` setting's language ("cats" matches "cat" in English;
 * `none` compares words as they are). For coverage and proximity, the
 * language's few very common words ("the", "what", "how", …) are left out
 * of the query, unless the query has no other words; the phrase bonus
 * uses every word.
 *
 * Limits: no synonyms; text in languages written without
 * spaces (Chinese, Japanese, Thai) is not split into words, so there the
 * word signals rarely help and the original order mostly stands.
 * Normalising the original scores
 * makes small differences between them count fully, which is what lets
 * the word signals reorder close candidates.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>
#include <stache-plugin.h>


/* Tunable weights */
#define WEIGHT_ORIGINAL  0.50
#define WEIGHT_COVERAGE  0.35
#define WEIGHT_PROXIMITY 0.15
#define PHRASE_BONUS     0.10

#define SIMPLE_TYPE_RERANKER (simple_reranker_get_type ())
G_DECLARE_FINAL_TYPE (SimpleReranker, simple_reranker, SIMPLE, RERANKER, StacheProvider)

struct _SimpleReranker
{
  StacheProvider parent_instance;

  StacheStemmer *stemmer;   /* set by initable_init */
};

static void simple_reranker_iface_init (StacheRerankerProviderInterface *iface);
static void simple_reranker_initable_iface_init (GInitableIface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SimpleReranker, simple_reranker, STACHE_TYPE_PROVIDER, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_RERANKER_PROVIDER,
                                                               simple_reranker_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               simple_reranker_initable_iface_init))

/* The reranker's stemmer; English for one made without g_initable_init() */
static StacheStemmer *
get_stemmer (SimpleReranker *self)
{
  static StacheStemmer *english;

  if (self->stemmer != NULL)
    return self->stemmer;
  if (g_once_init_enter (&english))
    g_once_init_leave (&english, stache_stemmer_new ("english", NULL));
  return english;
}

/* Words are compared by a 64-bit hash of their stem (two stems of a
 * store colliding is as likely as never), which the stemmer remembers per
 * thread: stemming costs more than the rest of the reranker, and the
 * same words come back call after call. */
static inline guint64
stem_hash (StacheStemmer *stemmer,
           const char    *word,
           gsize          len)
{
  guint64 h = stache_stemmer_stem_hash (stemmer, word, len, G_GUINT64_CONSTANT (0xcbf29ce484222325));

  return h != 0 ? h : 1;
}

/* The stem hashes of the words of @text, folded, in order; with @surface,
 * the words as they are too (for the stop words) */
static GArray *
split_stems (StacheStemmer  *stemmer,
             const char     *text,
             GPtrArray     **surface)
{
  GArray *stems = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autofree char *folded = NULL;
  const char *pos, *end, *start, *stop;
  gsize len = 0;

  if (surface != NULL)
    *surface = g_ptr_array_new_with_free_func (g_free);
  if (text == NULL)
    return stems;

  folded = stache_text_fold (text, &len);
  pos = folded;
  end = folded + len;
  while (stache_text_next_word (&pos, end, &start, &stop))
    {
      guint64 stem = stem_hash (stemmer, start, (gsize) (stop - start));

      g_array_append_val (stems, stem);
      if (surface != NULL)
        g_ptr_array_add (*surface, g_strndup (start, (gsize) (stop - start)));
    }

  return stems;
}

/* What is known of the query, computed once per call */
typedef struct
{
  GArray *tokens;      /* the stem hash of every word of the query, in order */
  GArray *terms;       /* the distinct stem hashes that count */
} Query;

/* The term @stem is, + 1; 0 when it is none (queries are a few words) */
static inline guint
query_term (const Query *query,
            guint64      stem)
{
  for (guint t = 0; t < query->terms->len; t++)
    if (g_array_index (query->terms, guint64, t) == stem)
      return t + 1;
  return 0;
}

static void
query_init (Query         *query,
            StacheStemmer *stemmer,
            const char    *text)
{
  g_autoptr(GPtrArray) surface = NULL;

  query->tokens = split_stems (stemmer, text, &surface);
  query->terms = g_array_new (FALSE, FALSE, sizeof (guint64));

  for (guint pass = 0; pass < 2 && query->terms->len == 0; pass++)
    {
      /* Pass 0 leaves the stop words out; pass 1, only needed when the
       * query is all stop words, takes them. */
      for (guint i = 0; i < query->tokens->len; i++)
        {
          guint64 stem = g_array_index (query->tokens, guint64, i);

          if (pass == 0 && stache_stemmer_is_stop_word (stemmer, g_ptr_array_index (surface, i), -1))
            continue;
          if (query_term (query, stem) != 0)
            continue;
          g_array_append_val (query->terms, stem);
        }
    }
}

static void
query_clear (Query *query)
{
  g_clear_pointer (&query->terms, g_array_unref);
  g_clear_pointer (&query->tokens, g_array_unref);
}

typedef struct
{
  guint position;  /* index of the word in the result */
  guint term;      /* index of the query term it matches */
} Match;

/* Length in words of the shortest stretch of @matches (in order of
 * position) that holds all @n_present distinct terms. */
static guint
shortest_window (const Match *matches,
                 guint        n_matches,
                 guint        n_terms,
                 guint        n_present)
{
  g_autofree guint *in_window = g_new0 (guint, n_terms);
  guint best = G_MAXUINT;
  guint have = 0;
  guint left = 0;

  for (guint right = 0; right < n_matches; right++)
    {
      if (in_window[matches[right].term]++ == 0)
        have++;

      while (have == n_present)
        {
          guint length = matches[right].position - matches[left].position + 1;

          best = MIN (best, length);
          if (--in_window[matches[left].term] == 0)
            have--;
          left++;
        }
    }

  return best;
}

static gboolean
contains_phrase (GArray *words,
                 GArray *phrase)
{
  if (phrase->len == 0 || words->len < phrase->len)
    return FALSE;

  for (guint start = 0; start + phrase->len <= words->len; start++)
    if (memcmp (&g_array_index (words, guint64, start), phrase->data, phrase->len * sizeof (guint64)) == 0)
      return TRUE;

  return FALSE;
}

/* The word signals of one result text: coverage, proximity and phrase
 * bonus, weighted. */
static double
word_score (const Query  *query,
            GArray       *words,
            const double *weights)
{
  g_autoptr(GArray) matches = NULL;
  g_autofree guint *counts = NULL;
  guint n_terms = query->terms->len;
  guint n_present = 0;
  double coverage, proximity, score;
  double weight_present = 0, weight_all = 0;

  if (n_terms == 0)
    return 0;

  matches = g_array_new (FALSE, FALSE, sizeof (Match));
  counts = g_new0 (guint, n_terms);

  for (guint i = 0; i < words->len; i++)
    {
      guint index = query_term (query, g_array_index (words, guint64, i));
      Match match;

      if (index == 0)
        continue;

      match.position = i;
      match.term = index - 1;
      g_array_append_val (matches, match);
      if (counts[match.term]++ == 0)
        n_present++;
    }

  if (n_present == 0)
    return 0;

  /* Coverage weighs each query word by how rare it is among the
   * candidates: "varroa" in one passage says more than "should" in all. */
  for (guint t = 0; t < n_terms; t++)
    {
      weight_all += weights[t];
      if (counts[t] > 0)
        weight_present += weights[t];
    }
  coverage = weight_all > 0 ? weight_present / weight_all : (double) n_present / n_terms;
  proximity = 1.0 / (1.0 + (shortest_window ((const Match *) (gpointer) matches->data,
                                             matches->len, n_terms, n_present) - n_present));
  score = WEIGHT_COVERAGE * coverage + WEIGHT_PROXIMITY * proximity;

  if (query->tokens->len >= 2 && contains_phrase (words, query->tokens))
    score += PHRASE_BONUS;

  return score;
}

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
simple_reranker_rerank (StacheRerankerProvider  *provider,
                        const char              *query_text,
                        GPtrArray               *results,
                        guint                    top_k,
                        GCancellable            *cancellable,
                        GError                 **error)
{
  StacheStemmer *stemmer = get_stemmer (SIMPLE_RERANKER (provider));
  g_autoptr(GArray) ranked = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree double *weights = NULL;
  Query query;
  double min = INFINITY, max = -INFINITY;
  GList *list = NULL;

  for (guint i = 0; i < results->len; i++)
    {
      double s = stache_search_result_get_score (g_ptr_array_index (results, i));

      if (isfinite (s))
        {
          min = MIN (min, s);
          max = MAX (max, s);
        }
    }

  query_init (&query, stemmer, query_text);
  ranked = g_array_sized_new (FALSE, FALSE, sizeof (Ranked), results->len);

  /* Split every candidate once, and count in how many each query word
   * appears: an inverse document frequency over this call's candidates. */
  texts = g_ptr_array_new_full (results->len, (GDestroyNotify) g_array_unref);
  weights = g_new0 (double, MAX (query.terms->len, 1));
  for (guint i = 0; i < results->len; i++)
    {
      GArray *words = split_stems (stemmer, stache_search_result_get_text (g_ptr_array_index (results, i)),
                                   NULL);
      g_autofree gboolean *seen = g_new0 (gboolean, MAX (query.terms->len, 1));

      for (guint w = 0; w < words->len; w++)
        {
          guint index = query_term (&query, g_array_index (words, guint64, w));

          if (index != 0 && !seen[index - 1])
            {
              seen[index - 1] = TRUE;
              weights[index - 1] += 1;
            }
        }
      g_ptr_array_add (texts, words);
    }
  for (guint t = 0; t < query.terms->len; t++)
    weights[t] = log (1.0 + (results->len + 1.0) / (weights[t] + 0.5));

  for (guint i = 0; i < results->len; i++)
    {
      StacheSearchResult *result = g_ptr_array_index (results, i);
      double original = stache_search_result_get_score (result);
      double normalised;
      Ranked entry;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          query_clear (&query);
          return NULL;
        }

      if (!isfinite (original))
        normalised = 0;
      else if (max > min)
        normalised = (original - min) / (max - min);
      else
        normalised = 1;

      entry.result = result;
      entry.index = i;
      entry.score = WEIGHT_ORIGINAL * normalised +
                    word_score (&query, g_ptr_array_index (texts, i), weights);
      g_array_append_val (ranked, entry);
    }
  query_clear (&query);

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
simple_reranker_iface_init (StacheRerankerProviderInterface *iface)
{
  iface->rerank = simple_reranker_rerank;
}

static void
simple_reranker_finalize (GObject *object)
{
  g_clear_object (&SIMPLE_RERANKER (object)->stemmer);

  G_OBJECT_CLASS (simple_reranker_parent_class)->finalize (object);
}

static void
simple_reranker_class_init (SimpleRerankerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = simple_reranker_finalize;
}

static void
simple_reranker_class_finalize (SimpleRerankerClass *klass)
{
}

static void
simple_reranker_init (SimpleReranker *self)
{
}

/* ---- GInitable: the language of the words ---- */

static gboolean
simple_reranker_initable_init (GInitable     *initable,
                               GCancellable  *cancellable,
                               GError       **error)
{
  SimpleReranker *self = SIMPLE_RERANKER (initable);
  StacheSettings *settings = stache_provider_get_settings (STACHE_PROVIDER (self));
  g_autofree char *language = NULL;
  GError *local_error = NULL;

  if (self->stemmer != NULL)
    return TRUE;
  language = settings != NULL ? stache_settings_get_nonempty (settings, STACHE_TEXT_LANGUAGE_KEY, "english")
                              : g_strdup ("english");
  self->stemmer = stache_stemmer_new (language, &local_error);
  if (self->stemmer == NULL)
    {
      g_propagate_prefixed_error (error, local_error, _("Setting “%s”: "), STACHE_TEXT_LANGUAGE_KEY);
      return FALSE;
    }

  return TRUE;
}

static void
simple_reranker_initable_iface_init (GInitableIface *iface)
{
  iface->init = simple_reranker_initable_init;
}

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  simple_reranker_register_type (G_TYPE_MODULE (module));
  peas_object_module_register_extension_type (module, STACHE_TYPE_RERANKER_PROVIDER,
                                              SIMPLE_TYPE_RERANKER);
}
