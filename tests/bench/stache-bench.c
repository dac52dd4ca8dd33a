/* stache-bench.c: throughput and latency figures for a StacheStore
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Not a test: it prints figures. In a fresh temporary store it ingests
 * synthetic paragraphs (one chunk each) up to a first size and then up to a
 * second one (10k and 100k chunks; 1k and 10k with --quick), and at each
 * size measures search latency: hybrid search through the store, and the
 * raw exact vector scan and keyword search of the store's vector database.
 * Baselines measured in the same run put the figures in proportion: the
 * machine's memory read bandwidth and a dot-product scan over the same
 * number of vectors held in one malloc'd array.
 *
 * The text: sentences of words drawn from a Zipf distribution over a
 * vocabulary of a few hundred common English words followed by
 * pronounceable made-up ones, so that, as in real text, a few words are
 * everywhere and most are rare. Everything comes from a seeded generator:
 * the same seed gives the same corpus and queries. A query is five words of
 * a random stored paragraph.
 *
 * Providers come from the settings as usual (the embedded defaults unless
 * the environment chooses others); when STACHE_PLUGIN_PATH is unset the
 * plugins of the build tree are used. Nothing is read from or written to
 * the user's data or configuration folders.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <stache.h>

#ifndef STACHE_BENCH_PLUGIN_DIR
#define STACHE_BENCH_PLUGIN_DIR ""
#endif

#define NAMESPACE         "bench"
#define TOP_K             10
#define WARMUP_QUERIES    5
#define QUERY_WORDS       5
#define N_COMMON_WORDS    G_N_ELEMENTS (common_words)
#define VOCABULARY        30000
#define ZIPF_EXPONENT     1.0
#define PARAGRAPH_MIN     660    /* a paragraph ends after the sentence that reaches this */
#define PARAGRAPH_SPREAD  80     /* ... plus up to this many characters */
#define PARAGRAPH_LIMIT   780    /* and never exceeds this (chunk_size is 800) */
#define BANDWIDTH_BYTES   ((gsize) 512 * 1024 * 1024)
#define BANDWIDTH_RUNS    3
#define BASELINE_RUNS     7

/* ---- random numbers (splitmix64: small, fast, the same everywhere) ---- */

typedef struct
{
  guint64 state;
} Rng;

