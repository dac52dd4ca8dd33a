/* stache-bench.c: throughput and latency figures for a StacheStore
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Not a test: it prints figures, the ones issue 10 asks for, in one run.
 * In a fresh temporary store with the embedded defaults it ingests
 * synthetic paragraphs in stages (10k chunks, then 90k more; 1k and 10k
 * with --quick; a third stage up to 1M with --large), each stage a folder
 * of text files read by stache_store_ingest_directory(), the batched path
 * behind `stache ingest DIR`. Files of one paragraph, thus documents of one
 * chunk, are the hard case; the 1M stage puts 10 paragraphs in a file to
 * spare the disk. The older path, one stache_store_ingest_text_full() call
 * per paragraph, is measured once at the smallest size for comparison, and
 * documents of 10 paragraphs (as most real files have several chunks) up
 * to the second size, into a store of their own.
 *
 * At each size it measures:
 * - ingest throughput, per second of wall time and per CPU-second of the
 *   whole process (getrusage), and the peak RSS while ingesting;
 * - in-process search latency: hybrid through the store, and the raw
 *   vector and keyword searches of the store's vector database;
 * - the exact vector scan against two baselines measured in the same loop
 *   over the same number of bytes: the plugin's own kernel
 *   (sqlite_kernel_dot, compiled into the bench) over vectors in one
 *   malloc'd array, and a plain read (a sum) of that array;
 * - ANN recall and latency against the exact scan, two providers on the
 *   same file that differ in sqlite_ann_threshold, where the plugin has an
 *   ANN index; it says so plainly where it has not;
 * - cold `stache` processes, the wall time and peak RSS of a fresh
 *   process per search (each mode), per `stache namespaces list` (opening
 *   the store) and per `stache --version` (starting at all).
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
 * plugins of the build tree are used, and the built-in folder is the build
 * tree's too, in the bench and in the processes it starts. Nothing is read
 * from or written to the user's data or configuration folders.
 */
#define _GNU_SOURCE   /* wait4(): the resource usage of one child */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <sqlite3.h>
#include <stache.h>

#include "sqlite-kernel.h"

#ifndef STACHE_BENCH_PLUGIN_DIR
#define STACHE_BENCH_PLUGIN_DIR ""
#endif
#ifndef STACHE_BENCH_TOOL
#define STACHE_BENCH_TOOL ""
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
#define SCAN_ROUNDS       7      /* rounds of [read, kernel, store scan], best of each */
#define SCAN_BLOCK        256    /* rows per kernel call in the in-memory scan */
#define COLD_QUERIES      5
#define COLD_RUNS         3      /* of each query: COLD_QUERIES × COLD_RUNS processes per command */
#define ANN_CHECK_QUERIES 20     /* queries compared when the plugin announces no ANN index */
#define ONE_PER_FILE_UPTO 100000 /* stages up to this size write one paragraph per file */
#define LARGE_PER_FILE    10     /* and larger stages this many */
#define PROGRESS_USEC     (5 * G_USEC_PER_SEC)

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

/* ---- in-memory baselines: a plain read and the plugin's kernel ---- */

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

/* Keeps @score if it is among the TOP_K best so far, best first. */
static inline void
top_k_insert (float  *best,
              guint  *n_best,
              float   score)
{
  guint at;

  if (*n_best == TOP_K && score <= best[TOP_K - 1])
    return;
  at = *n_best < TOP_K ? (*n_best)++ : TOP_K - 1;
  while (at > 0 && best[at - 1] < score)
    {
      best[at] = best[at - 1];
      at--;
    }
  best[at] = score;
}

/* An exact top-TOP_K scan of @n_rows rows of @dims floats with the
 * plugin's kernel, SCAN_BLOCK rows a call as the store scores a segment at
 * a time; returns the best score so that the work is used. */
static float
kernel_scan (const float *rows,
             gsize        n_rows,
             gsize        dims,
             const float *query)
{
  float scores[SCAN_BLOCK];
  float best[TOP_K];
  guint n_best = 0;

  for (gsize first = 0; first < n_rows; first += SCAN_BLOCK)
    {
      gsize n = MIN (SCAN_BLOCK, n_rows - first);

      sqlite_kernel_dot (query, rows + first * dims, n, dims, scores);
      for (gsize i = 0; i < n; i++)
        top_k_insert (best, &n_best, scores[i]);
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

/* ---- the machine and the process ---- */

static double
timeval_seconds (const struct timeval *tv)
{
  return (double) tv->tv_sec + (double) tv->tv_usec / 1e6;
}

/* User and system time of the whole process, all threads, in seconds. */
static double
cpu_seconds (void)
{
  struct rusage ru;

  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return 0;
  return timeval_seconds (&ru.ru_utime) + timeval_seconds (&ru.ru_stime);
}

/* ru_maxrss of the process, in kB. */
static glong
peak_rss_kb (void)
{
  struct rusage ru;

  return getrusage (RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* Lowers the peak that ru_maxrss reports to the current RSS ("5" to
 * /proc/self/clear_refs, Linux 4.0 and later), so that each phase gets its
 * own peak rather than the largest since the start. FALSE where the kernel
 * does not allow it. */
static gboolean
reset_peak_rss (void)
{
  int fd = open ("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  gboolean done;

  if (fd < 0)
    return FALSE;
  done = write (fd, "5", 1) == 1;
  close (fd);
  return done;
}

/* The resident set now, from /proc/self/statm, in kB. */
static glong
current_rss_kb (void)
{
  g_autofree char *statm = NULL;
  unsigned long size, resident;

  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL) ||
      sscanf (statm, "%lu %lu", &size, &resident) != 2)
    return 0;

  return (glong) (resident * (unsigned long) (sysconf (_SC_PAGESIZE) / 1024));
}

static double
mb_of_kb (glong kb)
{
  return (double) kb / 1024.0;
}

/* The "model name" of the first CPU in /proc/cpuinfo. */
static char *
cpu_model (void)
{
  g_autofree char *cpuinfo = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return g_strdup ("unknown CPU");

  lines = g_strsplit (cpuinfo, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *colon = strchr (lines[i], ':');

      if (g_str_has_prefix (lines[i], "model name") && colon != NULL)
        return g_strstrip (g_strdup (colon + 1));
    }

  return g_strdup ("unknown CPU");
}

/* The file system that holds @path, from /proc/self/mounts: "device
 * (type, options)" of the longest mount point above it. */
static char *
mount_of (const char *path)
{
  g_autofree char *mounts = NULL;
  g_autofree char *best = NULL;
  g_auto(GStrv) lines = NULL;
  gsize best_length = 0;

  if (!g_file_get_contents ("/proc/self/mounts", &mounts, NULL, NULL))
    return g_strdup ("unknown");

  lines = g_strsplit (mounts, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", 5);
      gsize length;

      if (g_strv_length (fields) < 4)
        continue;
      length = strlen (fields[1]);
      if (!g_str_has_prefix (path, fields[1]) ||
          (length > 1 && path[length] != '/' && path[length] != '\0') ||
          (best != NULL && length < best_length))
        continue;

      g_free (best);
      best = g_strdup_printf ("%s (%s, %s)", fields[0], fields[2], fields[3]);
      best_length = length;
    }

  return best != NULL ? g_steal_pointer (&best) : g_strdup ("unknown");
}

/* The one-minute load average: the machine may be shared, and every
 * figure here is a time. */
static double
load_average (void)
{
  g_autofree char *loadavg = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL))
    return -1;
  return g_ascii_strtod (loadavg, NULL);
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

/* ---- the store ---- */

typedef struct
{
  char                    *tmp;
  char                    *db_path;
  char                    *corpus_root;      /* where the stages' text files are written */
  Generator                gen;
  StacheStore             *store;
  StacheVectorDbProvider  *db;               /* the store's own */
  StacheVectorDbProvider  *exact;            /* on the same file, sqlite_ann_threshold 0 */
  StacheEmbeddingProvider *embedder;
  GPtrArray               *file_documents;   /* the document id of each file ingested */
  GArray                  *file_first;       /* and its first paragraph, ascending */
  guint                    n_queries;
  guint                    dims;
  gboolean                 peaks_reset;      /* reset_peak_rss() works here */
  pid_t                    spawner;          /* runs the cold `stache` processes */
  int                      spawner_requests;
  int                      spawner_replies;
  char                    *cold_stderr;      /* what the last of them wrote to stderr */
  sqlite3                 *fts_alone;        /* FTS5 alone: the ingest baseline */
} Bench;

typedef struct
{
  guint   from, to;          /* paragraphs */
  guint   per_file;          /* paragraphs per file; 0 for one call per paragraph */
  guint   files;
  guint64 chunks;
  guint   unexpected;        /* files (or calls) that did not give one chunk per paragraph */
  double  write_seconds;     /* writing the files, not counted */
  double  seconds;           /* wall */
  double  cpu_seconds;       /* user + system, whole process */
  glong   peak_rss_kb;
  double  load;              /* the one-minute load average when it ended */
  double  fts_cpu_seconds;   /* the same paragraphs into an FTS5 table alone */
  guint64 db_bytes;          /* the database file */
  guint64 wal_bytes;         /* and its write-ahead log */
} Stage;

/* The queries of one size: the first WARMUP_QUERIES are not timed. */
typedef struct
{
  GPtrArray *texts;
  GPtrArray *vectors;        /* GArray of float */
  GArray    *targets;        /* the paragraph each query was taken from */
} Queries;

typedef enum
{
  COLD_VERSION,
  COLD_NAMESPACES,
  COLD_HYBRID,
  COLD_VECTOR,
  COLD_KEYWORD,
  N_COLD
} ColdCommand;

static const char * const cold_labels[N_COLD] = {
  "stache --version",
  "stache namespaces list",
  "stache search -m hybrid",
  "stache search -m vector",
  "stache search -m keyword",
};

typedef struct
{
  double best_us;
  double median_us;
  glong  rss_kb;             /* the largest ru_maxrss of the runs */
  guint  runs;
  double warm_best_us;       /* the same call in the bench's process, right after */
  double warm_median_us;
  double query_us;           /* per query, the best of COLD_RUNS; the median over the queries */
  double query_warm_us;      /* the same, in-process */
  double added_us;           /* the same, of (cold - in-process) per query */
} ColdFigures;

/* sqlite_hnsw_ef_search values tried beside the default. */
static const char * const ann_ef_search[] = { "256", "1024" };

typedef struct
{
  gboolean measured;
  gboolean announced;        /* the plugin lists "ann" among its capabilities */
  gboolean used;             /* announced, or results or files showed an index */
  char    *capabilities;
  double   first_us;         /* the first ANN search: builds or loads the index */
  Latency  ann, exact;
  double   recall;           /* mean recall@TOP_K against the exact scan */
  double   tie_recall;       /* the same, a score tied with the exact TOP_K-th counting as found */
  double   wider_recall[2];  /* recall with sqlite_hnsw_ef_search at ann_ef_search[] */
  Latency  wider[2];
  guint    identical;        /* queries that gave the exact scan's ids, in order */
  guint    n_queries;
  guint64  index_bytes;
  char    *index_files;      /* files that appeared beside the database */
} AnnFigures;

typedef struct
{
  guint       n_chunks;
  Latency     hybrid, vector, keyword, embed;
  guint       hybrid_found;  /* queries whose paragraph was in the hybrid top TOP_K */
  glong       search_peak_rss_kb;
  glong       rss_kb;        /* at the end of the stage */
  double      scan_bytes;    /* n_chunks × dims × 4 */
  double      scan_us;       /* best of SCAN_ROUNDS: the store's exact scan */
  double      kernel_us;     /* ... the kernel over the same number of vectors in memory */
  double      read_us;       /* ... a sum over those vectors */
  gboolean    cold_measured;
  ColdFigures cold[N_COLD];
  AnnFigures  ann;
  guint64     db_bytes;      /* on disk at the end of the stage: the database */
  guint64     wal_bytes;     /* its write-ahead log */
  guint64     beside_bytes;  /* the files derived from it */
  char       *beside;        /* their names and sizes */
} SearchFigures;

static void
queries_clear (Queries *q)
{
  g_clear_pointer (&q->texts, g_ptr_array_unref);
  g_clear_pointer (&q->vectors, g_ptr_array_unref);
  g_clear_pointer (&q->targets, g_array_unref);
}

static void
search_figures_clear (SearchFigures *fig)
{
  g_clear_pointer (&fig->ann.capabilities, g_free);
  g_clear_pointer (&fig->ann.index_files, g_free);
  g_clear_pointer (&fig->beside, g_free);
}

static guint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

static guint64
wal_size (const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);

  return file_size (wal);
}

static void
remove_database (const char *path)
{
  static const char * const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *name = g_strconcat (path, suffixes[i], NULL);

      g_unlink (name);
    }
}

