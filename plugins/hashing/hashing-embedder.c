/* hashing-embedder.c: deterministic, offline embeddings by feature hashing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `hashing` embedding provider turns text into a vector without a
 * model, a network or any state: the same text always gives the same
 * vector, on every machine, in every process.
 *
 * How: the text is folded (accents and case removed, see hashing-tokens.c)
 * and split into words. Each word yields features:
 *
 * - the word itself (weight 1.0),
 * - the pair it forms with the word before it, "w1 w2" (weight 0.5),
 * - its character 3-, 4- and 5-grams, with "<" and ">" marking the start
 *   and end of the word: "word" gives "<wo", "wor", "ord", "rd>", "<wor",
 *   … (weight 1.0), so that "embedding" and "embeddings" share most of
 *   their features.
 *
 * Each feature is hashed (64-bit FNV-1a over its UTF-8 bytes, with a byte
 * that tells the three kinds apart, then a murmur-style finalizer) into one
 * of `dimensions` buckets, and one more bit of the hash chooses whether it
 * adds +1 or −1 there (the "hashing trick": colliding features cancel out
 * on average instead of piling up). Each kind of feature is counted in
 * its own buckets; a count c becomes sign(c)·log(1 + |c|), so a word
 * repeated ten times weighs about 2.4 times one occurrence, not ten. The
 * vector is the weighted sum of the three kinds, scaled to length 1.
 *
 * Text without any word (empty, or only punctuation) gives the zero
 * vector: it is finite, so the core accepts it, and its cosine with any
 * vector is 0, so it is never similar to anything.
 *
 * Limits: this is bag-of-words similarity. It matches texts that share
 * words or pieces of words, not texts that mean the same thing in other
 * words: synonyms ("car"/"automobile") and paraphrases are not matched,
 * nor translations. Word order counts only through adjacent word pairs.
 * Languages written without spaces (Chinese, Japanese, Thai) are not split
 * into words; a run of such text is one "word", matched only through its
 * character n-grams. Frequent words are not down-weighted (there is no
 * corpus to learn from), so very common words add some noise. Different
 * features can hash to the same bucket; collisions blur similarity a
 * little, less with more dimensions.
 *
 * Setting: `hashing_dimensions`, the vector length, 16 to 8192 (default
 * 384). Vectors of different lengths cannot be compared, so changing it
 * means embedding stored texts again.
 *
 * The provider has no mutable state once initialised: every call works on
 * its own buffers, so it may be used from several threads at once.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>
#include <stache-plugin.h>


/* Tunable constants; changing any of them changes every vector. */
#define HASHING_DEFAULT_DIMENSIONS 384
#define HASHING_MIN_DIMENSIONS     16
#define HASHING_MAX_DIMENSIONS     8192
#define HASHING_SETTING            "hashing_dimensions"

#define WEIGHT_WORD       1.0f   /* a word */
#define WEIGHT_WORD_PAIR  0.5f   /* two adjacent words */
/* Character n-grams weigh as much as words: they let "configuring" meet
 * "configure" without a stemmer, and on the man page check (tests/quality)
 * raising them from 0.3 to 1.0 lifted vector MRR from 0.60 to 0.64. */
#define WEIGHT_CHAR_NGRAM 1.0f   /* a character n-gram of a word */
#define CHAR_NGRAM_MIN    3
#define CHAR_NGRAM_MAX    5

/* The byte each kind of feature is hashed with first */
enum {
  KIND_WORD = 1,
  KIND_WORD_PAIR = 2,
  KIND_CHAR_NGRAM = 3,
  N_KINDS = 3,
};

#define HASHING_TYPE_EMBEDDER (hashing_embedder_get_type ())
G_DECLARE_FINAL_TYPE (HashingEmbedder, hashing_embedder, HASHING, EMBEDDER, StacheProvider)

struct _HashingEmbedder
{
  StacheProvider parent_instance;

  /* Set once, by initable_init, before the provider is handed out */
  guint          dimensions;
  StacheStemmer *stemmer;     /* NULL for text_language=none */
};