static guint64
rng_next (Rng *rng)
{
  guint64 z = (rng->state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* A generator for stream @stream of seed @seed: paragraph i and query j
 * each have their own stream, so any of them can be made again alone. */
static void
rng_init (Rng     *rng,
          guint64  seed,
          guint64  stream)
{
  rng->state = seed * G_GUINT64_CONSTANT (0xd1342543de82ef95) + stream;
  rng_next (rng);
}

static double
rng_double (Rng *rng)
{
  return (double) (rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);
}

static guint
rng_below (Rng   *rng,
           guint  n)
{
  return (guint) (rng_double (rng) * n);
}

/* ---- synthetic text ---- */

/* Frequent words first; the rest of the vocabulary is made up. */
static const char * const common_words[] = {
  "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
  "by", "on", "not", "this", "are", "or", "from", "at", "which", "an", "but", "have", "has",
  "were", "can", "all", "their", "there", "been", "one", "more", "when", "will", "would",
  "who", "so", "no", "if", "out", "time", "into", "only", "other", "new", "some", "could",
  "these", "two", "may", "first", "then", "any", "like", "now", "over", "such", "our", "man",
  "most", "even", "made", "after", "also", "did", "many", "before", "must", "through",
  "years", "where", "much", "your", "way", "well", "down", "should", "because", "each",
  "just", "those", "people", "how", "too", "little", "state", "good", "very", "make",
  "world", "still", "own", "see", "men", "work", "long", "here", "between", "both", "life",
  "being", "under", "never", "day", "same", "another", "know", "while", "last", "might",
  "great", "old", "year", "off", "come", "since", "against", "go", "came", "right", "used",
  "take", "three", "house", "water", "system", "small", "number", "part", "place", "found",
  "river", "light", "stone", "market", "garden", "engine", "signal", "letter", "window",
  "paper", "field", "mountain", "harbor", "bridge", "forest", "island", "winter", "summer",
  "morning", "evening", "village", "station", "kitchen", "library", "machine", "program",
  "network", "record", "measure", "balance", "pattern", "surface", "pressure", "weather",
  "journey", "history", "science", "music", "colour", "animal", "bottle", "candle",
  "copper", "silver", "timber", "harvest", "orchard", "meadow", "valley", "glacier",
  "desert", "canyon", "lantern", "compass", "anchor", "ribbon", "thread", "needle",
  "basket", "ladder", "hammer", "kettle", "pillow", "blanket", "saddle", "wagon", "sledge",
  "carpet", "mirror", "button", "pocket", "feather", "pebble", "shadow", "thunder",
  "whisper", "quarrel", "bargain", "venture", "council", "charter", "ledger", "invoice",
  "parcel", "courier", "tariff", "voyage", "cargo", "vessel", "harpoon", "lighthouse",
  "beacon", "furnace", "boiler", "turbine", "piston", "valve", "gasket", "spindle",
  "bobbin", "loom", "quarry", "granite", "marble", "slate", "chalk", "amber", "resin",
  "walnut", "chestnut", "willow", "birch", "cedar", "maple", "juniper", "thistle",
  "clover", "fennel", "saffron", "pepper", "ginger", "barley", "oats", "millet", "honey",
  "butter", "cheese", "bread", "apple", "plum", "cherry", "lemon", "quince", "falcon",
  "heron", "otter", "badger", "beaver", "salmon", "trout", "oyster", "lobster", "walrus",
  "reindeer", "wolf", "fox", "hare", "owl", "raven", "sparrow", "swallow", "quickly",
  "slowly", "rarely", "often", "gently", "bright", "quiet", "narrow", "broad", "steep",
  "shallow", "ancient", "modern", "careful", "hollow", "tidy", "rough", "smooth", "heavy",
  "carries", "builds", "repairs", "measures", "follows", "gathers", "divides", "returns",
  "explains", "records", "listens", "travels", "remembers", "borrows", "polishes",
};

typedef struct
{
  char    **words;   /* VOCABULARY words, most frequent first */
  double   *cdf;     /* cumulative Zipf probabilities */
  guint64   seed;
} Generator;

static void
generator_init (Generator *gen,
                guint64    seed)
{
  static const char consonants[] = "bdfgklmnprstvz";
  static const char vowels[] = "aeiou";
  const guint n_syllables = (sizeof consonants - 1) * (sizeof vowels - 1);
  double total = 0;

  gen->seed = seed;
  gen->words = g_new0 (char *, VOCABULARY + 1);
  gen->cdf = g_new (double, VOCABULARY);

  for (guint r = 0; r < VOCABULARY; r++)
    {
      if (r < N_COMMON_WORDS)
        {
          gen->words[r] = g_strdup (common_words[r]);
        }
      else
        {
          /* Two syllables while they last, then three: every syllable is
           * two letters, so each number gives its own word. */
          guint x = r - N_COMMON_WORDS;
          guint length = x < n_syllables * n_syllables ? 2 : 3;
          GString *word = g_string_new (NULL);

          if (length == 3)
            x -= n_syllables * n_syllables;
          for (guint s = 0; s < length; s++, x /= n_syllables)
            {
              guint syllable = x % n_syllables;

              g_string_append_c (word, consonants[syllable / (sizeof vowels - 1)]);
              g_string_append_c (word, vowels[syllable % (sizeof vowels - 1)]);
            }
          gen->words[r] = g_string_free (word, FALSE);
        }

      total += 1.0 / pow (r + 1.0, ZIPF_EXPONENT);
      gen->cdf[r] = total;
    }

  for (guint r = 0; r < VOCABULARY; r++)
    gen->cdf[r] /= total;
}

static void
generator_clear (Generator *gen)
{
  g_clear_pointer (&gen->words, g_strfreev);
  g_clear_pointer (&gen->cdf, g_free);
}

static const char *
generator_word (const Generator *gen,
                Rng             *rng)
{
  double u = rng_double (rng);
  guint lo = 0, hi = VOCABULARY - 1;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (gen->cdf[mid] < u)
        lo = mid + 1;
      else
        hi = mid;
    }

  return gen->words[lo];
}

/* Paragraph @index: sentences of 6 to 18 words until PARAGRAPH_MIN plus
 * a random spread is reached, never longer than PARAGRAPH_LIMIT. */
static void
generator_paragraph (const Generator *gen,
                     guint            index,
                     GString         *out)
{
  Rng rng;
  gsize target;
  gboolean full = FALSE;

  rng_init (&rng, gen->seed, index);
  target = PARAGRAPH_MIN + rng_below (&rng, PARAGRAPH_SPREAD);
  g_string_truncate (out, 0);

  while (!full && out->len < target)
    {
      guint n_words = 6 + rng_below (&rng, 13);

      if (out->len > 0)
        g_string_append_c (out, ' ');

      for (guint w = 0; w < n_words; w++)
        {
          const char *word = generator_word (gen, &rng);
          gsize word_len = strlen (word);

          /* room for ", word." */
          if (w > 0 && out->len + word_len + 3 > PARAGRAPH_LIMIT)
            {
              full = TRUE;
              break;
            }
          if (w > 0)
            g_string_append_c (out, rng_below (&rng, 12) == 0 ? ',' : ' ');
          if (w > 0 && out->str[out->len - 1] == ',')
            g_string_append_c (out, ' ');

          g_string_append (out, word);
          if (w == 0)
            out->str[out->len - word_len] = g_ascii_toupper (word[0]);
        }
      g_string_append_c (out, '.');
    }
}

/* Query @index: QUERY_WORDS words of a random paragraph among the first
 * @n_paragraphs; *@paragraph says which. */
static char *
generator_query (const Generator *gen,
                 guint            index,
                 guint            n_paragraphs,
                 guint           *paragraph)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) query = g_string_new (NULL);
  g_auto(GStrv) words = NULL;
  guint n_words = 0;
  Rng rng;

  rng_init (&rng, gen->seed, (G_GUINT64_CONSTANT (1) << 40) | index);
  *paragraph = rng_below (&rng, n_paragraphs);
  generator_paragraph (gen, *paragraph, text);

  words = g_strsplit_set (text->str, " ,.", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] != '\0')
        words[n_words++] = words[i];
      else
        g_free (words[i]);
    }
  words[n_words] = NULL;

  for (guint i = 0; i < QUERY_WORDS && n_words > 0; i++)
    {
      g_autofree char *lower = g_ascii_strdown (words[rng_below (&rng, n_words)], -1);

      if (query->len > 0)
        g_string_append_c (query, ' ');
      g_string_append (query, lower);
    }

  return g_string_free (g_steal_pointer (&query), FALSE);
}