/* The document that holds paragraph @paragraph. */
static const char *
document_of_paragraph (const Bench *b,
                       guint        paragraph)
{
  const guint *first = (const guint *) (gconstpointer) b->file_first->data;
  guint lo = 0, hi = b->file_first->len;

  /* The last file whose first paragraph is <= @paragraph. */
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (first[mid] <= paragraph)
        lo = mid;
      else
        hi = mid;
    }

  return b->file_documents->len > 0 ? g_ptr_array_index (b->file_documents, lo) : NULL;
}

/* ---- ingest ---- */

/* The files of @stage in @dir, created here, named so that path order is
 * paragraph order; paragraphs of a file are separated by a blank line.
 * Sets stage->files and stage->write_seconds; on failure @dir is gone. */
static gboolean
write_corpus (const Bench  *b,
              Stage        *stage,
              const char   *dir,
              GError      **error)
{
  g_autoptr(GString) paragraph = g_string_new (NULL);
  g_autoptr(GString) contents = g_string_new (NULL);
  gint64 start = g_get_monotonic_time ();

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot create %s: %s", dir, g_strerror (saved_errno));
      return FALSE;
    }

  stage->files = 0;
  for (guint first = stage->from; first < stage->to; first += stage->per_file)
    {
      guint end = MIN (first + stage->per_file, stage->to);
      g_autofree char *name = g_strdup_printf ("p%08u.txt", first);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_string_truncate (contents, 0);
      for (guint p = first; p < end; p++)
        {
          generator_paragraph (&b->gen, p, paragraph);
          if (contents->len > 0)
            g_string_append (contents, "\n\n");
          g_string_append_len (contents, paragraph->str, paragraph->len);
        }
      g_string_append_c (contents, '\n');

      if (!g_file_set_contents_full (path, contents->str, contents->len, G_FILE_SET_CONTENTS_NONE,
                                     0644, error))
        {
          remove_tree (dir);
          return FALSE;
        }
      stage->files++;
    }

  stage->write_seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  return TRUE;
}

typedef struct
{
  gint64 start;
  gint64 last_report;
  guint  per_file;
} Progress;

static void
on_ingest_progress (StacheStore *store,
                    guint        done,
                    guint        total,
                    const char  *name,
                    gpointer     user_data)
{
  Progress *progress = user_data;
  gint64 now = g_get_monotonic_time ();

  if (done == 0 || now - progress->last_report < PROGRESS_USEC)
    return;
  progress->last_report = now;
  fprintf (stderr, "  ... %u of %u files read, about %.0f chunks/s\n", done, total,
           (double) done * progress->per_file * G_USEC_PER_SEC / (double) (now - progress->start));
}

/* Ingests paragraphs stage->from to stage->to as a folder of text files,
 * timing stache_store_ingest_directory() alone. */
static gboolean
ingest_stage (Bench    *b,
              Stage    *stage,
              GError  **error)
{
  g_autofree char *name = g_strdup_printf ("corpus-%u", stage->to);
  g_autofree char *dir = g_build_filename (b->corpus_root, name, NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autoptr(GPtrArray) results = NULL;
  Progress progress = { 0 };
  gint64 start;
  double cpu_start;
  gulong handler;
  guint paragraph = stage->from;

  fprintf (stderr, "writing paragraphs %u to %u, %u per file...\n", stage->from, stage->to, stage->per_file);
  if (!write_corpus (b, stage, dir, error))
    return FALSE;

  fprintf (stderr, "ingesting the folder (%u files)...\n", stage->files);
  b->peaks_reset = reset_peak_rss ();
  progress.per_file = stage->per_file;
  handler = g_signal_connect (b->store, "progress", G_CALLBACK (on_ingest_progress), &progress);

  cpu_start = cpu_seconds ();
  progress.start = progress.last_report = start = g_get_monotonic_time ();
  results = stache_store_ingest_directory (b->store, folder, NAMESPACE, NULL, NULL, NULL, error);
  stage->seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  stage->cpu_seconds = cpu_seconds () - cpu_start;
  stage->peak_rss_kb = peak_rss_kb ();
  stage->load = load_average ();

  g_signal_handler_disconnect (b->store, handler);
  remove_tree (dir);
  if (results == NULL)
    return FALSE;

  if (results->len != stage->files)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%u files written but %u ingested",
                   stage->files, results->len);
      return FALSE;
    }

  stage->chunks = 0;
  stage->unexpected = 0;
  for (guint i = 0; i < results->len; i++, paragraph += stage->per_file)
    {
      StacheIngestResult *result = g_ptr_array_index (results, i);
      StacheIngestOutcome outcome = stache_ingest_result_get_outcome (result);
      guint count = stache_ingest_result_get_chunk_count (result);

      if (outcome != STACHE_INGEST_OUTCOME_ADDED)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s (%s)",
                       stache_ingest_result_get_source (result), stache_ingest_outcome_to_string (outcome),
                       stache_ingest_result_get_reason (result) != NULL
                         ? stache_ingest_result_get_reason (result) : "no reason given");
          return FALSE;
        }

      stage->chunks += count;
      if (count != MIN (stage->per_file, stage->to - paragraph))
        stage->unexpected++;
      g_ptr_array_add (b->file_documents, g_strdup (stache_ingest_result_get_document_id (result)));
      g_array_append_val (b->file_first, paragraph);
    }

  stage->db_bytes = file_size (b->db_path);
  stage->wal_bytes = wal_size (b->db_path);
  return TRUE;
}

/* The baseline for ingest: FTS5 alone indexing the same paragraphs, one
 * row per paragraph, as the store's keyword index did before it had one of
 * its own (same tokenizer, page size, journal, FTS5 hash size and batch of
 * 8192 rows per transaction), into a file of its own that grows stage by
 * stage like the store. Only the SQL is timed (CPU time), not making the
 * text: what SQLite's own full-text index alone costs on this machine,
 * in this run. */
#define FTS_ALONE_BATCH 8192

static gboolean
fts_alone_stage (Bench    *b,
                 Stage    *stage,
                 GError  **error)
{
  g_autoptr(GString) paragraph = g_string_new (NULL);
  sqlite3_stmt *insert = NULL;
  int rc = SQLITE_OK;

  if (b->fts_alone == NULL)
    {
      /* In a folder of its own: not "beside the database" in the disk table */
      g_autofree char *dir = g_build_filename (b->tmp, "baseline", NULL);
      g_autofree char *path = g_build_filename (dir, "fts-alone.db", NULL);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot create %s: %s", dir, g_strerror (saved_errno));
          return FALSE;
        }

      if (sqlite3_open (path, &b->fts_alone) != SQLITE_OK ||
          sqlite3_exec (b->fts_alone,
                        "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                        "PRAGMA wal_autocheckpoint = 4096; PRAGMA cache_size = -32768; "
                        "CREATE VIRTUAL TABLE f USING fts5 (text, content = '', "
                        "  tokenize = 'unicode61 remove_diacritics 2'); "
                        "INSERT INTO f (f, rank) VALUES ('hashsize', 33554432);",
                        NULL, NULL, NULL) != SQLITE_OK)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "FTS5 baseline: %s",
                       sqlite3_errmsg (b->fts_alone));
          return FALSE;
        }
    }

  if (sqlite3_prepare_v2 (b->fts_alone, "INSERT INTO f (rowid, text) VALUES (?1, ?2)", -1,
                          &insert, NULL) != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "FTS5 baseline: %s", sqlite3_errmsg (b->fts_alone));
      return FALSE;
    }

  stage->fts_cpu_seconds = 0;
  for (guint first = stage->from; first < stage->to && rc == SQLITE_OK; first += FTS_ALONE_BATCH)
    {
      guint end = MIN (first + FTS_ALONE_BATCH, stage->to);
      g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
      double start;

      for (guint p = first; p < end; p++)
        {
          generator_paragraph (&b->gen, p, paragraph);
          g_ptr_array_add (texts, g_strndup (paragraph->str, paragraph->len));
        }

      start = cpu_seconds ();
      rc = sqlite3_exec (b->fts_alone, "BEGIN", NULL, NULL, NULL);
      for (guint i = 0; i < texts->len && rc == SQLITE_OK; i++)
        {
          sqlite3_bind_int64 (insert, 1, (sqlite3_int64) first + i + 1);
          sqlite3_bind_text (insert, 2, g_ptr_array_index (texts, i), -1, SQLITE_STATIC);
          rc = sqlite3_step (insert) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
          sqlite3_reset (insert);
        }
      if (rc == SQLITE_OK)
        rc = sqlite3_exec (b->fts_alone, "COMMIT", NULL, NULL, NULL);
      stage->fts_cpu_seconds += cpu_seconds () - start;
    }
  sqlite3_finalize (insert);

  if (rc != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "FTS5 baseline: %s", sqlite3_errmsg (b->fts_alone));
      return FALSE;
    }

  return TRUE;
}

/* The path before folder ingest was batched: one
 * stache_store_ingest_text_full() call per paragraph, paragraphs 0 to
 * @stage->to, into a store of its own that is removed afterwards. */
static gboolean
ingest_per_call (Bench    *b,
                 Stage    *stage,
                 GError  **error)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *path = g_build_filename (b->tmp, "per-call.db", NULL);
  gint64 start, last_report;
  double cpu_start;

  stache_settings_set_string (settings, "sqlite_path", path);
  store = stache_store_new (settings, error);
  if (store == NULL)
    return FALSE;

  stage->chunks = 0;
  stage->unexpected = 0;
  b->peaks_reset = reset_peak_rss ();
  cpu_start = cpu_seconds ();
  start = last_report = g_get_monotonic_time ();

  for (guint i = stage->from; i < stage->to; i++)
    {
      g_autoptr(StacheIngestResult) result = NULL;
      g_autofree char *source = g_strdup_printf ("bench:%07u", i);
      guint count;

      generator_paragraph (&b->gen, i, text);
      result = stache_store_ingest_text_full (store, text->str, NAMESPACE, source, NULL, NULL,
                                              NULL, error);
      if (result == NULL)
        return FALSE;

      count = stache_ingest_result_get_chunk_count (result);
      stage->chunks += count;
      if (count != 1)
        stage->unexpected++;

      if (g_get_monotonic_time () - last_report > PROGRESS_USEC)
        {
          last_report = g_get_monotonic_time ();
          fprintf (stderr, "  ... %u chunks stored, %.0f chunks/s\n", i + 1,
                   (i + 1 - stage->from) * (double) G_USEC_PER_SEC / (double) (last_report - start));
        }
    }

  stage->seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  stage->cpu_seconds = cpu_seconds () - cpu_start;
  stage->peak_rss_kb = peak_rss_kb ();
  stage->load = load_average ();
  stage->db_bytes = file_size (path);
  stage->wal_bytes = wal_size (path);

  g_clear_object (&store);
  remove_database (path);
  return TRUE;
}