static void hashing_embedder_iface_init (StacheEmbeddingProviderInterface *iface);
static void hashing_embedder_initable_iface_init (GInitableIface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (HashingEmbedder, hashing_embedder, STACHE_TYPE_PROVIDER, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_EMBEDDING_PROVIDER,
                                                               hashing_embedder_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               hashing_embedder_initable_iface_init))

/* ---- hashing ---- */

#define FNV_OFFSET_BASIS G_GUINT64_CONSTANT (0xcbf29ce484222325)
#define FNV_PRIME        G_GUINT64_CONSTANT (0x00000100000001b3)

static inline guint64
fnv_byte (guint64 h,
          guchar  byte)
{
  return (h ^ byte) * FNV_PRIME;
}

static inline guint64
fnv_bytes (guint64     h,
           const char *p,
           const char *end)
{
  while (p < end)
    h = fnv_byte (h, (guchar) *p++);

  return h;
}

static inline guint64
fnv_start (guchar kind)
{
  return fnv_byte (FNV_OFFSET_BASIS, kind);
}

/* FNV-1a mixes its last bytes poorly into the high bits; this finalizer
 * (the one of MurmurHash3) spreads every input bit over the whole word. */
static inline guint64
mix64 (guint64 h)
{
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
  h ^= h >> 33;

  return h;
}

/* Adds one occurrence of the feature with hash @h to @counts: the low 32
 * bits choose the bucket (by multiply-shift, which needs no division), the
 * top bit the sign. Counts are whole numbers, kept as such. */
static inline void
count_feature (gint32  *counts,
               guint    dimensions,
               guint64  h)
{
  guint64 m = mix64 (h);
  guint bucket = (guint) (((m & 0xffffffffu) * (guint64) dimensions) >> 32);

  counts[bucket] += 1 - 2 * (gint32) (m >> 63);
}

/* ---- features of one text ---- */

static inline const char *
next_char (const char *p)
{
  return (guchar) *p < 0x80 ? p + 1 : g_utf8_next_char (p);
}

/* Counts the character n-grams of the word [@start, @end) framed as
 * "<word>": virtual position 0 is "<", positions 1..L the characters and
 * L+1 is ">". The n-grams that begin at one position are prefixes of each
 * other, so each position's hash is carried from its 3-gram to its 5-gram
 * instead of hashing every n-gram from its first byte: the same hashes, in
 * a different order, and the counts do not depend on the order. */
static void
count_char_ngrams (gint32     *counts,
                   guint       dimensions,
                   const char *start,
                   const char *end)
{
  const char *first = NULL;   /* the character at the n-grams' start; NULL: "<" */

  for (;;)
    {
      guint64 h = fnv_start (KIND_CHAR_NGRAM);
      const char *p;
      gboolean closed = FALSE;

      if (first == NULL)
        {
          h = fnv_byte (h, '<');
          p = start;
        }
      else if (first < end)
        {
          p = next_char (first);
          h = fnv_bytes (h, first, p);
        }
      else
        break;   /* only ">" is left: too short for any n-gram */

      for (guint n = 2; n <= CHAR_NGRAM_MAX; n++)
        {
          if (p < end)
            {
              const char *after = next_char (p);

              h = fnv_bytes (h, p, after);
              p = after;
            }
          else if (!closed)
            {
              h = fnv_byte (h, '>');
              closed = TRUE;
            }
          else
            break;

          if (n >= CHAR_NGRAM_MIN)
            count_feature (counts, dimensions, h);
        }

      first = first == NULL ? start : next_char (first);
    }
}

/* count_char_ngrams() for a word of at most ASCII_WORD_MAX ASCII
 * characters, the common case: the framed word is copied once, then each
 * start position hashes its 3-gram and extends it to the 4- and 5-gram,
 * without the UTF-8 stepping. The same hashes as count_char_ngrams(). */
#define ASCII_WORD_MAX 62