/* ---- statistics ---- */

typedef struct
{
  double median;   /* microseconds */
  double p99;
  double mean;
} Latency;

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Median (mean of the two middle values for an even count) and p99
 * (nearest rank) of @samples, which get sorted. */
static Latency
latency_of (GArray *samples)
{
  Latency l = { 0, 0, 0 };
  double *s = (double *) (gpointer) samples->data;
  guint n = samples->len;
  guint rank;

  if (n == 0)
    return l;

  g_array_sort (samples, compare_double);
  l.median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  rank = (guint) ceil (0.99 * n);
  l.p99 = s[MAX (rank, 1) - 1];
  for (guint i = 0; i < n; i++)
    l.mean += s[i];
  l.mean /= n;

  return l;
}

/* ---- in-memory baselines ---- */

static volatile float bench_sink;

#if defined(__GNUC__) || defined(__clang__)
# define HAVE_VECTOR_EXTENSIONS 1
typedef float Vec4 __attribute__ ((vector_size (16)));

static inline Vec4
load4 (const float *p)
{
  Vec4 v;

  memcpy (&v, p, sizeof v);
  return v;
}

static inline float
hsum4 (Vec4 v)
{
  return (v[0] + v[1]) + (v[2] + v[3]);
}
#endif

/* The sum of @n floats, eight 4-wide sums at a time so the loads, not the
 * additions, set the pace. */
static float
sum_floats (const float *a,
            gsize        n)
{
  gsize done = 0;
  float total = 0;
#ifdef HAVE_VECTOR_EXTENSIONS
  Vec4 s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 }, s4 = { 0 }, s5 = { 0 }, s6 = { 0 }, s7 = { 0 };
  gsize n_blocks = n / 32;

  for (gsize block = 0; block < n_blocks; block++)
    {
      const float *p = a + block * 32;

      s0 += load4 (p);
      s1 += load4 (p + 4);
      s2 += load4 (p + 8);
      s3 += load4 (p + 12);
      s4 += load4 (p + 16);
      s5 += load4 (p + 20);
      s6 += load4 (p + 24);
      s7 += load4 (p + 28);
    }
  total = hsum4 (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)));
  done = n_blocks * 32;
#endif
  for (gsize i = done; i < n; i++)
    total += a[i];

  return total;
}