/* Documents of several chunks, as most real files are: paragraphs 0 to
 * @stage->to, @stage->per_file to a file, as a folder ingested into a
 * store of its own that is removed afterwards. */
static gboolean
ingest_grouped (Bench    *b,
                Stage    *stage,
                GError  **error)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autofree char *path = g_build_filename (b->tmp, "grouped.db", NULL);
  g_autofree char *dir = g_build_filename (b->corpus_root, "grouped", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  gint64 start;
  double cpu_start;
  guint paragraph = stage->from;

  if (!write_corpus (b, stage, dir, error))
    return FALSE;

  stache_settings_set_string (settings, "sqlite_path", path);
  store = stache_store_new (settings, error);
  if (store == NULL)
    {
      remove_tree (dir);
      return FALSE;
    }

  b->peaks_reset = reset_peak_rss ();
  cpu_start = cpu_seconds ();
  start = g_get_monotonic_time ();
  results = stache_store_ingest_directory (store, folder, NAMESPACE, NULL, NULL, NULL, error);
  stage->seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  stage->cpu_seconds = cpu_seconds () - cpu_start;
  stage->peak_rss_kb = peak_rss_kb ();
  stage->load = load_average ();
  stage->db_bytes = file_size (path);
  stage->wal_bytes = wal_size (path);
  remove_tree (dir);

  if (results != NULL)
    {
      stage->chunks = 0;
      stage->unexpected = 0;
      for (guint i = 0; i < results->len; i++, paragraph += stage->per_file)
        {
          guint count = stache_ingest_result_get_chunk_count (g_ptr_array_index (results, i));

          stage->chunks += count;
          if (count != MIN (stage->per_file, stage->to - paragraph))
            stage->unexpected++;
        }
    }

  g_clear_object (&store);
  remove_database (path);
  return results != NULL;
}

/* ---- in-process search ---- */

static gboolean
make_queries (Bench     *b,
              guint      n_chunks,
              Queries   *queries,
              GArray    *t_embed,
              GError   **error)
{
  guint n = b->n_queries + WARMUP_QUERIES;

  queries->texts = g_ptr_array_new_with_free_func (g_free);
  queries->vectors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  queries->targets = g_array_new (FALSE, FALSE, sizeof (guint));

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
      g_ptr_array_add (queries->texts, query);
      g_ptr_array_add (queries->vectors, vector);
      g_array_append_val (queries->targets, paragraph);
    }

  return TRUE;
}

static gboolean
measure_search (Bench          *b,
                const Queries  *queries,
                SearchFigures  *fig,
                GError        **error)
{
  g_autoptr(GArray) t_hybrid = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) t_vector = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) t_keyword = g_array_new (FALSE, FALSE, sizeof (double));
  guint n = queries->texts->len;

  b->peaks_reset = reset_peak_rss ();

  /* The first WARMUP_QUERIES of each kind are not timed. */
  for (guint q = 0; q < n; q++)
    {
      g_autoptr(GPtrArray) results = NULL;
      gint64 start = g_get_monotonic_time ();
      double elapsed;

      results = stache_vector_db_provider_search (b->db, NAMESPACE, g_ptr_array_index (queries->vectors, q),
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

      results = stache_vector_db_provider_keyword_search (b->db, NAMESPACE, g_ptr_array_index (queries->texts, q),
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

      results = stache_store_search_full (b->store, g_ptr_array_index (queries->texts, q), NAMESPACE, TOP_K,
                                          STACHE_SEARCH_MODE_HYBRID, NULL, NULL, error);
      elapsed = (double) (g_get_monotonic_time () - start);
      if (results == NULL)
        return FALSE;
      if (q < WARMUP_QUERIES)
        continue;

      g_array_append_val (t_hybrid, elapsed);
      wanted = document_of_paragraph (b, g_array_index (queries->targets, guint, q));
      for (guint i = 0; i < results->len; i++)
        {
          if (g_strcmp0 (stache_search_result_get_document_id (g_ptr_array_index (results, i)), wanted) == 0)
            {
              fig->hybrid_found++;
              break;
            }
        }
    }

  fig->search_peak_rss_kb = peak_rss_kb ();
  fig->hybrid = latency_of (t_hybrid);
  fig->vector = latency_of (t_vector);
  fig->keyword = latency_of (t_keyword);
  return TRUE;
}

/* ---- the exact scan against the kernel and the read bandwidth ---- */

/* The store's exact scan over the namespace, the plugin's kernel over as
 * many vectors in one malloc'd array, and a sum over that array, taken in
 * turn in each round so that whatever else the machine does slows all
 * three alike; the best of SCAN_ROUNDS of each. */
static gboolean
measure_scan (Bench          *b,
              const Queries  *queries,
              SearchFigures  *fig,
              GError        **error)
{
  gsize n_rows = fig->n_chunks;
  gsize n_floats = n_rows * b->dims;
  float *rows = g_aligned_alloc (n_floats, sizeof (float), 64);
  gboolean ok = TRUE;
  Rng rng;

  /* Writing every page first keeps page faults out of the timing. */
  rng_init (&rng, b->gen.seed, G_GUINT64_CONSTANT (2) << 40);
  for (gsize i = 0; i < n_floats; i++)
    rows[i] = (float) (rng_double (&rng) * 2 - 1) * 0.05f;

  fig->scan_bytes = (double) n_floats * sizeof (float);
  fig->scan_us = fig->kernel_us = fig->read_us = G_MAXDOUBLE;

  for (guint round = 0; ok && round < SCAN_ROUNDS; round++)
    {
      GArray *query = g_ptr_array_index (queries->vectors, WARMUP_QUERIES + round % b->n_queries);
      g_autoptr(GPtrArray) results = NULL;
      gint64 start;

      start = g_get_monotonic_time ();
      bench_sink = sum_floats (rows, n_floats);
      fig->read_us = MIN (fig->read_us, (double) MAX (g_get_monotonic_time () - start, 1));

      start = g_get_monotonic_time ();
      bench_sink = kernel_scan (rows, n_rows, b->dims, (const float *) (gpointer) query->data);
      fig->kernel_us = MIN (fig->kernel_us, (double) MAX (g_get_monotonic_time () - start, 1));

      start = g_get_monotonic_time ();
      results = stache_vector_db_provider_search (b->exact, NAMESPACE, query, TOP_K, NULL, NULL, error);
      fig->scan_us = MIN (fig->scan_us, (double) MAX (g_get_monotonic_time () - start, 1));
      ok = results != NULL;
    }

  g_aligned_free (rows);
  return ok;
}

/* ---- ANN ---- */

/* A second vector database provider on the bench's file, as the store
 * would create it, with @ann_threshold for sqlite_ann_threshold and, unless
 * %NULL, @ef_search for sqlite_hnsw_ef_search. */
static StacheVectorDbProvider *
open_vector_db (const Bench  *b,
                const char   *ann_threshold,
                const char   *ef_search,
                GError      **error)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  StacheProvider *provider;

  stache_settings_set_string (settings, "sqlite_path", b->db_path);
  stache_settings_set_string (settings, "sqlite_ann_threshold", ann_threshold);
  /* The first search builds the index before it answers: that is what
   * the bench times as the build. */
  stache_settings_set_string (settings, "sqlite_ann_build", "foreground");
  if (ef_search != NULL)
    stache_settings_set_string (settings, "sqlite_hnsw_ef_search", ef_search);
  provider = stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                   STACHE_PROVIDER_TYPE_VECTORDB, "sqlite", settings, error);
  if (provider == NULL)
    return NULL;
  if (!STACHE_IS_VECTOR_DB_PROVIDER (provider))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the sqlite provider is not a vector database");
      g_object_unref (provider);
      return NULL;
    }

  return STACHE_VECTOR_DB_PROVIDER (provider);
}

/* Regular files in the database's folder that are neither the database
 * and its journal nor the bench's own: what the store derives from the
 * database (an ANN index, a copy of the vectors to scan). Maps each name
 * to its size and modification time, so that a file written since can be
 * told from one that was there already. */
static GHashTable *
files_beside_database (const Bench *b)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *base = g_path_get_basename (b->db_path);
  gsize base_length = strlen (base);
  GDir *dir = g_dir_open (b->tmp, 0, NULL);
  const char *name;

  if (dir == NULL)
    return files;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (b->tmp, name, NULL);
      struct stat st;

      if (lstat (path, &st) != 0 || !S_ISREG (st.st_mode) || g_strcmp0 (path, b->cold_stderr) == 0)
        continue;
      if (g_str_has_prefix (name, base) &&
          (name[base_length] == '\0' || g_str_equal (name + base_length, "-wal") ||
           g_str_equal (name + base_length, "-shm") || g_str_equal (name + base_length, "-journal")))
        continue;
      g_hash_table_insert (files, g_strdup (name),
                           g_strdup_printf ("%" G_GINT64_FORMAT " bytes, %" G_GINT64_FORMAT ".%09ld",
                                            (gint64) st.st_size, (gint64) st.st_mtim.tv_sec,
                                            (long) st.st_mtim.tv_nsec));
    }
  g_dir_close (dir);

  return files;
}