static gboolean
count_char_ngrams_ascii (gint32     *counts,
                         guint       dimensions,
                         const char *start,
                         const char *end)
{
  guchar framed[ASCII_WORD_MAX + 2];
  gsize len = (gsize) (end - start), total = len + 2;
  guchar high = 0;
  guint64 h0 = fnv_start (KIND_CHAR_NGRAM);

  G_STATIC_ASSERT (CHAR_NGRAM_MIN == 3 && CHAR_NGRAM_MAX == 5);

  if (len > ASCII_WORD_MAX)
    return FALSE;

  framed[0] = '<';
  for (gsize i = 0; i < len; i++)
    {
      framed[i + 1] = (guchar) start[i];
      high |= (guchar) start[i];
    }
  if ((high & 0x80) != 0)
    return FALSE;
  framed[len + 1] = '>';

  for (gsize first = 0; first + CHAR_NGRAM_MIN <= total; first++)
    {
      const guchar *g = framed + first;
      guint64 h = fnv_byte (fnv_byte (fnv_byte (h0, g[0]), g[1]), g[2]);

      count_feature (counts, dimensions, h);
      if (first + 4 > total)
        continue;
      h = fnv_byte (h, g[3]);
      count_feature (counts, dimensions, h);
      if (first + 5 > total)
        continue;
      h = fnv_byte (h, g[4]);
      count_feature (counts, dimensions, h);
    }

  return TRUE;
}

/* log1p of the small whole counts almost every bucket holds, signed,
 * computed once: sublinear_table[SUBLINEAR_MAX + c] is sign(c)·log1p(|c|),
 * the same values log1pf() gives, without its cost per bucket. */
#define SUBLINEAR_MAX 255
static float sublinear_table[2 * SUBLINEAR_MAX + 1];

static void
sublinear_table_init (void)
{
  static gsize initialised;

  if (g_once_init_enter (&initialised))
    {
      for (gint k = -SUBLINEAR_MAX; k <= SUBLINEAR_MAX; k++)
        sublinear_table[SUBLINEAR_MAX + k] = k >= 0 ? log1pf ((float) k) : -log1pf ((float) -k);
      g_once_init_leave (&initialised, 1);
    }
}

static inline float
sublinear (gint32 count)
{
  guint32 magnitude;
  float value;

  /* one unsigned comparison for -SUBLINEAR_MAX <= count <= SUBLINEAR_MAX */
  if ((guint32) count + SUBLINEAR_MAX <= 2 * SUBLINEAR_MAX)
    return sublinear_table[SUBLINEAR_MAX + count];

  magnitude = count >= 0 ? (guint32) count : (guint32) 0 - (guint32) count;
  value = log1pf ((float) magnitude);
  return count >= 0 ? value : -value;
}

static inline guint64
fnv_u64 (guint64 h,
         guint64 value)
{
  for (guint i = 0; i < 8; i++)
    h = fnv_byte (h, (guchar) (value >> (8 * i)));

  return h;
}

#define NORM_LANES 8

/* Writes the vector of @text into @out (@dimensions floats). @scratch
 * holds N_KINDS × @dimensions counts, any content. */
