/* stache-stemmer.c: words to their stems (Snowball), and stop words, per language
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libstemmer.h>

#include "stache-error.h"
#include "stache-stemmer.h"

/**
 * StacheStemmer:
 *
 * Reduces folded words (see stache_text_fold()) to their stems with a
 * Snowball stemmer, so that "signing requests" and "sign request" meet,
 * and knows the language's stop words. The keyword index, the hashing
 * embedder and the `simple` reranker use one made from the
 * `text_language` setting (%STACHE_TEXT_LANGUAGE_KEY), so that they split
 * words the same way.
 *
 * A stemmer may be used from several threads at once (one at a time
 * stems). Snowball takes about a tenth of a microsecond for an English
 * word; callers that meet the same words again and again and only compare
 * stems use stache_stemmer_stem_hash(), which remembers them per thread
 * (the hashing embedder, the `simple` reranker); the keyword index keeps
 * a table of its own per batch.
 */

/* Snowball works on words; longer "words" (hashes, base64) are kept whole */
#define MAX_STEM_BYTES 64

struct _StacheStemmer
{
  GObject             parent_instance;

  char               *language;
  const char * const *stop_words;
  GMutex              mutex;        /* for @stemmer, which is not thread-safe */
  struct sb_stemmer  *stemmer;      /* NULL for "none" */
  guint64             serial;       /* unique in the process: names its stems in a thread's table */
};

G_DEFINE_FINAL_TYPE (StacheStemmer, stache_stemmer, G_TYPE_OBJECT)

/* Short lists, folded (lower case, no accents): the words so common in
 * questions that a passage should get no credit for containing them. */
static const char * const english_stop_words[] = {
  "the", "a", "an", "of", "to", "in", "is", "are", "was", "be", "and", "or",
  "what", "how", "when", "where", "which", "who", "why", "does", "do", "can",
  "should", "would", "will", "for", "on", "at", "by", "from", "with", "it",
  "this", "that", "i", "my", "we", "you", NULL,
};

static const char * const german_stop_words[] = {
  "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem",
  "einer", "und", "oder", "ist", "sind", "war", "wie", "was", "wann", "wo",
  "warum", "wer", "welche", "welcher", "kann", "soll", "zu", "in", "im", "auf",
  "mit", "von", "fur", "bei", "aus", "es", "ich", "wir", "sie", "man", "nicht",
  NULL,
};

static const char * const french_stop_words[] = {
  "le", "la", "les", "un", "une", "des", "du", "de", "d", "l", "et", "ou",
  "est", "sont", "etait", "que", "qui", "quoi", "quel", "quelle", "comment",
  "quand", "ou", "pourquoi", "a", "au", "aux", "en", "dans", "pour", "par",
  "sur", "avec", "il", "elle", "on", "je", "nous", "vous", "ce", "cette", "ne",
  "pas", NULL,
};

static const char * const spanish_stop_words[] = {
  "el", "la", "los", "las", "un", "una", "unos", "unas", "de", "del", "y", "o",
  "es", "son", "era", "que", "como", "cuando", "donde", "por", "porque",
  "quien", "cual", "a", "al", "en", "para", "con", "se", "lo", "yo",
  "nosotros", "usted", "no", NULL,
};

static const char * const italian_stop_words[] = {
  "il", "lo", "la", "i", "gli", "le", "un", "uno", "una", "di", "del", "della",
  "e", "o", "che", "chi", "come", "quando", "dove", "perche", "quale", "a",
  "al", "in", "per", "con", "su", "da", "non", "si", "io", "noi", NULL,
};

static const char * const portuguese_stop_words[] = {
  "o", "a", "os", "as", "um", "uma", "de", "do", "da", "dos", "das", "e", "ou",
  "que", "quem", "como", "quando", "onde", "porque", "qual", "em", "no", "na",
  "para", "por", "com", "se", "nao", "eu", "nos", NULL,
};

static const char * const dutch_stop_words[] = {
  "de", "het", "een", "en", "of", "is", "zijn", "was", "wat", "hoe", "wanneer",
  "waar", "waarom", "wie", "welke", "van", "in", "op", "met", "voor", "te",
  "aan", "bij", "ik", "we", "je", "niet", NULL,
};

static const struct
{
  const char         *language;
  const char * const *words;
} stop_word_lists[] = {
  { "english", english_stop_words },
  { "porter", english_stop_words },
  { "german", german_stop_words },
  { "french", french_stop_words },
  { "spanish", spanish_stop_words },
  { "italian", italian_stop_words },
  { "portuguese", portuguese_stop_words },
  { "dutch", dutch_stop_words },
};