static int
compare_names (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* "name (size MB), ..." of @files, sorted, and their total size. */
static char *
describe_files (const Bench *b,
                GHashTable  *files,
                guint64     *total)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree gpointer *names = g_hash_table_get_keys_as_array (files, NULL);
  guint n = g_hash_table_size (files);

  g_qsort_with_data (names, (gint) n, sizeof (gpointer), compare_names, NULL);
  *total = 0;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_build_filename (b->tmp, names[i], NULL);
      guint64 size = file_size (path);

      *total += size;
      g_string_append_printf (text, "%s%s (%.1f MB)", i > 0 ? ", " : "", (char *) names[i], size / 1e6);
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static char *
search_result_ids (GPtrArray *results)
{
  g_autoptr(GString) ids = g_string_new (NULL);

  for (guint i = 0; i < results->len; i++)
    {
      g_string_append (ids, stache_search_result_get_id (g_ptr_array_index (results, i)));
      g_string_append_c (ids, '\n');
    }

  return g_string_free (g_steal_pointer (&ids), FALSE);
}

/* The share of @ann's results that score at least as well as the exact
 * scan's last one: recall that counts a tie with the TOP_K-th as found.
 * Vectors of short synthetic texts tie often, and an index that returns
 * one of two equal neighbours is not wrong. */
static double
tie_recall_of (GPtrArray *ann,
               GPtrArray *exact)
{
  double last;
  guint good = 0;

  if (exact->len == 0)
    return 1;

  last = stache_search_result_get_score (g_ptr_array_index (exact, exact->len - 1));
  for (guint j = 0; j < ann->len; j++)
    if (stache_search_result_get_score (g_ptr_array_index (ann, j)) >= last - 1e-5)
      good++;

  return (double) MIN (good, exact->len) / exact->len;
}

/* The share of @exact's ids that @ann found too. */
static double
recall_of (GPtrArray *ann,
           GPtrArray *exact)
{
  guint found = 0;

  if (exact->len == 0)
    return 1;

  for (guint i = 0; i < exact->len; i++)
    for (guint j = 0; j < ann->len; j++)
      if (g_strcmp0 (stache_search_result_get_id (g_ptr_array_index (exact, i)),
                     stache_search_result_get_id (g_ptr_array_index (ann, j))) == 0)
        {
          found++;
          break;
        }

  return (double) found / exact->len;
}

/* Two providers on the same file, sqlite_ann_threshold 1 (every namespace
 * through the ANN index) and 0 (exact scan always), on the same queries.
 * When the plugin does not announce "ann", ANN_CHECK_QUERIES queries still
 * run, so that an index that is there unannounced shows in the results or
 * in the files it leaves, and its absence is seen rather than assumed. */
static gboolean
measure_ann (Bench          *b,
             const Queries  *queries,
             SearchFigures  *fig,
             GError        **error)
{
  AnnFigures *ann = &fig->ann;
  g_autoptr(StacheVectorDbProvider) index = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) written = NULL;
  g_autoptr(GArray) t_ann = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) t_exact = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GPtrArray) exact_results = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_auto(GStrv) capabilities = NULL;
  GHashTableIter iter;
  gpointer name, signature;
  double recall_sum = 0, tie_recall_sum = 0;
  guint n;

  before = files_beside_database (b);
  index = open_vector_db (b, "1", NULL, error);
  if (index == NULL)
    return FALSE;

  capabilities = stache_vector_db_provider_get_capabilities (index);
  ann->capabilities = capabilities != NULL ? g_strjoinv (", ", capabilities) : g_strdup ("none");
  ann->announced = stache_vector_db_provider_has_capability (index, "ann");
  ann->measured = TRUE;
  n = ann->announced ? b->n_queries : MIN (b->n_queries, ANN_CHECK_QUERIES);

  for (guint q = 0; q <= n; q++)
    {
      /* Round 0 is the first search through the index: it builds it, or
       * loads it from what an earlier process saved. */
      GArray *vector = g_ptr_array_index (queries->vectors, WARMUP_QUERIES + (q == 0 ? 0 : q - 1));
      g_autoptr(GPtrArray) approximate = NULL;
      g_autoptr(GPtrArray) exact = NULL;
      g_autofree char *ids_approximate = NULL;
      g_autofree char *ids_exact = NULL;
      gint64 start;
      double elapsed;

      start = g_get_monotonic_time ();
      approximate = stache_vector_db_provider_search (index, NAMESPACE, vector, TOP_K, NULL, NULL, error);
      elapsed = (double) (g_get_monotonic_time () - start);
      if (approximate == NULL)
        return FALSE;
      if (q == 0)
        {
          ann->first_us = elapsed;
          fprintf (stderr, "  first search with sqlite_ann_threshold=1: %.0f ms\n", elapsed / 1e3);
          continue;
        }
      g_array_append_val (t_ann, elapsed);

      start = g_get_monotonic_time ();
      exact = stache_vector_db_provider_search (b->exact, NAMESPACE, vector, TOP_K, NULL, NULL, error);
      elapsed = (double) (g_get_monotonic_time () - start);
      if (exact == NULL)
        return FALSE;
      g_array_append_val (t_exact, elapsed);

      recall_sum += recall_of (approximate, exact);
      tie_recall_sum += tie_recall_of (approximate, exact);
      ids_approximate = search_result_ids (approximate);
      ids_exact = search_result_ids (exact);
      if (g_str_equal (ids_approximate, ids_exact))
        ann->identical++;
      g_ptr_array_add (exact_results, g_steal_pointer (&exact));
    }

  /* The same index searched wider: sqlite_hnsw_ef_search is read per
   * provider, the index is the file's. */
  for (guint e = 0; ann->announced && e < G_N_ELEMENTS (ann_ef_search); e++)
    {
      g_autoptr(StacheVectorDbProvider) wider = open_vector_db (b, "1", ann_ef_search[e], error);
      g_autoptr(GArray) t_wider = g_array_new (FALSE, FALSE, sizeof (double));
      double sum = 0;

      if (wider == NULL)
        return FALSE;
      for (guint q = 0; q < exact_results->len; q++)
        {
          GArray *vector = g_ptr_array_index (queries->vectors, WARMUP_QUERIES + q);
          g_autoptr(GPtrArray) approximate = NULL;
          gint64 start = g_get_monotonic_time ();
          double elapsed;

          approximate = stache_vector_db_provider_search (wider, NAMESPACE, vector, TOP_K, NULL, NULL, error);
          elapsed = (double) (g_get_monotonic_time () - start);
          if (approximate == NULL)
            return FALSE;
          g_array_append_val (t_wider, elapsed);
          sum += recall_of (approximate, g_ptr_array_index (exact_results, q));
        }
      ann->wider_recall[e] = sum / MAX (exact_results->len, 1);
      ann->wider[e] = latency_of (t_wider);
    }

  /* An index may be saved when its provider goes. What was written
   * meanwhile is the index's: the rest was there before, unchanged. */
  g_clear_object (&index);
  written = files_beside_database (b);
  g_hash_table_iter_init (&iter, written);
  while (g_hash_table_iter_next (&iter, &name, &signature))
    if (g_strcmp0 (g_hash_table_lookup (before, name), signature) == 0)
      g_hash_table_iter_remove (&iter);
  ann->index_files = describe_files (b, written, &ann->index_bytes);

  ann->n_queries = n;
  ann->recall = recall_sum / MAX (n, 1);
  ann->tie_recall = tie_recall_sum / MAX (n, 1);
  ann->ann = latency_of (t_ann);
  ann->exact = latency_of (t_exact);
  ann->used = ann->announced || ann->identical < n || g_hash_table_size (written) > 0;
  return TRUE;
}

/* ---- cold processes ---- */

/* The wall time and peak RSS of one process, as the spawner saw them. */
typedef struct
{
  double wall_us;
  glong  rss_kb;
  int    status;        /* from wait4() */
  int    error_code;    /* errno of posix_spawn() or wait4(), 0 when it ran */
} SpawnReply;

static gboolean
read_all (int      fd,
          gpointer buffer,
          gsize    size)
{
  guint8 *p = buffer;

  while (size > 0)
    {
      gssize n = read (fd, p, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      size -= (gsize) n;
    }

  return TRUE;
}

static gboolean
write_all (int           fd,
           gconstpointer buffer,
           gsize         size)
{
  const guint8 *p = buffer;

  while (size > 0)
    {
      gssize n = write (fd, p, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      size -= (gsize) n;
    }

  return TRUE;
}

/* Runs @argv with the spawner's environment, its output thrown away and
 * its errors kept in @stderr_path. posix_spawn() rather than fork(): a
 * fork copies the page tables of what the parent has mapped. */
static void
spawn_and_wait (char * const *argv,
                const char   *stderr_path,
                SpawnReply   *reply)
{
  posix_spawn_file_actions_t actions;
  struct rusage ru;
  pid_t pid, waited;
  int rc;
  gint64 start;

  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen (&actions, STDERR_FILENO, stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  start = g_get_monotonic_time ();
  rc = posix_spawn (&pid, argv[0], &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  if (rc != 0)
    {
      reply->error_code = rc;
      return;
    }

  do
    waited = wait4 (pid, &reply->status, 0, &ru);
  while (waited < 0 && errno == EINTR);
  reply->wall_us = (double) (g_get_monotonic_time () - start);
  if (waited < 0)
    reply->error_code = errno;
  else
    reply->rss_kb = ru.ru_maxrss;
}

/* The spawner's loop: a request is a length and the NUL-terminated
 * arguments; the reply a SpawnReply. It ends when the bench closes its
 * end of the pipe. */
G_GNUC_NORETURN static void
spawner_serve (int         requests,
               int         replies,
               const char *stderr_path)
{
  for (;;)
    {
      guint32 length;
      char *buffer;
      GPtrArray *argv;
      SpawnReply reply = { 0 };

      if (!read_all (requests, &length, sizeof length))
        _exit (0);
      buffer = g_malloc (length + 1);
      if (!read_all (requests, buffer, length))
        _exit (1);
      buffer[length] = '\0';

      argv = g_ptr_array_new ();
      for (guint32 at = 0; at < length; at += (guint32) strlen (buffer + at) + 1)
        g_ptr_array_add (argv, buffer + at);
      g_ptr_array_add (argv, NULL);

      spawn_and_wait ((char * const *) argv->pdata, stderr_path, &reply);
      g_ptr_array_unref (argv);
      g_free (buffer);

      if (!write_all (replies, &reply, sizeof reply))
        _exit (1);
    }
}

/* Starts the process that starts the `stache` processes. Why not start
 * them from the bench: a child's ru_maxrss is at least the RSS of the
 * address space it was spawned from (Linux counts the old address space's
 * peak when it execs, and posix_spawn shares the parent's until then), so
 * each would report the bench's RSS, store mapped and all. The spawner is
 * forked while the bench is still small, before any store or thread
 * exists, and its environment is the one for the cold runs: SQLITE_PATH
 * names the bench's file, the built-in plugin folder is the build tree's,
 * and the configuration and data folders are the bench's empty ones. */
static gboolean
spawner_start (Bench   *b,
               GError **error)
{
  int requests[2], replies[2];
  pid_t pid;

  b->cold_stderr = g_build_filename (b->tmp, "cold-stderr.txt", NULL);
  if (!g_unix_open_pipe (requests, FD_CLOEXEC, error))
    return FALSE;
  if (!g_unix_open_pipe (replies, FD_CLOEXEC, error))
    {
      close (requests[0]);
      close (requests[1]);
      return FALSE;
    }

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Cannot fork: %s",
                   g_strerror (saved_errno));
      close (requests[0]);
      close (requests[1]);
      close (replies[0]);
      close (replies[1]);
      return FALSE;
    }

  if (pid == 0)
    {
      close (requests[1]);
      close (replies[0]);
      g_setenv ("SQLITE_PATH", b->db_path, TRUE);
      if (STACHE_BENCH_PLUGIN_DIR[0] != '\0')
        g_setenv ("STACHE_BUILTIN_PLUGIN_DIR", STACHE_BENCH_PLUGIN_DIR, TRUE);
      reset_peak_rss ();
      spawner_serve (requests[0], replies[1], b->cold_stderr);
    }

  close (requests[0]);
  close (replies[1]);
  b->spawner = pid;
  b->spawner_requests = requests[1];
  b->spawner_replies = replies[0];
  return TRUE;
}

static void
spawner_stop (Bench *b)
{
  int status;

  if (b->spawner <= 0)
    return;

  close (b->spawner_requests);
  close (b->spawner_replies);
  while (waitpid (b->spawner, &status, 0) < 0 && errno == EINTR)
    ;
  b->spawner = 0;
}

/* Runs @argv through the spawner: its wall time from spawning to exit and
 * its peak RSS, or an error with what it wrote to stderr. */
static gboolean
run_process (Bench               *b,
             const char * const  *argv,
             double              *wall_us,
             glong               *rss_kb,
             GError             **error)
{
  g_autoptr(GByteArray) request = g_byte_array_new ();
  g_autofree char *command = g_strjoinv (" ", (char **) argv);
  SpawnReply reply;
  guint32 length;

  for (guint i = 0; argv[i] != NULL; i++)
    g_byte_array_append (request, (const guint8 *) argv[i], (guint) strlen (argv[i]) + 1);
  length = request->len;

  if (!write_all (b->spawner_requests, &length, sizeof length) ||
      !write_all (b->spawner_requests, request->data, request->len) ||
      !read_all (b->spawner_replies, &reply, sizeof reply))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "The process that runs “%s” is gone", command);
      return FALSE;
    }

  if (reply.error_code != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (reply.error_code), "Cannot run “%s”: %s",
                   command, g_strerror (reply.error_code));
      return FALSE;
    }
  if (!WIFEXITED (reply.status) || WEXITSTATUS (reply.status) != 0)
    {
      g_autofree char *message = NULL;

      g_file_get_contents (b->cold_stderr, &message, NULL, NULL);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "“%s” failed (wait status %d): %s", command,
                   reply.status, message != NULL ? g_strstrip (message) : "");
      return FALSE;
    }

  *wall_us = reply.wall_us;
  *rss_kb = reply.rss_kb;
  return TRUE;
}