static void
embed_text (HashingEmbedder *self,
            const char      *text,
            float           *out,
            gint32          *scratch)
{
  guint dimensions = self->dimensions;
  guint64 prev_stem = 0;
  gint32 *word_counts = scratch;
  gint32 *pair_counts = scratch + dimensions;
  gint32 *ngram_counts = scratch + 2 * (gsize) dimensions;
  g_autofree char *folded = NULL;
  const char *pos, *end, *word_start, *word_end;
  const char *prev_start = NULL, *prev_end = NULL;
  double lanes[NORM_LANES] = { 0 };
  double norm = 0;
  gsize len;

  memset (scratch, 0, N_KINDS * (gsize) dimensions * sizeof (gint32));

  folded = stache_text_fold (text, &len);
  pos = folded;
  end = folded + len;
  while (stache_text_next_word (&pos, end, &word_start, &word_end))
    {
      guint64 h = fnv_bytes (fnv_start (KIND_WORD), word_start, word_end);

      if (self->stemmer != NULL)
        {
          /* Stemmed: words by their stems (hashed as words are, a word
           * that is its own stem the same feature as without stemming),
           * pairs by their stems' hashes; remembered per thread, as
           * stemming costs far more than hashing */
          guint64 stem = stache_stemmer_stem_hash (self->stemmer, word_start, (gsize) (word_end - word_start),
                                                   fnv_start (KIND_WORD));

          count_feature (word_counts, dimensions, stem);
          if (prev_start != NULL)
            count_feature (pair_counts, dimensions,
                           fnv_u64 (fnv_u64 (fnv_start (KIND_WORD_PAIR), prev_stem), stem));
          prev_stem = stem;
        }
      else
        {
          count_feature (word_counts, dimensions, h);

          if (prev_start != NULL)
            {
              h = fnv_bytes (fnv_start (KIND_WORD_PAIR), prev_start, prev_end);
              h = fnv_bytes (fnv_byte (h, ' '), word_start, word_end);
              count_feature (pair_counts, dimensions, h);
            }
        }

      if (!count_char_ngrams_ascii (ngram_counts, dimensions, word_start, word_end))
        count_char_ngrams (ngram_counts, dimensions, word_start, word_end);

      prev_start = word_start;
      prev_end = word_end;
    }

  /* The squares are summed in NORM_LANES running sums (bucket i into
   * sum i % NORM_LANES), added up in a fixed order: no chain of dependent
   * additions as long as the vector, and the same sum, to the bit, however
   * the compiler schedules it. */
  for (guint i = 0; i < dimensions; i++)
    {
      float v = WEIGHT_WORD * sublinear (word_counts[i]) +
                WEIGHT_WORD_PAIR * sublinear (pair_counts[i]) +
                WEIGHT_CHAR_NGRAM * sublinear (ngram_counts[i]);

      out[i] = v;
      lanes[i % NORM_LANES] += (double) v * v;
    }
  for (guint l = 0; l < NORM_LANES; l++)
    norm += lanes[l];

  /* No word at all: the zero vector, see the top of this file */
  if (norm > 0)
    {
      double scale = 1.0 / sqrt (norm);

      for (guint i = 0; i < dimensions; i++)
        out[i] = (float) (out[i] * scale);
    }
}

/* ---- StacheEmbeddingProvider ---- */

/* The working counts of embed_text(), kept per thread: allocating them on
 * every call (several KiB, past glibc's small-block bins) made malloc
 * consolidate its free lists for each document ingested */
static gint32 *
thread_scratch (gsize n)
{
  static GPrivate key = G_PRIVATE_INIT (g_free);
  gint64 *block = g_private_get (&key);

  if (block == NULL || (gsize) block[0] < n)
    {
      block = g_malloc (sizeof (gint64) + n * sizeof (gint32));
      block[0] = (gint64) n;
      g_private_replace (&key, block);
    }

  return (gint32 *) (gpointer) (block + 1);
}

static GArray *
hashing_embedder_embed_batch (StacheEmbeddingProvider  *provider,
                              const char * const       *texts,
                              GCancellable             *cancellable,
                              GError                  **error)
{
  HashingEmbedder *self = HASHING_EMBEDDER (provider);
  guint dimensions = self->dimensions;
  gint32 *scratch;
  g_autoptr(GArray) values = NULL;
  guint n_texts = g_strv_length ((char **) texts);

  if (dimensions != 0 && n_texts > G_MAXUINT / dimensions)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Too many texts to embed at once (%u)"), n_texts);
      return NULL;
    }

  values = g_array_sized_new (FALSE, FALSE, sizeof (float), n_texts * dimensions);
  g_array_set_size (values, n_texts * dimensions);
  scratch = thread_scratch (N_KINDS * (gsize) dimensions);
  sublinear_table_init ();

  for (guint i = 0; i < n_texts; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      embed_text (self, texts[i], &g_array_index (values, float, (gsize) i * dimensions), scratch);
    }

  return g_steal_pointer (&values);
}

static GArray *
hashing_embedder_embed (StacheEmbeddingProvider  *provider,
                        const char               *text,
                        GCancellable             *cancellable,
                        GError                  **error)
{
  const char *texts[] = { text, NULL };

  return hashing_embedder_embed_batch (provider, texts, cancellable, error);
}

static guint
hashing_embedder_get_dimensions (StacheEmbeddingProvider *provider)
{
  return HASHING_EMBEDDER (provider)->dimensions;
}