/* The plain loop: one running sum per row. */
static float
dot_plain (const float *a,
           const float *b,
           gsize        n)
{
  float s = 0;

  for (gsize i = 0; i < n; i++)
    s += a[i] * b[i];

  return s;
}

static float
dot_vector (const float *a,
            const float *b,
            gsize        n)
{
  gsize done = 0;
  float total = 0;
#ifdef HAVE_VECTOR_EXTENSIONS
  Vec4 s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 };
  gsize n_blocks = n / 16;

  for (gsize block = 0; block < n_blocks; block++)
    {
      const float *p = a + block * 16, *q = b + block * 16;

      s0 += load4 (p) * load4 (q);
      s1 += load4 (p + 4) * load4 (q + 4);
      s2 += load4 (p + 8) * load4 (q + 8);
      s3 += load4 (p + 12) * load4 (q + 12);
    }
  total = hsum4 ((s0 + s1) + (s2 + s3));
  done = n_blocks * 16;
#endif
  for (gsize i = done; i < n; i++)
    total += a[i] * b[i];

  return total;
}

typedef float (*DotFunc) (const float *a, const float *b, gsize n);

/* An exact top-TOP_K scan of @n_rows rows of @dims floats; returns the best
 * score so that the work is used. */
static float
scan_rows (const float *rows,
           gsize        n_rows,
           gsize        dims,
           const float *query,
           DotFunc      dot)
{
  float best[TOP_K];
  guint n_best = 0;

  for (gsize r = 0; r < n_rows; r++)
    {
      float score = dot (rows + r * dims, query, dims);
      guint at;

      if (n_best == TOP_K && score <= best[TOP_K - 1])
        continue;
      at = n_best < TOP_K ? n_best++ : TOP_K - 1;
      while (at > 0 && best[at - 1] < score)
        {
          best[at] = best[at - 1];
          at--;
        }
      best[at] = score;
    }

  return n_best > 0 ? best[0] : 0;
}

/* Best of BANDWIDTH_RUNS sums of a BANDWIDTH_BYTES array, in bytes/s. */
static double
measure_bandwidth (void)
{
  gsize n = BANDWIDTH_BYTES / sizeof (float);
  float *a = g_aligned_alloc (n, sizeof (float), 64);
  double best = 0;

  /* Writing every page first keeps page faults out of the timing. */
  for (gsize i = 0; i < n; i++)
    a[i] = (float) (i & 1023) * (1.0f / 1024.0f);

  for (guint run = 0; run < BANDWIDTH_RUNS; run++)
    {
      gint64 start = g_get_monotonic_time ();
      float sum = sum_floats (a, n);
      gint64 elapsed = MAX (g_get_monotonic_time () - start, 1);

      bench_sink = sum;
      best = MAX (best, (double) BANDWIDTH_BYTES * G_USEC_PER_SEC / elapsed);
    }

  g_aligned_free (a);
  return best;
}

typedef struct
{
  double plain_us;    /* median scan time, plain loop */
  double vector_us;   /* median scan time, vectorised */
} Baseline;

/* Median time of BASELINE_RUNS scans of @n_rows random rows of @dims
 * floats held in one array, with the plain and the vectorised loop. */
static Baseline
measure_scan_baseline (gsize         n_rows,
                       gsize         dims,
                       GPtrArray    *queries,
                       guint64       seed)
{
  Baseline result;
  g_autoptr(GArray) plain = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) vector = g_array_new (FALSE, FALSE, sizeof (double));
  float *rows = g_aligned_alloc (n_rows * dims, sizeof (float), 64);
  Rng rng;

  rng_init (&rng, seed, G_GUINT64_CONSTANT (2) << 40);
  for (gsize i = 0; i < n_rows * dims; i++)
    rows[i] = (float) (rng_double (&rng) * 2 - 1) * 0.05f;

  for (guint run = 0; run < BASELINE_RUNS; run++)
    {
      GArray *q = g_ptr_array_index (queries, run % queries->len);
      const float *query = (const float *) (gpointer) q->data;
      gint64 start;
      double elapsed;

      start = g_get_monotonic_time ();
      bench_sink = scan_rows (rows, n_rows, dims, query, dot_plain);
      elapsed = (double) (g_get_monotonic_time () - start);
      g_array_append_val (plain, elapsed);

      start = g_get_monotonic_time ();
      bench_sink = scan_rows (rows, n_rows, dims, query, dot_vector);
      elapsed = (double) (g_get_monotonic_time () - start);
      g_array_append_val (vector, elapsed);
    }

  g_aligned_free (rows);
  result.plain_us = latency_of (plain).median;
  result.vector_us = latency_of (vector).median;
  return result;
}

