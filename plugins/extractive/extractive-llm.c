/* extractive-llm.c: answers by quoting the sources, without a model
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `extractive` LLM provider answers a question from the sources the
 * store found, by picking the sentences of those sources that share the
 * most words with the question. It generates nothing: every sentence of
 * the answer is quoted from a source and cited with its number.
 *
 * The prompt it understands (the store writes exactly this):
 *
 *     Question: <question text, possibly on several lines>
 *
 *     Sources:
 *     [1] <title or path of source 1>
 *     <passage text, any number of lines and paragraphs>
 *
 *     [2] <title>
 *     <passage text>
 *     …
 *
 * The first non-blank line starts with "Question:"; the question runs to
 * the line "Sources:". A source starts at a line "[n]" or "[n] title" that
 * follows a blank line (or the "Sources:" line), where n is the next
 * number: 1, 2, 3… in order, so a passage line such as "[12] Smith, 2003"
 * in a bibliography is not taken for a new source. The rest of the lines,
 * up to the next source, are its passage. Lines may end in "\r\n".
 *
 * A prompt in another form is read as: its first non-blank line is the
 * question (a leading "Question:" is dropped), and everything after that
 * line is one passage, source [1]. A prompt of a single line thus has no
 * passage, and gets the "none of the sources" answer rather than its own
 * question quoted back.
 *
 * Passages are cut into sentences at ".", "!", "?" and "…" followed by a
 * space and a character that is not a lower-case letter ("e.g. the" does
 * not end a sentence; closing quotes and brackets stay with their
 * sentence), at "。", "！" and "？", at blank lines between paragraphs,
 * before list items ("- ", "* ", "• ", "1. ") and around Markdown headings
 * ("# Title"). Other line breaks inside a paragraph are spaces.
 *
 * A sentence scores the fraction of the question's distinct words it
 * contains (accents and case ignored, a few common English words such as
 * "the", "what", "how" left out unless the question has nothing else),
 * halved when the sentence is itself a question, plus a boost of up to
 * 0.05 that favours earlier sources (the store lists the best first). The
 * answer quotes the best sentences, at most `extractive_max_sentences`
 * (default 3), keeping only those that contain at least one word of the
 * question and score at least half as well as the best one, with
 * duplicates dropped, in the order they appear in the sources:
 *
 *     Extractive answer (no language model configured; quoting the sources):
 *
 *     <sentence> [n] <sentence> [m]
 *
 * When no sentence contains a word of the question the answer is
 * "Extractive answer: none of the sources contains the words of the
 * question."
 *
 * The system prompt and the options are ignored. The completion's model is
 * "extractive", its finish reason "stop" and its token counts -1.
 *
 * Limits: word overlap is not understanding. Sentences are matched on the
 * exact (folded) words of the question: no synonyms, no stemming, no
 * reasoning across sentences. Text in languages written without spaces
 * (Chinese, Japanese, Thai) is not split into words, so a question in
 * those languages matches only a sentence that has its exact run of
 * characters. The sentence cutter does not know abbreviations followed by
 * a capital ("Dr. Smith" is cut after "Dr.").
 */
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>
#include <stache-plugin.h>


/* Tunable constants */
#define DEFAULT_MAX_SENTENCES 3
#define MIN_MAX_SENTENCES     1
#define MAX_MAX_SENTENCES     20
#define MAX_SENTENCES_SETTING "extractive_max_sentences"
#define SOURCE_BOOST          0.05   /* the most the first source gains */
#define QUESTION_PENALTY      0.5    /* factor for a sentence that asks */
#define RELATIVE_THRESHOLD    0.5    /* fraction of the best score kept */

#define ANSWER_HEADER  "Extractive answer (no language model configured; quoting the sources):"
#define ANSWER_NOTHING "Extractive answer: none of the sources contains the words of the question."

#define EXTRACTIVE_TYPE_LLM (extractive_llm_get_type ())
G_DECLARE_FINAL_TYPE (ExtractiveLlm, extractive_llm, EXTRACTIVE, LLM, StacheProvider)

struct _ExtractiveLlm
{
  StacheProvider parent_instance;

  /* Set once, by initable_init, before the provider is handed out */
  guint          max_sentences;
};

static void extractive_llm_iface_init (StacheLlmProviderInterface *iface);
static void extractive_llm_initable_iface_init (GInitableIface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (ExtractiveLlm, extractive_llm, STACHE_TYPE_PROVIDER, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_LLM_PROVIDER,
                                                               extractive_llm_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               extractive_llm_initable_iface_init))