/* The call in the bench's process that does what cold command @c does,
 * everything already open and warm. */
static gboolean
run_in_process (Bench        *b,
                ColdCommand   c,
                const char   *query,
                double       *wall_us,
                GError      **error)
{
  static const StacheSearchMode search_modes[] = {
    STACHE_SEARCH_MODE_HYBRID, STACHE_SEARCH_MODE_VECTOR, STACHE_SEARCH_MODE_KEYWORD
  };
  g_autoptr(GPtrArray) results = NULL;
  gint64 start = g_get_monotonic_time ();

  if (c == COLD_VERSION)
    {
      *wall_us = 0;
      return TRUE;
    }
  if (c == COLD_NAMESPACES)
    results = stache_store_list_namespaces (b->store, NULL, NULL, error);
  else
    results = stache_store_search_full (b->store, query, NAMESPACE, TOP_K, search_modes[c - COLD_HYBRID],
                                        NULL, NULL, error);
  *wall_us = (double) (g_get_monotonic_time () - start);

  return results != NULL;
}

/* A fresh `stache` per run, as a user types it, on the bench's database,
 * each run followed by the same call in the bench's process, so that the
 * difference of the pair is what a fresh process adds whatever the load
 * of the machine at that moment; the commands take turns in each round. */
static gboolean
measure_cold (Bench          *b,
              const Queries  *queries,
              SearchFigures  *fig,
              GError        **error)
{
  static const char * const modes[] = { "hybrid", "vector", "keyword" };
  guint n_queries = MIN (COLD_QUERIES, b->n_queries);
  GArray *cold[N_COLD], *warm[N_COLD];
  double cold_best[N_COLD][COLD_QUERIES], warm_best[N_COLD][COLD_QUERIES];
  gboolean ok = TRUE;

  for (guint c = 0; c < N_COLD; c++)
    {
      cold[c] = g_array_new (FALSE, FALSE, sizeof (double));
      warm[c] = g_array_new (FALSE, FALSE, sizeof (double));
      for (guint q = 0; q < COLD_QUERIES; q++)
        cold_best[c][q] = warm_best[c][q] = G_MAXDOUBLE;
    }

  for (guint run = 0; ok && run < n_queries * COLD_RUNS; run++)
    {
      guint q = run % n_queries;
      const char *query = g_ptr_array_index (queries->texts, WARMUP_QUERIES + q);

      for (guint c = 0; ok && c < N_COLD; c++)
        {
          const char *argv[12] = { STACHE_BENCH_TOOL, NULL };
          double cold_us = 0, warm_us = 0;
          glong rss_kb = 0;

          if (c == COLD_VERSION)
            {
              argv[1] = "--version";
            }
          else if (c == COLD_NAMESPACES)
            {
              argv[1] = "namespaces";
              argv[2] = "list";
            }
          else
            {
              argv[1] = "search";
              argv[2] = "--namespace";
              argv[3] = NAMESPACE;
              argv[4] = "--top-k";
              argv[5] = G_STRINGIFY (TOP_K);
              argv[6] = "--mode";
              argv[7] = modes[c - COLD_HYBRID];
              argv[8] = query;
            }

          ok = run_process (b, argv, &cold_us, &rss_kb, error) &&
               run_in_process (b, c, query, &warm_us, error);
          if (!ok)
            break;

          g_array_append_val (cold[c], cold_us);
          g_array_append_val (warm[c], warm_us);
          cold_best[c][q] = MIN (cold_best[c][q], cold_us);
          warm_best[c][q] = MIN (warm_best[c][q], warm_us);
          fig->cold[c].rss_kb = MAX (fig->cold[c].rss_kb, rss_kb);
        }
    }

  for (guint c = 0; ok && c < N_COLD; c++)
    {
      g_autoptr(GArray) per_query = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr(GArray) per_query_warm = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr(GArray) per_query_added = g_array_new (FALSE, FALSE, sizeof (double));
      ColdFigures *f = &fig->cold[c];

      for (guint q = 0; q < n_queries; q++)
        {
          double added = cold_best[c][q] - warm_best[c][q];

          g_array_append_val (per_query, cold_best[c][q]);
          g_array_append_val (per_query_warm, warm_best[c][q]);
          g_array_append_val (per_query_added, added);
        }

      f->runs = cold[c]->len;
      f->median_us = latency_of (cold[c]).median;
      f->warm_median_us = latency_of (warm[c]).median;
      /* latency_of() sorted them */
      f->best_us = g_array_index (cold[c], double, 0);
      f->warm_best_us = g_array_index (warm[c], double, 0);
      f->query_us = latency_of (per_query).median;
      f->query_warm_us = latency_of (per_query_warm).median;
      f->added_us = latency_of (per_query_added).median;
    }

  for (guint c = 0; c < N_COLD; c++)
    {
      g_array_unref (cold[c]);
      g_array_unref (warm[c]);
    }

  fig->cold_measured = ok;
  return ok;
}

static gboolean
bench_open (Bench    *b,
            guint64   seed,
            GError  **error)
{
  g_autoptr(StacheSettings) settings = NULL;
  const char *plugin_path = g_getenv ("STACHE_PLUGIN_PATH");
  const char *builtin_dir = g_getenv ("STACHE_BUILTIN_PLUGIN_DIR");
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
   * own setup, and the build tree's plugins unless told otherwise. The
   * `stache` processes started later inherit all of it. */
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir = g_build_filename (b->tmp, subdirs[i][1], NULL);

      g_mkdir_with_parents (dir, 0700);
      g_setenv (subdirs[i][0], dir, TRUE);
    }
  if ((plugin_path == NULL || plugin_path[0] == '\0') && STACHE_BENCH_PLUGIN_DIR[0] != '\0')
    g_setenv ("STACHE_PLUGIN_PATH", STACHE_BENCH_PLUGIN_DIR, TRUE);
  if ((builtin_dir == NULL || builtin_dir[0] == '\0') && STACHE_BENCH_PLUGIN_DIR[0] != '\0')
    g_setenv ("STACHE_BUILTIN_PLUGIN_DIR", STACHE_BENCH_PLUGIN_DIR, TRUE);

  b->db_path = g_build_filename (b->tmp, "bench.db", NULL);
  if (!spawner_start (b, error))
    return FALSE;

  /* The text files go to memory where there is a tmpfs: they are read
   * just after being written, from the page cache either way, and on a
   * disk mounted with "discard" deleting 100k written files takes
   * minutes. The database stays on the disk, where a user's would be. */
  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    {
      b->corpus_root = g_strdup ("/dev/shm/stache-bench-corpus-XXXXXX");
      if (g_mkdtemp (b->corpus_root) == NULL)
        g_clear_pointer (&b->corpus_root, g_free);
    }
  if (b->corpus_root == NULL)
    b->corpus_root = g_strdup (b->tmp);

  settings = stache_settings_new ();
  stache_settings_set_string (settings, "sqlite_path", b->db_path);

  b->store = stache_store_new (settings, error);
  if (b->store == NULL)
    return FALSE;
  g_object_get (b->store, "vector-db-provider", &b->db, "embedding-provider", &b->embedder, NULL);
  b->dims = stache_embedding_provider_get_dimensions (b->embedder);

  /* The scan figures are of the exact scan whatever the store's default
   * threshold would choose at that size. */
  b->exact = open_vector_db (b, "0", NULL, error);
  if (b->exact == NULL)
    return FALSE;

  b->file_documents = g_ptr_array_new_with_free_func (g_free);
  b->file_first = g_array_new (FALSE, FALSE, sizeof (guint));
  generator_init (&b->gen, seed);

  return TRUE;
}

static void
bench_close (Bench    *b,
             gboolean  keep)
{
  spawner_stop (b);
  g_clear_pointer (&b->fts_alone, sqlite3_close);
  g_clear_object (&b->exact);
  g_clear_object (&b->db);
  g_clear_object (&b->embedder);
  g_clear_object (&b->store);
  g_clear_pointer (&b->file_documents, g_ptr_array_unref);
  g_clear_pointer (&b->file_first, g_array_unref);
  generator_clear (&b->gen);

  if (b->corpus_root != NULL && g_strcmp0 (b->corpus_root, b->tmp) != 0)
    remove_tree (b->corpus_root);
  g_clear_pointer (&b->corpus_root, g_free);
  if (b->tmp != NULL && !keep)
    remove_tree (b->tmp);
  else if (b->tmp != NULL)
    fprintf (stderr, "kept %s\n", b->tmp);
  g_clear_pointer (&b->db_path, g_free);
  g_clear_pointer (&b->cold_stderr, g_free);
  g_clear_pointer (&b->tmp, g_free);
}

/* One size: ingest up to it, then every figure at it. */
static gboolean
bench_stage (Bench          *b,
             Stage          *stage,
             SearchFigures  *fig,
             gboolean        with_ann,
             GError        **error)
{
  g_autoptr(GArray) t_embed = g_array_new (FALSE, FALSE, sizeof (double));
  Queries queries = { 0 };
  gboolean ok;

  if (!ingest_stage (b, stage, error))
    return FALSE;
  fprintf (stderr, "  %" G_GUINT64_FORMAT " chunks in %.1f s (%.0f chunks/s)\n", stage->chunks,
           stage->seconds, stage->chunks / MAX (stage->seconds, 1e-9));
  fprintf (stderr, "the same paragraphs into FTS5 alone...\n");
  if (!fts_alone_stage (b, stage, error))
    return FALSE;

  fig->n_chunks = stage->to;
  fprintf (stderr, "searching %u chunks in-process...\n", fig->n_chunks);
  ok = make_queries (b, fig->n_chunks, &queries, t_embed, error);
  fig->embed = latency_of (t_embed);
  ok = ok && measure_search (b, &queries, fig, error);

  if (ok)
    fprintf (stderr, "scanning %u chunks: store, kernel, read...\n", fig->n_chunks);
  ok = ok && measure_scan (b, &queries, fig, error);

  if (ok && with_ann)
    {
      fprintf (stderr, "ANN against the exact scan at %u chunks...\n", fig->n_chunks);
      ok = measure_ann (b, &queries, fig, error);
    }

  if (ok && g_file_test (STACHE_BENCH_TOOL, G_FILE_TEST_IS_EXECUTABLE))
    {
      fprintf (stderr, "cold stache processes at %u chunks...\n", fig->n_chunks);
      ok = measure_cold (b, &queries, fig, error);
    }

  fig->rss_kb = current_rss_kb ();
  if (ok)
    {
      g_autoptr(GHashTable) beside = files_beside_database (b);

      fig->db_bytes = file_size (b->db_path);
      fig->wal_bytes = wal_size (b->db_path);
      fig->beside = describe_files (b, beside, &fig->beside_bytes);
    }
  queries_clear (&queries);
  return ok;
}

/* ---- output ---- */

static char *
format_count (guint n)
{
  if (n >= 1000000 && n % 1000000 == 0)
    return g_strdup_printf ("%uM", n / 1000000);
  if (n >= 1000 && n % 1000 == 0)
    return g_strdup_printf ("%uk", n / 1000);
  return g_strdup_printf ("%u", n);
}

static char *
format_range (guint from,
              guint to)
{
  g_autofree char *a = format_count (from);
  g_autofree char *b = format_count (to);

  return g_strdup_printf ("%s -> %s", a, b);
}

static double
gb_per_s (double bytes,
          double us)
{
  return bytes / MAX (us, 1e-3) / 1e3;
}