/* ---- the store ---- */

typedef struct
{
  char                    *tmp;
  char                    *db_path;
  Generator                gen;
  StacheStore             *store;
  StacheVectorDbProvider  *db;
  StacheEmbeddingProvider *embedder;
  GPtrArray               *document_ids;   /* of paragraph i */
  guint                    n_queries;
  guint                    dims;
} Bench;

typedef struct
{
  guint   from, to;
  guint64 chunks;
  guint   not_one_chunk;   /* paragraphs that did not give exactly one chunk */
  double  seconds;
  guint64 db_bytes;
} Stage;

typedef struct
{
  guint   n_chunks;
  Latency hybrid, vector, keyword, embed;
  guint   hybrid_found;     /* queries whose paragraph was in the hybrid top TOP_K */
  double  scan_bytes;       /* n_chunks × dims × 4 */
  double  scan_rate;        /* scan_bytes / median raw vector scan, bytes/s */
  Baseline baseline;
} SearchFigures;

static guint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

static guint64
db_size (const Bench *b)
{
  g_autofree char *wal = g_strconcat (b->db_path, "-wal", NULL);

  return file_size (b->db_path) + file_size (wal);
}

static gboolean
ingest_stage (Bench    *b,
              Stage    *stage,
              GError  **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  gint64 start = g_get_monotonic_time ();
  gint64 last_report = start;

  stage->chunks = 0;
  stage->not_one_chunk = 0;

  for (guint i = stage->from; i < stage->to; i++)
    {
      g_autoptr(StacheIngestResult) result = NULL;
      g_autofree char *source = g_strdup_printf ("bench:%07u", i);
      guint count;

      generator_paragraph (&b->gen, i, text);
      result = stache_store_ingest_text_full (b->store, text->str, NAMESPACE, source, NULL, NULL,
                                              NULL, error);
      if (result == NULL)
        return FALSE;

      count = stache_ingest_result_get_chunk_count (result);
      stage->chunks += count;
      if (count != 1)
        stage->not_one_chunk++;
      g_ptr_array_add (b->document_ids, g_strdup (stache_ingest_result_get_document_id (result)));

      if (g_get_monotonic_time () - last_report > 5 * G_USEC_PER_SEC)
        {
          last_report = g_get_monotonic_time ();
          fprintf (stderr, "  ... %u chunks stored, %.0f chunks/s\n", i + 1,
                   (i + 1 - stage->from) * (double) G_USEC_PER_SEC / (last_report - start));
        }
    }

  stage->seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  stage->db_bytes = db_size (b);
  return TRUE;
}