/* ---- reading the prompt ---- */

typedef struct
{
  guint    number;   /* as cited: [number] */
  GString *passage;
} Source;

static void
source_free (gpointer p)
{
  Source *source = p;

  g_string_free (source->passage, TRUE);
  g_free (source);
}

static Source *
source_new (guint number)
{
  Source *source = g_new0 (Source, 1);

  source->number = number;
  source->passage = g_string_new (NULL);

  return source;
}

static gboolean
is_blank (const char *line)
{
  for (const char *p = line; *p != '\0'; p++)
    {
      if (!g_ascii_isspace (*p))
        return FALSE;
    }

  return TRUE;
}

static const char *
skip_spaces (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;

  return p;
}

/* Whether @line is "[@expected]" or "[@expected] title" */
static gboolean
is_source_header (const char *line,
                  guint       expected)
{
  const char *p = skip_spaces (line);
  char *end = NULL;
  guint64 number;

  if (*p != '[' || !g_ascii_isdigit (p[1]))
    return FALSE;

  number = g_ascii_strtoull (p + 1, &end, 10);
  if (*end != ']' || number != expected)
    return FALSE;

  return end[1] == '\0' || end[1] == ' ' || end[1] == '\t';
}

/* The text after "Question:" if @line starts with it, else NULL */
static const char *
after_question_label (const char *line)
{
  const char *p = skip_spaces (line);
  static const char label[] = "Question:";

  if (g_ascii_strncasecmp (p, label, sizeof label - 1) != 0)
    return NULL;

  return skip_spaces (p + sizeof label - 1);
}

/* Reads a prompt in the format described at the top of this file into
 * @question and @sources. Returns FALSE, with nothing set, when the prompt
 * is in another form. @lines are right-stripped. */
static gboolean
parse_formatted (char      **lines,
                 char      **question,
                 GPtrArray  *sources)
{
  g_autoptr(GString) text = NULL;
  const char *first;
  Source *current = NULL;
  gboolean after_blank = TRUE;
  guint i = 0;

  while (lines[i] != NULL && is_blank (lines[i]))
    i++;
  if (lines[i] == NULL || (first = after_question_label (lines[i])) == NULL)
    return FALSE;

  text = g_string_new (first);
  for (i++; lines[i] != NULL && g_ascii_strcasecmp (skip_spaces (lines[i]), "Sources:") != 0; i++)
    {
      g_string_append_c (text, ' ');
      g_string_append (text, lines[i]);
    }
  if (lines[i] == NULL)
    return FALSE;

  for (i++; lines[i] != NULL; i++)
    {
      if (after_blank && is_source_header (lines[i], sources->len + 1))
        {
          /* The title is for people; answers cite the number. */
          current = source_new (sources->len + 1);
          g_ptr_array_add (sources, current);
          after_blank = FALSE;
          continue;
        }

      /* Anything between "Sources:" and [1] is not part of a source. */
      if (current != NULL)
        {
          g_string_append (current->passage, lines[i]);
          g_string_append_c (current->passage, '\n');
        }
      after_blank = is_blank (lines[i]);
    }

  *question = g_strstrip (g_string_free (g_steal_pointer (&text), FALSE));

  return TRUE;
}

/* Reads a prompt in any other form: first line the question, the rest one
 * passage. */
static void
parse_unformatted (char      **lines,
                   char      **question,
                   GPtrArray  *sources)
{
  Source *source = source_new (1);
  const char *first;
  guint i = 0;

  while (lines[i] != NULL && is_blank (lines[i]))
    i++;

  if (lines[i] == NULL)
    {
      *question = g_strdup ("");
      source_free (source);
      return;
    }

  first = after_question_label (lines[i]);
  *question = g_strstrip (g_strdup (first != NULL ? first : lines[i]));

  for (i++; lines[i] != NULL; i++)
    {
      g_string_append (source->passage, lines[i]);
      g_string_append_c (source->passage, '\n');
    }
  g_ptr_array_add (sources, source);
}