static void
print_ingest_row (const char  *label,
                  const Stage *stage,
                  gboolean     per_call)
{
  char files[32];

  if (per_call)
    g_strlcpy (files, "-", sizeof files);
  else
    g_snprintf (files, sizeof files, "%u", stage->files);

  printf ("  %-14s %7s %8" G_GUINT64_FORMAT " %7.1f %9.0f %6.1f %12.0f %5.1f %11.1f %7.1f %6.1f %11.0f\n",
          label, files, stage->chunks, stage->seconds, stage->chunks / MAX (stage->seconds, 1e-9),
          stage->cpu_seconds, stage->chunks / MAX (stage->cpu_seconds, 1e-9), stage->load,
          mb_of_kb (stage->peak_rss_kb),
          stage->db_bytes / 1e6, stage->wal_bytes / 1e6,
          (double) (stage->db_bytes + stage->wal_bytes) / MAX (per_call ? stage->chunks : stage->to, 1));
  if (stage->unexpected > 0)
    printf ("  (!) %u %s did not give one chunk per paragraph\n", stage->unexpected, per_call ? "calls" : "files");
}

static void
print_machine (const Bench *b)
{
  g_autofree char *cpu = cpu_model ();
  g_autofree char *db_mount = mount_of (b->tmp);
  g_autofree char *corpus_mount = mount_of (b->corpus_root);
  g_autoptr(StacheRerankerProvider) reranker = NULL;
  const char *reranker_name = "no";
  const char *simd = g_getenv ("STACHE_SIMD");
  struct utsname un;

  g_object_get (b->store, "reranker-provider", &reranker, NULL);
  if (reranker != NULL)
    reranker_name = G_OBJECT_TYPE_NAME (reranker);
  if (uname (&un) != 0)
    memset (&un, 0, sizeof un);

  printf ("\nStache benchmark\n");
  printf ("  machine  %s, %u CPUs, %s %s; load average %.2f when the figures were done\n",
          cpu, g_get_num_processors (), un.sysname, un.release, load_average ());
  printf ("  kernel   %s (sqlite_kernel level this CPU gets%s%s)\n",
          sqlite_kernel_level_name (sqlite_kernel_get_level ()),
          simd != NULL ? ", capped by STACHE_SIMD=" : "", simd != NULL ? simd : "");
  printf ("  SQLite   %s\n", sqlite3_libversion ());
  printf ("  disk     the database is in %s, on %s\n", b->tmp, db_mount);
  printf ("           the text files to ingest are in %s, on %s\n", b->corpus_root, corpus_mount);
  printf ("  store    %s vector database, %s embedder (%u dimensions), %s reranker; embedded defaults\n",
          G_OBJECT_TYPE_NAME (b->db), G_OBJECT_TYPE_NAME (b->embedder), b->dims, reranker_name);
  printf ("  corpus   synthetic paragraphs of %d-%d characters; Zipf words (s = %.1f) over %d words; "
          "seed %" G_GUINT64_FORMAT "\n",
          PARAGRAPH_MIN, PARAGRAPH_LIMIT, ZIPF_EXPONENT, VOCABULARY, b->gen.seed);
}

static void
print_ingest (const Stage *stages,
              guint        n_stages,
              const Stage *per_call,
              const Stage *grouped_files)
{
  gboolean grouped = FALSE;

  printf ("\nIngest: a folder of text files through stache_store_ingest_directory() (`stache ingest DIR`)\n");
  printf ("  %-14s %7s %8s %7s %9s %6s %12s %5s %11s %7s %6s %11s\n",
          "stage", "files", "chunks", "wall s", "chunks/s", "CPU s", "chunks/CPU-s", "load", "peak RSS MB",
          "db MB", "WAL MB", "B/chunk all");
  for (guint s = 0; s < n_stages; s++)
    {
      g_autofree char *label = format_range (stages[s].from, stages[s].to);

      print_ingest_row (label, &stages[s], FALSE);
      grouped |= stages[s].per_file > 1;
    }
  printf ("  the baseline: FTS5 alone indexing the same paragraphs (see fts_alone_stage()):\n");
  for (guint s = 0; s < n_stages; s++)
    {
      g_autofree char *label = format_range (stages[s].from, stages[s].to);
      double fts = stages[s].to - stages[s].from;

      printf ("  %-14s FTS5 alone %.1f CPU s, %.0f chunks/CPU-s; the whole ingest takes %.2fx its CPU time\n",
              label, stages[s].fts_cpu_seconds, fts / MAX (stages[s].fts_cpu_seconds, 1e-9),
              stages[s].cpu_seconds / MAX (stages[s].fts_cpu_seconds, 1e-9));
    }
  if (per_call->to > 0)
    {
      g_autofree char *label = format_range (per_call->from, per_call->to);
      g_autofree char *size = format_count (per_call->to);
      double folder_wall = stages[0].chunks / MAX (stages[0].seconds, 1e-9);
      double folder_cpu = stages[0].chunks / MAX (stages[0].cpu_seconds, 1e-9);
      double call_wall = per_call->chunks / MAX (per_call->seconds, 1e-9);
      double call_cpu = per_call->chunks / MAX (per_call->cpu_seconds, 1e-9);

      printf ("  the older path, one stache_store_ingest_text_full() call per paragraph, into a file of its own:\n");
      print_ingest_row (label, per_call, TRUE);
      printf ("  at %s chunks folder ingest does %.1fx the per-call rate per wall second, %.1fx per CPU-second\n",
              size, folder_wall / MAX (call_wall, 1e-9), folder_cpu / MAX (call_cpu, 1e-9));
    }
  if (grouped_files->to > 0)
    {
      g_autofree char *label = format_range (grouped_files->from, grouped_files->to);
      double fts = 0;

      /* FTS5 alone over the same paragraphs: the stages up to that size */
      for (guint s = 0; s < n_stages && stages[s].to <= grouped_files->to; s++)
        fts += stages[s].fts_cpu_seconds;
      printf ("  documents of %u paragraphs (%u chunks each), into a file of its own:\n",
              grouped_files->per_file, grouped_files->per_file);
      print_ingest_row (label, grouped_files, FALSE);
      if (fts > 0)
        printf ("  %-14s the whole ingest takes %.2fx the CPU time of FTS5 alone over the same paragraphs\n",
                label, grouped_files->cpu_seconds / fts);
    }
  printf ("  (one paragraph, so one chunk, per file%s; CPU s = user + system time of the whole bench\n"
          "   process, getrusage; load: the machine's one-minute load average as the stage ended (wall time\n"
          "   runs ahead of CPU time when others share the CPUs); peak RSS while ingesting; db and WAL: file\n"
          "   sizes after the stage, B/chunk all: the two over all chunks stored;\n"
          "   writing the files is not counted:",
          grouped ? ",\n   except in stages beyond 100k: " G_STRINGIFY (LARGE_PER_FILE)
                    " paragraphs per file, to spare the disk" : "");
  for (guint s = 0; s < n_stages; s++)
    printf ("%s %.1f s", s == 0 ? "" : ",", stages[s].write_seconds);
  printf (")\n");
}

static void
print_search (const Bench         *b,
              const Stage         *stages,
              const SearchFigures *figs,
              guint                n_stages)
{
  printf ("\nIn-process search, %u queries of %d words, top_k %d (ms: median / p99)\n",
          b->n_queries, QUERY_WORDS, TOP_K);
  printf ("  %-8s %19s %19s %19s %15s %8s %12s\n",
          "chunks", "hybrid (store)", "raw vector", "raw keyword", "embed query", "hit@10", "peak RSS MB");
  for (guint s = 0; s < n_stages; s++)
    {
      const SearchFigures *f = &figs[s];
      g_autofree char *label = format_count (f->n_chunks);

      printf ("  %-8s %9.2f / %7.2f %9.2f / %7.2f %9.2f / %7.2f %7.3f / %5.3f %7.1f%% %12.1f\n", label,
              f->hybrid.median / 1e3, f->hybrid.p99 / 1e3,
              f->vector.median / 1e3, f->vector.p99 / 1e3,
              f->keyword.median / 1e3, f->keyword.p99 / 1e3,
              f->embed.median / 1e3, f->embed.p99 / 1e3,
              100.0 * f->hybrid_found / MAX (b->n_queries, 1), mb_of_kb (f->search_peak_rss_kb));
    }
  printf ("  (hybrid: stache_store_search_full; raw: the store's vector database provider, its default\n"
          "   sqlite_ann_threshold; hit@10: the query's document in the hybrid top 10; peak RSS during these searches)\n");
  for (guint s = 0; s < n_stages; s++)
    if (stages[s].per_file > 1)
      {
        g_autofree char *label = format_count (figs[s].n_chunks);

        printf ("  (at %s, %u of %u paragraphs are in files of %u paragraphs, which makes hit@10 easier)\n", label,
                stages[s].to - stages[s].from, stages[s].to, stages[s].per_file);
      }
}

static void
print_scan (const Bench         *b,
            const SearchFigures *figs,
            guint                n_stages,
            double               bandwidth)
{
  const char *level = sqlite_kernel_level_name (sqlite_kernel_get_level ());

  printf ("\nExact scan vs. the same kernel in memory vs. a read of the same bytes (best of %d interleaved rounds)\n",
          SCAN_ROUNDS);
  printf ("  %-8s %10s | %-22s | %-22s | %-22s | %11s %9s %11s\n",
          "chunks", "vectors MB", "store scan", "kernel in memory", "read (sum)",
          "scan/kernel", "scan/read", "kernel/read");
  for (guint s = 0; s < n_stages; s++)
    {
      const SearchFigures *f = &figs[s];
      g_autofree char *label = format_count (f->n_chunks);
      double scan = gb_per_s (f->scan_bytes, f->scan_us);
      double kernel = gb_per_s (f->scan_bytes, f->kernel_us);
      double read = gb_per_s (f->scan_bytes, f->read_us);
      g_autofree char *c1 = g_strdup_printf ("%7.2f ms %6.2f GB/s", f->scan_us / 1e3, scan);
      g_autofree char *c2 = g_strdup_printf ("%7.2f ms %6.2f GB/s", f->kernel_us / 1e3, kernel);
      g_autofree char *c3 = g_strdup_printf ("%7.2f ms %6.2f GB/s", f->read_us / 1e3, read);

      printf ("  %-8s %10.1f | %-22s | %-22s | %-22s | %11.2f %9.2f %11.2f\n", label,
              f->scan_bytes / 1e6, c1, c2, c3, scan / MAX (kernel, 1e-9), scan / MAX (read, 1e-9),
              kernel / MAX (read, 1e-9));
    }
  printf ("  memory read bandwidth, a sum over a 512 MiB array (best of %d): %.2f GB/s\n",
          BANDWIDTH_RUNS, bandwidth / 1e9);
  printf ("  (GB/s = chunks x %u dims x 4 bytes / time. store scan: stache_vector_db_provider_search, top %d,\n"
          "   on a provider of the same file with sqlite_ann_threshold=0; kernel: sqlite_kernel_dot at level %s\n"
          "   over as many vectors in one malloc'd array, %d rows a call, the same top-%d selection; read: a sum\n"
          "   over that array, 8 x 4 floats a step. Small sizes may sit in the CPU's caches.)\n",
          b->dims, TOP_K, level, SCAN_BLOCK, TOP_K);
}