static void
stache_stemmer_finalize (GObject *object)
{
  StacheStemmer *self = STACHE_STEMMER (object);

  g_clear_pointer (&self->stemmer, sb_stemmer_delete);
  g_clear_pointer (&self->language, g_free);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (stache_stemmer_parent_class)->finalize (object);
}

static void
stache_stemmer_class_init (StacheStemmerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = stache_stemmer_finalize;
}

static void
stache_stemmer_init (StacheStemmer *self)
{
  static gint next_serial;

  g_mutex_init (&self->mutex);
  /* (by serial, not address: a stemmer made where a freed one lived may
   * have another language) */
  self->serial = (guint64) (guint) g_atomic_int_add (&next_serial, 1) + 1;
}

static gboolean
is_known (const char *language)
{
  for (const char **name = sb_stemmer_list (); *name != NULL; name++)
    if (strcmp (*name, language) == 0)
      return TRUE;
  return FALSE;
}

/**
 * stache_stemmer_new:
 * @language: (nullable): a Snowball stemmer's name, such as `english`,
 *   `german` or `french`, or `none` (or %NULL) for words as they are
 * @error: return location for a #GError
 *
 * Creates a stemmer for @language. Stop words are known for English,
 * German, French, Spanish, Italian, Portuguese and Dutch; other languages
 * have none, nor has `none`.
 *
 * Returns: (transfer full): the stemmer, or %NULL with
 *   %STACHE_ERROR_INVALID_ARGUMENT when Snowball has no stemmer for
 *   @language (the message lists those it has)
 */
StacheStemmer *
stache_stemmer_new (const char  *language,
                    GError     **error)
{
  g_autoptr(StacheStemmer) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (language == NULL || language[0] == '\0')
    language = "none";

  self = g_object_new (STACHE_TYPE_STEMMER, NULL);
  self->language = g_strdup (language);

  if (strcmp (language, "none") != 0)
    {
      if (is_known (language))
        self->stemmer = sb_stemmer_new (language, "UTF_8");
      if (self->stemmer == NULL)
        {
          g_autofree char *known = g_strjoinv (", ", (char **) sb_stemmer_list ());

          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("No Snowball stemmer for the language “%s”; known: %s, or none"),
                       language, known);
          return NULL;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (stop_word_lists); i++)
    if (strcmp (stop_word_lists[i].language, language) == 0)
      self->stop_words = stop_word_lists[i].words;

  return g_steal_pointer (&self);
}

/**
 * stache_stemmer_get_language:
 * @self: a #StacheStemmer
 *
 * Gets the language the stemmer was made for.
 *
 * Returns: the language, such as `english`, or `none`
 */
const char *
stache_stemmer_get_language (StacheStemmer *self)
{
  g_return_val_if_fail (STACHE_IS_STEMMER (self), NULL);

  return self->language;
}

/**
 * stache_stemmer_stem:
 * @self: a #StacheStemmer
 * @word: a folded word (lower case, see stache_text_fold())
 * @length: its length in bytes, or -1 if it ends with a NUL
 *
 * Gets the stem of @word: "signing" and "signed" become "sign" in
 * English. With the language `none`, and for words longer than 64 bytes,
 * @word as it is.
 *
 * Returns: (transfer full): the stem
 */
char *
stache_stemmer_stem (StacheStemmer *self,
                     const char    *word,
                     gssize         length)
{
  char key[MAX_STEM_BYTES + 1];
  const sb_symbol *out;
  char *stem;

  g_return_val_if_fail (STACHE_IS_STEMMER (self), NULL);
  g_return_val_if_fail (word != NULL, NULL);

  if (length < 0)
    length = (gssize) strlen (word);
  if (self->stemmer == NULL || length > MAX_STEM_BYTES || length == 0)
    return g_strndup (word, (gsize) length);

  /* Snowball wants the word alone */
  memcpy (key, word, (gsize) length);
  key[length] = '\0';
  g_mutex_lock (&self->mutex);
  out = sb_stemmer_stem (self->stemmer, (const sb_symbol *) key, (int) length);
  /* NULL only when Snowball runs out of memory: the word stays whole */
  stem = out != NULL ? g_strndup ((const char *) out, (gsize) sb_stemmer_length (self->stemmer))
                     : g_strdup (key);
  g_mutex_unlock (&self->mutex);

  return stem;
}