static gboolean
measure_search (Bench          *b,
                guint           n_chunks,
                SearchFigures  *fig,
                GError        **error)
{
  g_autoptr(GPtrArray) queries = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) vectors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GArray) targets = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) t_hybrid = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) t_vector = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) t_keyword = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) t_embed = g_array_new (FALSE, FALSE, sizeof (double));
  guint n = b->n_queries + WARMUP_QUERIES;

  memset (fig, 0, sizeof *fig);
  fig->n_chunks = n_chunks;

  for (guint q = 0; q < n; q++)
    {
      guint paragraph;
      char *query = generator_query (&b->gen, q, n_chunks, &paragraph);
      gint64 start = g_get_monotonic_time ();
      GArray *vector = stache_embedding_provider_embed (b->embedder, query, NULL, error);
      double elapsed = (double) (g_get_monotonic_time () - start);

      if (vector == NULL)
        {
          g_free (query);
          return FALSE;
        }
      if (q >= WARMUP_QUERIES)
        g_array_append_val (t_embed, elapsed);
      g_ptr_array_add (queries, query);
      g_ptr_array_add (vectors, vector);
      g_array_append_val (targets, paragraph);
    }

  /* The first WARMUP_QUERIES of each kind are not timed. */
  for (guint q = 0; q < n; q++)
    {
      g_autoptr(GPtrArray) results = NULL;
      gint64 start = g_get_monotonic_time ();
      double elapsed;

      results = stache_vector_db_provider_search (b->db, NAMESPACE, g_ptr_array_index (vectors, q),
                                                  TOP_K, NULL, NULL, error);
      elapsed = (double) (g_get_monotonic_time () - start);
      if (results == NULL)
        return FALSE;
      if (q >= WARMUP_QUERIES)
        g_array_append_val (t_vector, elapsed);
    }

  for (guint q = 0; q < n; q++)
    {
      g_autoptr(GPtrArray) results = NULL;
      gint64 start = g_get_monotonic_time ();
      double elapsed;

      results = stache_vector_db_provider_keyword_search (b->db, NAMESPACE, g_ptr_array_index (queries, q),
                                                          TOP_K, NULL, NULL, error);
      elapsed = (double) (g_get_monotonic_time () - start);
      if (results == NULL)
        return FALSE;
      if (q >= WARMUP_QUERIES)
        g_array_append_val (t_keyword, elapsed);
    }

  for (guint q = 0; q < n; q++)
    {
      g_autoptr(GPtrArray) results = NULL;
      gint64 start = g_get_monotonic_time ();
      const char *wanted;
      double elapsed;

      results = stache_store_search_full (b->store, g_ptr_array_index (queries, q), NAMESPACE, TOP_K,
                                          STACHE_SEARCH_MODE_HYBRID, NULL, NULL, error);
      elapsed = (double) (g_get_monotonic_time () - start);
      if (results == NULL)
        return FALSE;
      if (q < WARMUP_QUERIES)
        continue;

      g_array_append_val (t_hybrid, elapsed);
      wanted = g_ptr_array_index (b->document_ids, g_array_index (targets, guint, q));
      for (guint i = 0; i < results->len; i++)
        {
          if (g_strcmp0 (stache_search_result_get_document_id (g_ptr_array_index (results, i)), wanted) == 0)
            {
              fig->hybrid_found++;
              break;
            }
        }
    }

  fig->hybrid = latency_of (t_hybrid);
  fig->vector = latency_of (t_vector);
  fig->keyword = latency_of (t_keyword);
  fig->embed = latency_of (t_embed);
  fig->scan_bytes = (double) n_chunks * b->dims * sizeof (float);
  fig->scan_rate = fig->scan_bytes * G_USEC_PER_SEC / MAX (fig->vector.median, 1);

  /* The same number of vectors in memory, scanned by a plain C loop. */
  g_ptr_array_remove_range (vectors, 0, WARMUP_QUERIES);
  fig->baseline = measure_scan_baseline (n_chunks, b->dims, vectors, b->gen.seed);

  return TRUE;
}

/* ---- setting up and cleaning up ---- */

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);

  if (dir != NULL)
    {
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

static gboolean
bench_open (Bench    *b,
            guint64   seed,
            GError  **error)
{
  g_autoptr(StacheSettings) settings = NULL;
  const char *plugin_path = g_getenv ("STACHE_PLUGIN_PATH");
  static const char * const subdirs[][2] = {
    { "XDG_DATA_HOME", "data" },
    { "XDG_CONFIG_HOME", "config" },
    { "XDG_DATA_DIRS", "data-dirs" },
    { "XDG_CACHE_HOME", "cache" },
  };

  b->tmp = g_dir_make_tmp ("stache-bench-XXXXXX", error);
  if (b->tmp == NULL)
    return FALSE;

  /* Before any settings or plugin loader exists: nothing of the user's
   * own setup, and the build tree's plugins unless told otherwise. */
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir = g_build_filename (b->tmp, subdirs[i][1], NULL);

      g_mkdir_with_parents (dir, 0700);
      g_setenv (subdirs[i][0], dir, TRUE);
    }
  if ((plugin_path == NULL || plugin_path[0] == '\0') && STACHE_BENCH_PLUGIN_DIR[0] != '\0')
    g_setenv ("STACHE_PLUGIN_PATH", STACHE_BENCH_PLUGIN_DIR, TRUE);

  b->db_path = g_build_filename (b->tmp, "bench.db", NULL);
  settings = stache_settings_new ();
  stache_settings_set_string (settings, "sqlite_path", b->db_path);

  b->store = stache_store_new (settings, error);
  if (b->store == NULL)
    return FALSE;
  g_object_get (b->store, "vector-db-provider", &b->db, "embedding-provider", &b->embedder, NULL);
  b->dims = stache_embedding_provider_get_dimensions (b->embedder);
  b->document_ids = g_ptr_array_new_with_free_func (g_free);
  generator_init (&b->gen, seed);

  return TRUE;
}