static void
print_ann (const SearchFigures *figs,
           guint                n_stages)
{
  printf ("\nANN (HNSW): vector database providers on the same file, sqlite_ann_threshold 1 (ANN, the default\n"
          "sqlite_hnsw_ef_search, then wider ones) against 0 (the exact scan), on the same queries\n");
  for (guint s = 0; s < n_stages; s++)
    {
      const AnnFigures *a = &figs[s].ann;
      g_autofree char *label = format_count (figs[s].n_chunks);

      if (!a->measured)
        continue;

      if (!a->used)
        {
          printf ("  %-8s ANN: not available in this build (no \"ann\" among the capabilities of the sqlite vector\n"
                  "           database: %s;\n"
                  "           with sqlite_ann_threshold=1, %u of %u queries gave exactly the exact scan's results,\n"
                  "           in %.2f ms median against %.2f ms, and no file appeared beside the database)\n",
                  label, a->capabilities, a->identical, a->n_queries, a->ann.median / 1e3, a->exact.median / 1e3);
          continue;
        }

      printf ("  %-8s recall@%d %.3f over %u queries (%.3f counting a tie with the exact %dth score as found;\n"
              "  %-8s %u queries gave exactly the exact scan's results)%s\n",
              label, TOP_K, a->recall, a->n_queries, a->tie_recall, TOP_K, "", a->identical,
              a->announced ? "" : "; the plugin does not announce \"ann\"");
      printf ("  %-8s ANN %.2f / %.2f ms (median / p99) against exact %.2f / %.2f ms; the first search %.0f ms\n"
              "  %-8s (it builds the index, or loads a saved one)\n",
              "", a->ann.median / 1e3, a->ann.p99 / 1e3, a->exact.median / 1e3, a->exact.p99 / 1e3, a->first_us / 1e3,
              "");
      if (a->announced)
        {
          printf ("  %-8s sqlite_hnsw_ef_search", "");
          for (guint e = 0; e < G_N_ELEMENTS (ann_ef_search); e++)
            printf ("%s %s: recall@%d %.3f, %.2f / %.2f ms", e == 0 ? "" : ";", ann_ef_search[e], TOP_K,
                    a->wider_recall[e], a->wider[e].median / 1e3, a->wider[e].p99 / 1e3);
          printf ("\n");
        }
      printf ("  %-8s written beside the database meanwhile: %s\n", "",
              a->index_files[0] != '\0' ? a->index_files : "nothing");
    }
}

static void
print_cold (const SearchFigures *figs,
            guint                n_stages)
{
  const SearchFigures *largest = &figs[n_stages - 1];
  g_autofree char *largest_label = format_count (largest->n_chunks);

  if (!largest->cold_measured)
    {
      printf ("\nCold `stache` processes: not measured (no executable at %s; build it first)\n", STACHE_BENCH_TOOL);
      return;
    }

  printf ("\nCold `stache` processes: a fresh process per run on the bench's database (page cache warm)\n");
  printf ("  %-8s %-26s %8s %10s %12s %17s %11s\n", "chunks", "command", "best ms", "median ms", "peak RSS MB",
          "in-process ms", "fresh adds");
  for (guint s = 0; s < n_stages; s++)
    {
      g_autofree char *label = format_count (figs[s].n_chunks);

      for (guint c = 0; c < N_COLD; c++)
        {
          const ColdFigures *f = &figs[s].cold[c];
          char warm[32] = "-";

          if (c != COLD_VERSION)
            g_snprintf (warm, sizeof warm, "%.1f / %.1f", f->warm_best_us / 1e3, f->warm_median_us / 1e3);
          printf ("  %-8s %-26s %8.1f %10.1f %12.1f %17s %11.1f\n", c == 0 ? label : "", cold_labels[c],
                  f->best_us / 1e3, f->median_us / 1e3, mb_of_kb (f->rss_kb), warm, f->added_us / 1e3);
        }
    }
  printf ("  (%u runs of each: %d queries x %d, the commands in turn; search is `stache search --namespace %s\n"
          "   --top-k %d --mode MODE QUERY`; SQLITE_PATH = the bench's file, the build's plugins, empty configuration;\n"
          "   wall time from posix_spawn to exit, peak RSS from wait4. In-process: best / median of the same call,\n"
          "   stache_store_search_full or stache_store_list_namespaces, made in the bench right after each run.\n"
          "   Fresh adds: per query the best cold run less the best in-process call, the median over the queries)\n",
          largest->cold[0].runs, COLD_QUERIES, COLD_RUNS, NAMESPACE, TOP_K);

  for (guint c = COLD_HYBRID; c < N_COLD; c++)
    {
      const ColdFigures *f = largest->cold;
      double start = f[COLD_VERSION].added_us;
      double open = f[COLD_NAMESPACES].added_us - start;

      printf ("  %-7s at %s: %.1f ms cold = the search %.1f + a fresh process %.1f (starting stache %.1f,\n"
              "          opening the store %.1f, the rest %.1f)\n",
              cold_labels[c] + strlen ("stache search -m "), largest_label, f[c].query_us / 1e3,
              f[c].query_warm_us / 1e3, f[c].added_us / 1e3, start / 1e3, open / 1e3,
              (f[c].added_us - start - open) / 1e3);
    }
  printf ("  (per query the best of %d runs, the median over the queries, so the parts add up only roughly;\n"
          "   the search: in-process; starting: `stache --version`; opening: what `namespaces list` adds, less\n"
          "   starting; the rest: loading the embedder and reranker, preparing statements, faulting in pages)\n",
          COLD_RUNS);
}

static void
print_disk (const SearchFigures *figs,
            guint                n_stages)
{
  printf ("\nDisk at the end of each stage (after the searches, which may derive files from the database)\n");
  printf ("  %-8s %9s %7s %10s %8s  %s\n", "chunks", "db MB", "WAL MB", "beside MB", "B/chunk", "beside the database");
  for (guint s = 0; s < n_stages; s++)
    {
      const SearchFigures *f = &figs[s];
      g_autofree char *label = format_count (f->n_chunks);

      printf ("  %-8s %9.1f %7.1f %10.1f %8.0f  %s\n", label, f->db_bytes / 1e6, f->wal_bytes / 1e6,
              f->beside_bytes / 1e6, (double) (f->db_bytes + f->wal_bytes + f->beside_bytes) / MAX (f->n_chunks, 1),
              f->beside != NULL && f->beside[0] != '\0' ? f->beside : "nothing");
    }
}

static void
print_memory (const Bench         *b,
              const Stage         *stages,
              const SearchFigures *figs,
              guint                n_stages)
{
  printf ("\nBench process memory (MB)\n");
  printf ("  %-8s %19s %21s %20s\n", "chunks", "peak while ingesting", "peak while searching", "RSS at end of stage");
  for (guint s = 0; s < n_stages; s++)
    {
      g_autofree char *label = format_count (figs[s].n_chunks);

      printf ("  %-8s %19.1f %21.1f %20.1f\n", label, mb_of_kb (stages[s].peak_rss_kb),
              mb_of_kb (figs[s].search_peak_rss_kb), mb_of_kb (figs[s].rss_kb));
    }
  printf ("  (ru_maxrss, %s;\n"
          "   current RSS from /proc/self/statm; both count the database pages the process has mapped;\n"
          "   the in-memory scan's array comes after these peaks, the 512 MiB read after all stages)\n",
          b->peaks_reset ? "the peak reset before each phase through /proc/self/clear_refs"
                         : "peaks since the start: this kernel does not let /proc/self/clear_refs reset them");
}

/* ---- ANN on clustered vectors ---- */

/* The hashing embedder's bag-of-words vectors give HNSW no structure to
 * follow (the ANN section above), so the store does not use an index for
 * them. Embedding models put texts on a topic near each other; this
 * section measures the index on vectors of that shape: unit vectors in
 * Gaussian blobs around random centres (384 dimensions, CLUSTER_SIZE
 * vectors a blob), inserted straight through the vector database, with
 * the store's defaults (the index measures its own recall and speed when
 * it is built), against the exact scan on queries near the blobs. */
#define CLUSTER_DIMS   384
#define CLUSTER_SIZE   100
#define CLUSTER_NOISE  0.05
#define ANN_PASSES     3

typedef struct
{
  guint  n;
  double insert_s;
  double build_s;
  double recall;
  Latency ann;
  Latency ann_alone;   /* ANN searches back to back, best of ANN_PASSES passes */
  Latency exact;
  double index_mb;
  glong  rss_kb;
  gboolean used;
} ClusterFigures;

static void
clustered_vector (Rng        *rng,
                  const float *centre,
                  float       *out)
{
  for (guint j = 0; j < CLUSTER_DIMS; j++)
    {
      double u1 = MAX (rng_double (rng), 1e-12), u2 = rng_double (rng);

      out[j] = centre[j] + (float) (CLUSTER_NOISE * sqrt (-2 * log (u1)) * cos (2 * G_PI * u2));
    }
}