#define FNV_OFFSET_BASIS G_GUINT64_CONSTANT (0xcbf29ce484222325)
#define FNV_PRIME        G_GUINT64_CONSTANT (0x00000100000001b3)

static inline guint64
fnv1a (guint64     h,
       const char *p,
       gsize       len)
{
  for (gsize i = 0; i < len; i++)
    h = (h ^ (guchar) p[i]) * FNV_PRIME;
  return h;
}

/* The stem hashes a thread remembers, by a hash of the word, the seed and
 * the stemmer, in a direct-mapped table: a word takes the slot of its
 * hash, replacing whatever was there, so frequent words stay and a
 * vocabulary larger than the table costs only the rare words a miss. (A
 * 64-bit hash names a word: two words of a store colliding is as likely as
 * never.) */
#define STEM_HASH_SLOTS 16384   /* a power of two: 256 KiB a thread */

typedef struct
{
  guint64 words[STEM_HASH_SLOTS];   /* 0: free */
  guint64 stems[STEM_HASH_SLOTS];
} StemHashes;

/**
 * stache_stemmer_stem_hash:
 * @self: a #StacheStemmer
 * @word: (array length=length) (element-type guint8): a folded word (see
 *   stache_text_fold())
 * @length: its length in bytes
 * @seed: where the hash starts (FNV-1a's offset basis, `0xcbf29ce484222325`,
 *   or a value of the caller's, to keep its hashes apart from others)
 *
 * Gets the 64-bit FNV-1a hash, started at @seed, of the stem of @word
 * (what stache_stemmer_stem() gives), for callers that only compare
 * stems. It is remembered per thread, so a word met again costs a hash of
 * the word rather than Snowball.
 *
 * Returns: the hash of the stem
 */
guint64
stache_stemmer_stem_hash (StacheStemmer *self,
                          const char    *word,
                          gsize          length,
                          guint64        seed)
{
  static GPrivate key = G_PRIVATE_INIT (g_free);
  StemHashes *table = g_private_get (&key);
  g_autofree char *stem = NULL;
  guint64 word_hash;
  guint slot;

  g_return_val_if_fail (STACHE_IS_STEMMER (self), 0);
  g_return_val_if_fail (word != NULL || length == 0, 0);

  if (G_UNLIKELY (table == NULL))
    {
      table = g_new0 (StemHashes, 1);
      g_private_set (&key, table);
    }

  /* (the seed and the serial hashed in as bytes: XOR-ed into FNV's state
   * they only changed its low bits, which the word's first byte could
   * cancel: "sort" for one stemmer met "wort" for another) */
  word_hash = fnv1a (FNV_OFFSET_BASIS, (const char *) &seed, sizeof seed);
  word_hash = fnv1a (word_hash, (const char *) &self->serial, sizeof self->serial);
  word_hash = fnv1a (word_hash, word, length);
  if (word_hash == 0)
    word_hash = 1;
  /* (the high bits: FNV's low bits mix poorly) */
  slot = (guint) (word_hash >> 40) & (STEM_HASH_SLOTS - 1);
  if (G_LIKELY (table->words[slot] == word_hash))
    return table->stems[slot];

  stem = stache_stemmer_stem (self, word, (gssize) length);
  table->words[slot] = word_hash;
  table->stems[slot] = fnv1a (seed, stem, strlen (stem));
  return table->stems[slot];
}

/**
 * stache_stemmer_is_stop_word:
 * @self: a #StacheStemmer
 * @word: a folded word
 * @length: its length in bytes, or -1 if it ends with a NUL
 *
 * Checks whether @word is one of the language's few very common words
 * ("the", "what", "should", … in English) that rankers leave out of their
 * word counts.
 *
 * Returns: %TRUE for a stop word
 */
gboolean
stache_stemmer_is_stop_word (StacheStemmer *self,
                             const char    *word,
                             gssize         length)
{
  g_return_val_if_fail (STACHE_IS_STEMMER (self), FALSE);
  g_return_val_if_fail (word != NULL, FALSE);

  if (self->stop_words == NULL)
    return FALSE;
  if (length < 0)
    length = (gssize) strlen (word);

  for (const char * const *stop = self->stop_words; *stop != NULL; stop++)
    if (strncmp (*stop, word, (gsize) length) == 0 && (*stop)[length] == '\0')
      return TRUE;

  return FALSE;
}