static void
bench_close (Bench    *b,
             gboolean  keep)
{
  g_clear_object (&b->db);
  g_clear_object (&b->embedder);
  g_clear_object (&b->store);
  g_clear_pointer (&b->document_ids, g_ptr_array_unref);
  generator_clear (&b->gen);

  if (b->tmp != NULL && !keep)
    remove_tree (b->tmp);
  else if (b->tmp != NULL)
    fprintf (stderr, "kept %s\n", b->tmp);
  g_clear_pointer (&b->db_path, g_free);
  g_clear_pointer (&b->tmp, g_free);
}

/* ---- output ---- */

static char *
format_count (guint n)
{
  if (n >= 1000 && n % 1000 == 0)
    return g_strdup_printf ("%uk", n / 1000);
  return g_strdup_printf ("%u", n);
}

static void
print_results (const Bench         *b,
               const Stage         *stages,
               const SearchFigures *figs,
               guint                n_stages,
               double               bandwidth)
{
  const char *reranker_name = "none";
  g_autoptr(StacheRerankerProvider) reranker = NULL;
  const SearchFigures *largest = &figs[n_stages - 1];
  g_autofree char *largest_label = format_count (largest->n_chunks);

  g_object_get (b->store, "reranker-provider", &reranker, NULL);
  if (reranker != NULL)
    reranker_name = G_OBJECT_TYPE_NAME (reranker);

  printf ("\nStache benchmark: %s vector database, %s embedder (%u dimensions), %s reranker\n",
          G_OBJECT_TYPE_NAME (b->db), G_OBJECT_TYPE_NAME (b->embedder), b->dims, reranker_name);
  printf ("corpus: synthetic paragraphs of %d-%d characters, one chunk each; Zipf words "
          "(s = %.1f) over %d words; seed %" G_GUINT64_FORMAT "; %u CPUs\n",
          PARAGRAPH_MIN, PARAGRAPH_LIMIT, ZIPF_EXPONENT, VOCABULARY, b->gen.seed,
          g_get_num_processors ());

  printf ("\nIngest (stache_store_ingest_text_full, one paragraph per call)\n");
  printf ("  %-14s %9s %9s %10s %10s %11s %12s\n",
          "stage", "chunks", "seconds", "chunks/s", "us/chunk", "db size MB", "db B/chunk");
  for (guint s = 0; s < n_stages; s++)
    {
      g_autofree char *from = format_count (stages[s].from);
      g_autofree char *to = format_count (stages[s].to);
      g_autofree char *label = g_strdup_printf ("%s -> %s", from, to);

      printf ("  %-14s %9" G_GUINT64_FORMAT " %9.1f %10.0f %10.0f %11.1f %12.0f\n",
              label, stages[s].chunks, stages[s].seconds,
              stages[s].chunks / MAX (stages[s].seconds, 1e-9),
              stages[s].seconds * 1e6 / MAX (stages[s].chunks, 1),
              stages[s].db_bytes / 1e6, (double) stages[s].db_bytes / stages[s].to);
      if (stages[s].not_one_chunk > 0)
        printf ("  (!) %u paragraphs did not make exactly one chunk\n", stages[s].not_one_chunk);
    }

  printf ("\nSearch latency, %u queries of %d words, top_k %d (ms: median / p99)\n",
          b->n_queries, QUERY_WORDS, TOP_K);
  printf ("  %-8s %19s %19s %19s %15s %12s\n",
          "chunks", "hybrid (store)", "raw vector scan", "raw keyword", "embed query", "hybrid hit@10");
  for (guint s = 0; s < n_stages; s++)
    {
      const SearchFigures *f = &figs[s];
      g_autofree char *label = format_count (f->n_chunks);

      printf ("  %-8s %9.2f / %7.2f %9.2f / %7.2f %9.2f / %7.2f %7.3f / %5.3f %11.1f%%\n", label,
              f->hybrid.median / 1e3, f->hybrid.p99 / 1e3,
              f->vector.median / 1e3, f->vector.p99 / 1e3,
              f->keyword.median / 1e3, f->keyword.p99 / 1e3,
              f->embed.median / 1e3, f->embed.p99 / 1e3,
              100.0 * f->hybrid_found / MAX (b->n_queries, 1));
    }

  printf ("\nExact vector scan vs. baselines measured in this run\n");
  printf ("  memory read bandwidth (1 thread, sum of a 512 MiB float array, best of %d): %.2f GB/s\n",
          BANDWIDTH_RUNS, bandwidth / 1e9);
  printf ("  %-8s %10s %12s %11s %9s | %-24s %-24s | %9s %9s\n",
          "chunks", "vectors MB", "scan median", "scan GB/s", "of bw",
          "in-memory plain loop", "in-memory vectorised", "vs plain", "vs vect.");
  for (guint s = 0; s < n_stages; s++)
    {
      const SearchFigures *f = &figs[s];
      g_autofree char *label = format_count (f->n_chunks);
      double plain_rate = f->scan_bytes * G_USEC_PER_SEC / MAX (f->baseline.plain_us, 1);
      double vector_rate = f->scan_bytes * G_USEC_PER_SEC / MAX (f->baseline.vector_us, 1);
      g_autofree char *plain = g_strdup_printf ("%.2f ms, %.2f GB/s", f->baseline.plain_us / 1e3,
                                                plain_rate / 1e9);
      g_autofree char *vect = g_strdup_printf ("%.2f ms, %.2f GB/s", f->baseline.vector_us / 1e3,
                                               vector_rate / 1e9);

      printf ("  %-8s %10.1f %9.2f ms %11.2f %8.1f%% | %-24s %-24s | %8.1fx %8.1fx\n", label,
              f->scan_bytes / 1e6, f->vector.median / 1e3, f->scan_rate / 1e9,
              100.0 * f->scan_rate / bandwidth, plain, vect,
              f->vector.median / MAX (f->baseline.plain_us, 1),
              f->vector.median / MAX (f->baseline.vector_us, 1));
    }
  printf ("  (scan GB/s = chunks x %u dims x 4 bytes / median raw scan; \"vs\" = how many times "
          "slower the store's scan is)\n", b->dims);
  printf ("  in-memory scans run at %.0f%% (plain) and %.0f%% (vectorised) of the memory bandwidth "
          "at %s chunks\n",
          100.0 * largest->scan_bytes * G_USEC_PER_SEC / MAX (largest->baseline.plain_us, 1) / bandwidth,
          100.0 * largest->scan_bytes * G_USEC_PER_SEC / MAX (largest->baseline.vector_us, 1) / bandwidth,
          largest_label);
}