static gboolean
measure_ann_clustered (Bench          *b,
                       guint           n,
                       ClusterFigures *fig,
                       GError        **error)
{
  g_autofree char *path = g_build_filename (b->tmp, "clustered.db", NULL);
  g_autoptr(StacheSettings) exact_settings = stache_settings_new ();
  g_autoptr(StacheSettings) ann_settings = stache_settings_new ();
  g_autoptr(StacheVectorDbProvider) exact = NULL;
  g_autoptr(StacheVectorDbProvider) ann = NULL;
  g_autoptr(GArray) t_ann = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) t_exact = g_array_new (FALSE, FALSE, sizeof (double));
  guint n_centres = MAX (1, n / CLUSTER_SIZE);
  g_autofree float *centres = g_new (float, (gsize) n_centres * CLUSTER_DIMS);
  g_autofree char *index = g_strdup_printf ("%s-ann-1.hnsw", path);
  Rng rng;
  guint found = 0, wanted = 0;
  gint64 t0;

  fig->n = n;
  stache_settings_set_string (exact_settings, "sqlite_path", path);
  stache_settings_set_string (exact_settings, "sqlite_ann_threshold", "0");
  stache_settings_set_string (ann_settings, "sqlite_path", path);
  stache_settings_set_string (ann_settings, "sqlite_ann_threshold", "1");
  stache_settings_set_string (ann_settings, "sqlite_ann_build", "foreground");
  exact = STACHE_VECTOR_DB_PROVIDER (stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                                           STACHE_PROVIDER_TYPE_VECTORDB, "sqlite",
                                                                           exact_settings, error));
  if (exact == NULL)
    return FALSE;
  ann = STACHE_VECTOR_DB_PROVIDER (stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                                         STACHE_PROVIDER_TYPE_VECTORDB, "sqlite",
                                                                         ann_settings, error));
  if (ann == NULL)
    return FALSE;

  rng_init (&rng, b->gen.seed, G_GUINT64_CONSTANT (0xc1c1c1));
  for (gsize i = 0; i < (gsize) n_centres * CLUSTER_DIMS; i++)
    centres[i] = (float) (2 * rng_double (&rng) - 1) / sqrtf (CLUSTER_DIMS / 3.0f);

  t0 = g_get_monotonic_time ();
  for (guint first = 0; first < n; first += 4096)
    {
      guint count = MIN (4096, n - first);
      g_autoptr(GPtrArray) chunks = g_ptr_array_new_full (count, g_object_unref);
      g_autoptr(GArray) vectors = g_array_sized_new (FALSE, FALSE, sizeof (float), count * CLUSTER_DIMS);

      g_array_set_size (vectors, count * CLUSTER_DIMS);
      for (guint i = 0; i < count; i++)
        {
          g_autofree char *id = g_strdup_printf ("v%07u", first + i);

          g_ptr_array_add (chunks, stache_chunk_new (id, "clustered"));
          clustered_vector (&rng, centres + (gsize) rng_below (&rng, n_centres) * CLUSTER_DIMS,
                            &g_array_index (vectors, float, (gsize) i * CLUSTER_DIMS));
        }
      if (!stache_vector_db_provider_insert (exact, NAMESPACE, chunks, vectors, NULL, error))
        return FALSE;
    }
  fig->insert_s = (g_get_monotonic_time () - t0) / 1e6;

  for (guint q = 0; q <= b->n_queries; q++)
    {
      g_autoptr(GArray) query = g_array_new (FALSE, FALSE, sizeof (float));
      g_autoptr(GPtrArray) truth = NULL;
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GHashTable) expected = g_hash_table_new (g_str_hash, g_str_equal);
      gint64 t;

      g_array_set_size (query, CLUSTER_DIMS);
      clustered_vector (&rng, centres + (gsize) rng_below (&rng, n_centres) * CLUSTER_DIMS,
                        (float *) (gpointer) query->data);

      t = g_get_monotonic_time ();
      got = stache_vector_db_provider_search (ann, NAMESPACE, query, TOP_K, NULL, NULL, error);
      if (got == NULL)
        return FALSE;
      /* The first search builds the index (and measures it). */
      if (q == 0)
        {
          fig->build_s = (g_get_monotonic_time () - t) / 1e6;
          continue;
        }
      g_array_append_val (t_ann, (double) { (g_get_monotonic_time () - t) / 1e3 });

      t = g_get_monotonic_time ();
      truth = stache_vector_db_provider_search (exact, NAMESPACE, query, TOP_K, NULL, NULL, error);
      if (truth == NULL)
        return FALSE;
      g_array_append_val (t_exact, (double) { (g_get_monotonic_time () - t) / 1e3 });

      for (guint i = 0; i < truth->len; i++)
        g_hash_table_add (expected, (gpointer) stache_search_result_get_id (g_ptr_array_index (truth, i)));
      for (guint i = 0; i < got->len; i++)
        found += g_hash_table_contains (expected, stache_search_result_get_id (g_ptr_array_index (got, i)));
      wanted += truth->len;
    }

  fig->recall = (double) found / MAX (wanted, 1);
  fig->ann = latency_of (t_ann);
  fig->exact = latency_of (t_exact);

  /* The loop above times each ANN search right after an exact scan that
   * read every vector (1.5 GB at 1M), so the index starts cold in the
   * caches each time. A server answering searches keeps the upper layers
   * of the graph cached: the same queries again, ANN only, back to back,
   * best of ANN_PASSES passes (the machine is shared). */
  {
    Rng again;
    g_autoptr(GPtrArray) queries = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);

    rng_init (&again, b->gen.seed, G_GUINT64_CONSTANT (0xa11a11));
    for (guint q = 0; q < b->n_queries; q++)
      {
        GArray *query = g_array_new (FALSE, FALSE, sizeof (float));

        g_array_set_size (query, CLUSTER_DIMS);
        clustered_vector (&again, centres + (gsize) rng_below (&again, n_centres) * CLUSTER_DIMS,
                          (float *) (gpointer) query->data);
        g_ptr_array_add (queries, query);
      }
    fig->ann_alone.median = G_MAXDOUBLE;
    for (guint pass = 0; pass < ANN_PASSES; pass++)
      {
        g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
        Latency l;

        for (guint q = 0; q < queries->len; q++)
          {
            g_autoptr(GPtrArray) got = NULL;
            gint64 t = g_get_monotonic_time ();

            got = stache_vector_db_provider_search (ann, NAMESPACE, g_ptr_array_index (queries, q), TOP_K,
                                                    NULL, NULL, error);
            if (got == NULL)
              return FALSE;
            g_array_append_val (times, (double) { (g_get_monotonic_time () - t) / 1e3 });
          }
        l = latency_of (times);
        if (l.median < fig->ann_alone.median)
          fig->ann_alone = l;
      }
  }
  fig->used = g_file_test (index, G_FILE_TEST_EXISTS);
  fig->index_mb = fig->used ? file_size (index) / 1e6 : 0;
  fig->rss_kb = current_rss_kb ();
  return TRUE;
}

static void
print_ann_clustered (const ClusterFigures *figs,
                     guint                 n_figs)
{
  printf ("\nANN (HNSW) on clustered vectors, the shape embedding models give (%d dimensions, blobs of %d,\n"
          "noise %.2f a component), inserted through the vector database; store defaults, first search builds\n",
          CLUSTER_DIMS, CLUSTER_SIZE, CLUSTER_NOISE);
  printf ("  %-8s %9s %9s %10s %21s %21s %21s %9s %9s\n", "vectors", "insert s", "build s", "recall@10",
          "ANN ms (median/p99)", "after exact (med/p99)", "exact ms (median/p99)", "index MB", "RSS MB");
  for (guint i = 0; i < n_figs; i++)
    {
      g_autofree char *label = format_count (figs[i].n);

      printf ("  %-8s %9.1f %9.1f %10.3f %11.3f / %7.3f %11.3f / %7.3f %11.2f / %7.2f %9.1f %9.1f%s\n", label,
              figs[i].insert_s, figs[i].build_s, figs[i].recall, figs[i].ann_alone.median, figs[i].ann_alone.p99,
              figs[i].ann.median, figs[i].ann.p99,
              figs[i].exact.median, figs[i].exact.p99, figs[i].index_mb, figs[i].rss_kb / 1024.0,
              figs[i].used ? "" : "  (no index kept: exact scans)");
    }
  printf ("  (recall@10 against the exact scan on the same queries; ANN ms: searches back to back, best of %d\n"
          "   passes over other queries from the same blobs; after exact: each ANN search timed right after an\n"
          "   exact scan that read every vector, so with the index cold in the caches; RSS of the bench\n"
          "   process after the searches, the index's memory included)\n", ANN_PASSES);
}

int
main (int    argc,
      char **argv)
{
  gboolean quick = FALSE, large = FALSE, keep = FALSE;
  ClusterFigures clustered[2];
  guint n_clustered = 0;
  gint clustered_only = 0;
  gint n_queries = 200;
  gint64 seed = 1;
  const GOptionEntry entries[] = {
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "1k and 10k chunks instead of 10k and 100k", NULL },
    { "large", 'l', 0, G_OPTION_ARG_NONE, &large, "Go on to 1M chunks (10 paragraphs per file)", NULL },
    { "queries", 'n', 0, G_OPTION_ARG_INT, &n_queries, "Queries per size (200)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the text and the queries (1)", "N" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the temporary store", NULL },
    { "clustered-only", 0, 0, G_OPTION_ARG_INT, &clustered_only,
      "Only the ANN section on N clustered vectors", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- figures for a Stache store");
  g_autoptr(GError) error = NULL;
  Bench b = { 0 };
  Stage stages[3], per_call, grouped_files;
  SearchFigures figs[3];
  guint sizes[3];
  guint n_stages, done = 0;
  double bandwidth = 0;
  gint64 t_start = g_get_monotonic_time ();

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Ingests synthetic paragraphs into a temporary store, from folders of text files, and\n"
    "prints ingest throughput per wall and CPU second, cold `stache` process times, search\n"
    "latency, the exact vector scan next to the kernel and the read bandwidth, ANN recall,\n"
    "and memory use.");
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
  if (quick && large)
    {
      fprintf (stderr, "--quick and --large do not go together\n");
      return 2;
    }

  n_stages = large ? 3 : 2;
  sizes[0] = quick ? 1000 : 10000;
  sizes[1] = quick ? 10000 : 100000;
  sizes[2] = 1000000;
  b.n_queries = (guint) n_queries;
  memset (stages, 0, sizeof stages);
  memset (figs, 0, sizeof figs);
  memset (&per_call, 0, sizeof per_call);
  memset (&grouped_files, 0, sizeof grouped_files);

  if (!bench_open (&b, (guint64) seed, &error))
    {
      fprintf (stderr, "stache-bench: %s\n", error->message);
      bench_close (&b, keep);
      return 1;
    }

  if (clustered_only > 0)
    {
      memset (clustered, 0, sizeof clustered);
      fprintf (stderr, "ANN on %d clustered vectors...\n", clustered_only);
      if (measure_ann_clustered (&b, (guint) clustered_only, &clustered[0], &error))
        {
          print_machine (&b);
          print_ann_clustered (clustered, 1);
          printf ("\ntotal run time %.0f s\n", (double) (g_get_monotonic_time () - t_start) / G_USEC_PER_SEC);
        }
      else
        {
          fprintf (stderr, "stache-bench: %s\n", error->message);
        }
      bench_close (&b, keep);
      return error == NULL ? 0 : 1;
    }

  per_call.to = sizes[0];
  fprintf (stderr, "ingesting paragraphs 0 to %u, one stache_store_ingest_text_full() call each...\n", per_call.to);
  if (ingest_per_call (&b, &per_call, &error))
    {
      for (guint s = 0; s < n_stages; s++)
        {
          stages[s].from = s == 0 ? 0 : sizes[s - 1];
          stages[s].to = sizes[s];
          stages[s].per_file = sizes[s] > ONE_PER_FILE_UPTO ? LARGE_PER_FILE : 1;
          /* ANN at 100k and beyond, where it is meant to matter, and at
           * the largest size of any run. */
          if (!bench_stage (&b, &stages[s], &figs[s], sizes[s] >= 100000 || s + 1 == n_stages, &error))
            break;
          done++;
        }
    }

  /* Documents of LARGE_PER_FILE chunks, up to the second size */
  if (error == NULL)
    {
      grouped_files.to = sizes[1];
      grouped_files.per_file = LARGE_PER_FILE;
      fprintf (stderr, "ingesting paragraphs 0 to %u, %u per file, into a store of their own...\n",
               grouped_files.to, grouped_files.per_file);
      if (!ingest_grouped (&b, &grouped_files, &error))
        grouped_files.to = 0;
    }

  /* ANN on clustered vectors: 100k (10k with --quick), and 1M with --large. */
  memset (clustered, 0, sizeof clustered);
  if (error == NULL)
    for (guint c = 0; c < (large ? 2u : 1u) && error == NULL; c++)
      {
        guint n = c == 1 ? 1000000 : quick ? 10000 : 100000;

        fprintf (stderr, "ANN on %u clustered vectors...\n", n);
        if (measure_ann_clustered (&b, n, &clustered[c], &error))
          n_clustered++;
        if (c == 0 && large)
          {
            g_autofree char *path = g_build_filename (b.tmp, "clustered.db", NULL);
            g_autofree char *wal = g_strconcat (path, "-wal", NULL);
            g_autofree char *ann_index = g_strconcat (path, "-ann-1.hnsw", NULL);
            g_autofree char *meta = g_strconcat (path, "-ann-1.hnsw.meta", NULL);
            g_autofree char *scan = g_strconcat (path, "-scan-1", NULL);

            /* A fresh file for the next size: the providers of this one
             * are gone, and with them the connection. */
            g_unlink (path);
            g_unlink (wal);
            g_unlink (ann_index);
            g_unlink (meta);
            g_unlink (scan);
          }
      }

  if (error == NULL)
    {
      /* Last, so that its array is in no peak RSS above. */
      fprintf (stderr, "measuring memory bandwidth...\n");
      bandwidth = measure_bandwidth ();

      print_machine (&b);
      print_ingest (stages, n_stages, &per_call, &grouped_files);
      print_search (&b, stages, figs, n_stages);
      print_scan (&b, figs, n_stages, bandwidth);
      print_ann (figs, n_stages);
      print_ann_clustered (clustered, n_clustered);
      print_cold (figs, n_stages);
      print_disk (figs, n_stages);
      print_memory (&b, stages, figs, n_stages);
      printf ("\ntotal run time %.0f s\n", (double) (g_get_monotonic_time () - t_start) / G_USEC_PER_SEC);
    }
  else
    {
      fprintf (stderr, "stache-bench: %s (after %u of %u sizes)\n", error->message, done, n_stages);
    }

  for (guint s = 0; s < G_N_ELEMENTS (figs); s++)
    search_figures_clear (&figs[s]);
  bench_close (&b, keep);
  return error == NULL ? 0 : 1;
}