/* The scheme, the vector length and the language decide every vector;
 * "v1" changes if the hashing itself ever does. Words as they are
 * (text_language=none) keep the id of the releases before stemming. */
static char *
hashing_embedder_get_model_id (StacheEmbeddingProvider *provider)
{
  HashingEmbedder *self = HASHING_EMBEDDER (provider);

  if (self->stemmer == NULL)
    return g_strdup_printf ("hashing:v1:%u", self->dimensions);
  return g_strdup_printf ("hashing:v1:%u:%s", self->dimensions, stache_stemmer_get_language (self->stemmer));
}

static char **
hashing_embedder_get_capabilities (StacheEmbeddingProvider *provider)
{
  const char * const caps[] = { "embed", "batch", NULL };

  return g_strdupv ((char **) caps);
}

static void
hashing_embedder_iface_init (StacheEmbeddingProviderInterface *iface)
{
  iface->embed = hashing_embedder_embed;
  iface->embed_batch = hashing_embedder_embed_batch;
  iface->get_dimensions = hashing_embedder_get_dimensions;
  iface->get_model_id = hashing_embedder_get_model_id;
  iface->get_capabilities = hashing_embedder_get_capabilities;
}

/* ---- GInitable: reads and checks the settings ---- */

static gboolean
hashing_embedder_initable_init (GInitable     *initable,
                                GCancellable  *cancellable,
                                GError       **error)
{
  HashingEmbedder *self = HASHING_EMBEDDER (initable);
  StacheSettings *settings = stache_provider_get_settings (STACHE_PROVIDER (self));
  GError *local_error = NULL;
  g_autofree char *language = NULL;
  gint64 dimensions;

  language = settings != NULL ? stache_settings_get_nonempty (settings, STACHE_TEXT_LANGUAGE_KEY, "english")
                              : g_strdup ("english");
  if (g_strcmp0 (language, "none") != 0)
    {
      self->stemmer = stache_stemmer_new (language, &local_error);
      if (self->stemmer == NULL)
        {
          g_propagate_prefixed_error (error, local_error, _("Setting “%s”: "), STACHE_TEXT_LANGUAGE_KEY);
          return FALSE;
        }
    }

  if (settings == NULL)
    return TRUE;

  dimensions = stache_settings_get_int (settings, HASHING_SETTING,
                                        HASHING_DEFAULT_DIMENSIONS, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (dimensions < HASHING_MIN_DIMENSIONS || dimensions > HASHING_MAX_DIMENSIONS)
    {
      g_autofree char *where = stache_settings_describe_source (settings, HASHING_SETTING);
      g_autofree char *value = stache_settings_get_string (settings, HASHING_SETTING, NULL);

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   /* Translators: the first %s is a settings key, the second
                    * where its value came from, the third the value */
                   _("Setting “%s” (from %s) has the value “%s”, which is not a whole "
                     "number from %d to %d"),
                   HASHING_SETTING, where, value != NULL ? g_strstrip (value) : "",
                   HASHING_MIN_DIMENSIONS, HASHING_MAX_DIMENSIONS);
      return FALSE;
    }

  self->dimensions = (guint) dimensions;

  return TRUE;
}

static void
hashing_embedder_initable_iface_init (GInitableIface *iface)
{
  iface->init = hashing_embedder_initable_init;
}

/* ---- GObject ---- */

static void
hashing_embedder_finalize (GObject *object)
{
  g_clear_object (&HASHING_EMBEDDER (object)->stemmer);

  G_OBJECT_CLASS (hashing_embedder_parent_class)->finalize (object);
}

static void
hashing_embedder_class_init (HashingEmbedderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hashing_embedder_finalize;
}

static void
hashing_embedder_class_finalize (HashingEmbedderClass *klass)
{
}

static void
hashing_embedder_init (HashingEmbedder *self)
{
  self->dimensions = HASHING_DEFAULT_DIMENSIONS;
}

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  hashing_embedder_register_type (G_TYPE_MODULE (module));
  peas_object_module_register_extension_type (module, STACHE_TYPE_EMBEDDING_PROVIDER,
                                              HASHING_TYPE_EMBEDDER);
}