static void
parse_prompt (const char  *prompt,
              char       **question,
              GPtrArray   *sources)
{
  g_auto(GStrv) lines = g_strsplit (prompt, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    g_strchomp (lines[i]);

  if (!parse_formatted (lines, question, sources))
    {
      g_ptr_array_set_size (sources, 0);
      parse_unformatted (lines, question, sources);
    }
}

/* ---- cutting passages into sentences ---- */

typedef struct
{
  char   *text;         /* as in the source, with spaces collapsed */
  guint   source;       /* the source's number */
  guint   source_rank;  /* the source's position, from 0 */
  guint   order;        /* position among all sentences */
  guint   overlap;      /* distinct question words it contains */
  double  relevance;    /* overlap / number of question words, penalised */
  double  score;        /* relevance + source boost */
} Sentence;

static void
sentence_free (gpointer p)
{
  Sentence *sentence = p;

  g_free (sentence->text);
  g_free (sentence);
}

static gboolean
is_closing (gunichar c)
{
  switch (c)
    {
    case '"': case '\'': case ')': case ']': case '}':
    case 0x00BB:  /* » */
    case 0x2019:  /* ’ */
    case 0x201D:  /* ” */
    case 0x300D:  /* 」 */
    case 0x300F:  /* 』 */
    case 0xFF09:  /* ） */
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
has_word (const char *start,
          const char *end)
{
  for (const char *p = start; p < end; p = g_utf8_next_char (p))
    {
      if (g_unichar_isalnum (g_utf8_get_char (p)))
        return TRUE;
    }

  return FALSE;
}

static void
add_sentence (GPtrArray  *sentences,
              const char *start,
              const char *end,
              guint       number,
              guint       rank)
{
  Sentence *sentence;

  while (start < end && *start == ' ')
    start++;
  while (end > start && end[-1] == ' ')
    end--;
  if (!has_word (start, end))
    return;

  sentence = g_new0 (Sentence, 1);
  sentence->text = g_strndup (start, (gsize) (end - start));
  sentence->source = number;
  sentence->source_rank = rank;
  sentence->order = sentences->len;
  g_ptr_array_add (sentences, sentence);
}

/* If a sentence ends at the punctuation that ends at @p, returns where
 * the sentence ends (after closing quotes and brackets), else NULL.
 * @wide: the punctuation is a full-width one, which needs no space. */
static const char *
sentence_end (const char *p,
              gboolean    wide)
{
  const char *next;

  while (*p != '\0' && is_closing (g_utf8_get_char (p)))
    p = g_utf8_next_char (p);

  if (wide || *p == '\0')
    return p;
  if (*p != ' ')
    return NULL;

  next = p + 1;
  if (*next != '\0' && g_unichar_islower (g_utf8_get_char (next)))
    return NULL;

  return p;
}

/* Cuts one paragraph, whose spaces are already collapsed, into sentences */
static void
split_paragraph (GPtrArray  *sentences,
                 const char *text,
                 guint       number,
                 guint       rank)
{
  const char *start = text;
  const char *p = text;

  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char (p);
      const char *after = g_utf8_next_char (p);
      const char *end = NULL;

      if (c == '.' || c == '!' || c == '?' || c == 0x2026 /* … */)
        end = sentence_end (after, FALSE);
      else if (c == 0x3002 /* 。 */ || c == 0xFF01 /* ！ */ || c == 0xFF1F /* ？ */)
        end = sentence_end (after, TRUE);

      if (end != NULL)
        {
          add_sentence (sentences, start, end, number, rank);
          start = p = end;
        }
      else
        p = after;
    }

  add_sentence (sentences, start, p, number, rank);
}

/* Appends @line to @paragraph, runs of white space becoming one space */
static void
append_collapsed (GString    *paragraph,
                  const char *line)
{
  for (const char *p = line; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        {
          if (paragraph->len > 0 && paragraph->str[paragraph->len - 1] != ' ')
            g_string_append_c (paragraph, ' ');
        }
      else
        g_string_append_c (paragraph, *p);
    }

  if (paragraph->len > 0 && paragraph->str[paragraph->len - 1] != ' ')
    g_string_append_c (paragraph, ' ');
}

/* Whether @line starts a block of its own: a list item ("- ", "* ", "+ ",
 * "• ", "1. ", "1) ") or a Markdown heading ("# "). Such lines rarely end
 * with a full stop, so without this they would run into the next. */
static gboolean
starts_block (const char *line,
              gboolean   *is_heading)
{
  const char *p = skip_spaces (line);

  *is_heading = FALSE;

  if ((*p == '-' || *p == '*' || *p == '+') && (p[1] == ' ' || p[1] == '\t'))
    return TRUE;
  if (g_str_has_prefix (p, "\xe2\x80\xa2"))  /* • */
    return TRUE;

  if (*p == '#')
    {
      while (*p == '#')
        p++;
      *is_heading = (*p == ' ' || *p == '\t');
      return *is_heading;
    }

  if (g_ascii_isdigit (*p))
    {
      while (g_ascii_isdigit (*p))
        p++;
      return (*p == '.' || *p == ')') && (p[1] == ' ' || p[1] == '\t');
    }

  return FALSE;
}

static void
split_passage (GPtrArray    *sentences,
               const Source *source,
               guint         rank)
{
  g_auto(GStrv) lines = g_strsplit (source->passage->str, "\n", -1);
  g_autoptr(GString) paragraph = g_string_new (NULL);

  for (guint i = 0; ; i++)
    {
      gboolean is_heading = FALSE;

      /* A paragraph ends at a blank line, at the end, and before a list
       * item or a heading. */
      if (lines[i] == NULL || is_blank (lines[i]) || starts_block (lines[i], &is_heading))
        {
          split_paragraph (sentences, paragraph->str, source->number, rank);
          g_string_truncate (paragraph, 0);
          if (lines[i] == NULL)
            break;
        }

      /* Headings are titles, not statements: never quoted as an answer. */
      if (is_heading)
        continue;

      append_collapsed (paragraph, lines[i]);
    }
}

/* ---- scoring and answering ---- */

/* The distinct words of the question that count, as a set */
static GHashTable *
question_terms (const char *question)
{
  g_autoptr(GPtrArray) tokens = stache_text_split_words (question);
  GHashTable *terms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint pass = 0; pass < 2 && g_hash_table_size (terms) == 0; pass++)
    {
      /* Stop words only when the question has nothing else */
      for (guint i = 0; i < tokens->len; i++)
        {
          const char *token = g_ptr_array_index (tokens, i);

          if (pass == 0 && stache_text_is_stop_word (token))
            continue;
          g_hash_table_add (terms, g_strdup (token));
        }
    }

  return terms;
}

static void
score_sentence (Sentence   *sentence,
                GHashTable *terms,
                guint       n_sources)
{
  g_autoptr(GPtrArray) words = stache_text_split_words (sentence->text);
  g_autoptr(GHashTable) found = g_hash_table_new (g_str_hash, g_str_equal);
  gsize len = strlen (sentence->text);

  for (guint i = 0; i < words->len; i++)
    {
      char *word = g_ptr_array_index (words, i);

      if (g_hash_table_contains (terms, word))
        g_hash_table_add (found, word);
    }

  sentence->overlap = g_hash_table_size (found);
  if (sentence->overlap == 0)
    return;

  sentence->relevance = (double) sentence->overlap / g_hash_table_size (terms);
  if (len > 0 && sentence->text[len - 1] == '?')
    sentence->relevance *= QUESTION_PENALTY;
  sentence->score = sentence->relevance +
                    SOURCE_BOOST * (double) (n_sources - sentence->source_rank) / n_sources;
}

static int
compare_by_score (gconstpointer a,
                  gconstpointer b)
{
  const Sentence *sa = *(const Sentence * const *) a;
  const Sentence *sb = *(const Sentence * const *) b;

  if (sa->score != sb->score)
    return sa->score > sb->score ? -1 : 1;

  return (sa->order > sb->order) - (sa->order < sb->order);
}

static int
compare_by_order (gconstpointer a,
                  gconstpointer b)
{
  const Sentence *sa = *(const Sentence * const *) a;
  const Sentence *sb = *(const Sentence * const *) b;

  return (sa->order > sb->order) - (sa->order < sb->order);
}

static gboolean
has_text (GPtrArray  *chosen,
          const char *text)
{
  for (guint i = 0; i < chosen->len; i++)
    {
      if (strcmp (((Sentence *) g_ptr_array_index (chosen, i))->text, text) == 0)
        return TRUE;
    }

  return FALSE;
}

/* The answer to @prompt, as described at the top of this file */
static char *
answer (const char *prompt,
        guint       max_sentences)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func (source_free);
  g_autoptr(GPtrArray) sentences = g_ptr_array_new_with_free_func (sentence_free);
  g_autoptr(GPtrArray) ranked = g_ptr_array_new ();
  g_autoptr(GPtrArray) chosen = g_ptr_array_new ();
  g_autoptr(GHashTable) terms = NULL;
  g_autofree char *question = NULL;
  GString *text;
  double best;

  parse_prompt (prompt, &question, sources);
  terms = question_terms (question);
  if (g_hash_table_size (terms) == 0)
    return g_strdup (ANSWER_NOTHING);

  for (guint i = 0; i < sources->len; i++)
    split_passage (sentences, g_ptr_array_index (sources, i), i);

  for (guint i = 0; i < sentences->len; i++)
    {
      Sentence *sentence = g_ptr_array_index (sentences, i);

      score_sentence (sentence, terms, sources->len);
      if (sentence->overlap > 0)
        g_ptr_array_add (ranked, sentence);
    }

  if (ranked->len == 0)
    return g_strdup (ANSWER_NOTHING);

  g_ptr_array_sort (ranked, compare_by_score);
  best = ((Sentence *) g_ptr_array_index (ranked, 0))->relevance;

  for (guint i = 0; i < ranked->len && chosen->len < max_sentences; i++)
    {
      Sentence *sentence = g_ptr_array_index (ranked, i);

      if (sentence->relevance < RELATIVE_THRESHOLD * best || has_text (chosen, sentence->text))
        continue;
      g_ptr_array_add (chosen, sentence);
    }
  g_ptr_array_sort (chosen, compare_by_order);

  text = g_string_new (ANSWER_HEADER "\n\n");
  for (guint i = 0; i < chosen->len; i++)
    {
      Sentence *sentence = g_ptr_array_index (chosen, i);

      if (i > 0)
        g_string_append_c (text, ' ');
      g_string_append_printf (text, "%s [%u]", sentence->text, sentence->source);
    }

  return g_string_free (text, FALSE);
}