int
main (int    argc,
      char **argv)
{
  gboolean quick = FALSE, keep = FALSE;
  gint n_queries = 200;
  gint64 seed = 1;
  const GOptionEntry entries[] = {
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "1k and 10k chunks instead of 10k and 100k", NULL },
    { "queries", 'n', 0, G_OPTION_ARG_INT, &n_queries, "Queries per size (200)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the text and the queries (1)", "N" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the temporary store", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- figures for a Stache store");
  g_autoptr(GError) error = NULL;
  Bench b = { 0 };
  Stage stages[2];
  SearchFigures figs[2];
  guint sizes[2];
  double bandwidth;
  gint64 t_start = g_get_monotonic_time ();

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Ingests synthetic paragraphs into a temporary store and prints ingest throughput,\n"
    "search latency and the exact vector scan rate next to in-memory baselines.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  if (n_queries < 1 || n_queries > 100000)
    {
      fprintf (stderr, "--queries must be between 1 and 100000\n");
      return 2;
    }

  sizes[0] = quick ? 1000 : 10000;
  sizes[1] = quick ? 10000 : 100000;
  b.n_queries = (guint) n_queries;

  fprintf (stderr, "measuring memory bandwidth...\n");
  bandwidth = measure_bandwidth ();

  if (!bench_open (&b, (guint64) seed, &error))
    {
      fprintf (stderr, "stache-bench: %s\n", error->message);
      bench_close (&b, keep);
      return 1;
    }

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      stages[s].from = s == 0 ? 0 : sizes[s - 1];
      stages[s].to = sizes[s];
      fprintf (stderr, "ingesting paragraphs %u to %u...\n", stages[s].from, stages[s].to);
      if (!ingest_stage (&b, &stages[s], &error))
        break;
      fprintf (stderr, "searching %u chunks...\n", sizes[s]);
      if (!measure_search (&b, sizes[s], &figs[s], &error))
        break;
    }

  if (error != NULL)
    {
      fprintf (stderr, "stache-bench: %s\n", error->message);
      bench_close (&b, keep);
      return 1;
    }

  print_results (&b, stages, figs, G_N_ELEMENTS (sizes), bandwidth);
  printf ("\ntotal run time %.0f s\n", (double) (g_get_monotonic_time () - t_start) / G_USEC_PER_SEC);
  bench_close (&b, keep);
  return 0;
}