/* ---- StacheLlmProvider ---- */

static StacheCompletion *
extractive_llm_generate (StacheLlmProvider  *provider,
                         const char         *prompt,
                         const char         *system_prompt,
                         JsonObject         *options,
                         GCancellable       *cancellable,
                         GError            **error)
{
  ExtractiveLlm *self = EXTRACTIVE_LLM (provider);
  g_autofree char *text = NULL;
  StacheCompletion *completion;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  text = answer (prompt, self->max_sentences);

  completion = stache_completion_new_full (text, "extractive", "stop", -1, -1);

  return completion;
}

static void
extractive_llm_iface_init (StacheLlmProviderInterface *iface)
{
  iface->generate = extractive_llm_generate;
}

/* ---- GInitable: reads and checks the settings ---- */

static gboolean
extractive_llm_initable_init (GInitable     *initable,
                              GCancellable  *cancellable,
                              GError       **error)
{
  ExtractiveLlm *self = EXTRACTIVE_LLM (initable);
  StacheSettings *settings = stache_provider_get_settings (STACHE_PROVIDER (self));
  GError *local_error = NULL;
  gint64 max_sentences;

  if (settings == NULL)
    return TRUE;

  max_sentences = stache_settings_get_int (settings, MAX_SENTENCES_SETTING,
                                           DEFAULT_MAX_SENTENCES, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (max_sentences < MIN_MAX_SENTENCES || max_sentences > MAX_MAX_SENTENCES)
    {
      g_autofree char *where = stache_settings_describe_source (settings, MAX_SENTENCES_SETTING);
      g_autofree char *value = stache_settings_get_string (settings, MAX_SENTENCES_SETTING, NULL);

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   /* Translators: the first %s is a settings key, the second
                    * where its value came from, the third the value */
                   _("Setting “%s” (from %s) has the value “%s”, which is not a whole "
                     "number from %d to %d"),
                   MAX_SENTENCES_SETTING, where, value != NULL ? g_strstrip (value) : "",
                   MIN_MAX_SENTENCES, MAX_MAX_SENTENCES);
      return FALSE;
    }

  self->max_sentences = (guint) max_sentences;

  return TRUE;
}

static void
extractive_llm_initable_iface_init (GInitableIface *iface)
{
  iface->init = extractive_llm_initable_init;
}

/* ---- GObject ---- */

static void
extractive_llm_class_init (ExtractiveLlmClass *klass)
{
}

static void
extractive_llm_class_finalize (ExtractiveLlmClass *klass)
{
}

static void
extractive_llm_init (ExtractiveLlm *self)
{
  self->max_sentences = DEFAULT_MAX_SENTENCES;
}

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  extractive_llm_register_type (G_TYPE_MODULE (module));
  peas_object_module_register_extension_type (module, STACHE_TYPE_LLM_PROVIDER,
                                              EXTRACTIVE_TYPE_LLM);
}
