/* stache-text-formats.c: turning file contents into text
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "stache-private.h"
#include "stache-error.h"
#include "stache-text-formats-private.h"

/* Everything here reads bytes from outside (files of any origin), so every
 * scan is bounded by the length it was given, never by a NUL, and every
 * search moves forward: a 10 MB document of tag soup costs a few passes
 * over it, never a pass per tag. Text is built in GStrings. */

/* How much of the start of the data is inspected to tell text from
 * binary: enough for any header, small enough to be free. */
#define SNIFF_LENGTH 8192

/* Tag names we act on are all shorter than this. */
#define MAX_TAG_NAME 16

void
_stache_loaded_text_free (StacheLoadedText *loaded)
{
  if (loaded == NULL)
    return;

  g_free (loaded->text);
  g_free (loaded->title);
  g_free (loaded);
}

/* ------------------------------------------------------------------ */
/* Bytes to clean UTF-8                                               */
/* ------------------------------------------------------------------ */

/* Text files have no NUL bytes (UTF-16 is converted before this), and even
 * a text in the wrong 8-bit encoding has mostly valid UTF-8 (ASCII) bytes;
 * images, archives and executables fail one test or the other at once. */
static gboolean
looks_binary (const char *data,
              gsize       length)
{
  gsize window = MIN (length, SNIFF_LENGTH);
  const char *p = data;
  const char *end = data + window;
  gsize invalid = 0;

  if (memchr (data, '\0', window) != NULL)
    return TRUE;

  while (p < end)
    {
      gunichar ch;

      if ((guchar) *p < 0x80)
        {
          p++;
          continue;
        }

      ch = g_utf8_get_char_validated (p, end - p);
      if (ch == (gunichar) -2 && window < length)
        break; /* a character cut by the window, not by the data */

      if (ch == (gunichar) -1 || ch == (gunichar) -2)
        {
          invalid++;
          p++;
        }
      else
        p = g_utf8_next_char (p);
    }

  return invalid * 10 > window * 3;
}

/* UTF-16 with a byte order mark (what Windows tools often write) is text,
 * but full of NUL bytes; convert it rather than call it binary. Returns
 * NULL if @data is not UTF-16 or does not convert cleanly. */
static char *
convert_utf16 (const char *data,
               gsize       length,
               gsize      *out_length)
{
  const char *from;

  if (length < 2)
    return NULL;

  if ((guchar) data[0] == 0xFF && (guchar) data[1] == 0xFE)
    from = "UTF-16LE";
  else if ((guchar) data[0] == 0xFE && (guchar) data[1] == 0xFF)
    from = "UTF-16BE";
  else
    return NULL;

  return g_convert (data + 2, length - 2, "UTF-8", from, NULL, out_length, NULL);
}

/* Returns valid UTF-8 without a BOM and with '\n' line ends only. */
static char *
clean_text (const char *data,
            gsize       length,
            gboolean   *repaired)
{
  g_autofree char *valid = NULL;
  GString *out;
  const char *p;
  const char *end;

  *repaired = FALSE;

  /* g_utf8_validate_len() also rejects NUL bytes, which then become
   * U+FFFD: the text never has an embedded NUL that would cut it short. */
  if (!_stache_utf8_validate_len (data, length))
    {
      valid = g_utf8_make_valid (data, length);
      data = valid;
      length = strlen (valid);
      *repaired = TRUE;
    }

  if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    {
      data += 3;
      length -= 3;
    }

  out = g_string_sized_new (length + 1);
  p = data;
  end = data + length;
  while (p < end)
    {
      const char *cr = memchr (p, '\r', end - p);

      if (cr == NULL)
        {
          g_string_append_len (out, p, end - p);
          break;
        }

      g_string_append_len (out, p, cr - p);
      g_string_append_c (out, '\n');
      p = cr + 1;
      /* CRLF: the '\n' was just written for the '\r'. */
      if (p < end && *p == '\n')
        p++;
    }

  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* Format detection                                                   */
/* ------------------------------------------------------------------ */

static gboolean
format_from_filename (const char       *filename,
                      StacheTextFormat *format)
{
  static const struct
  {
    const char       *extension;
    StacheTextFormat  format;
  } extensions[] = {
    { "md", STACHE_TEXT_FORMAT_MARKDOWN },
    { "markdown", STACHE_TEXT_FORMAT_MARKDOWN },
    { "mkd", STACHE_TEXT_FORMAT_MARKDOWN },
    { "html", STACHE_TEXT_FORMAT_HTML },
    { "htm", STACHE_TEXT_FORMAT_HTML },
    { "xhtml", STACHE_TEXT_FORMAT_HTML },
  };
  const char *base;
  const char *dot;
  gsize i;

  if (filename == NULL)
    return FALSE;

  /* The extension of the last path component: "notes.d/README" has none. */
  base = strrchr (filename, '/');
#ifdef G_OS_WIN32
  if (strrchr (filename, '\\') > base)
    base = strrchr (filename, '\\');
#endif
  base = base != NULL ? base + 1 : filename;

  dot = strrchr (base, '.');
  if (dot == NULL || dot == base)
    return FALSE;

  for (i = 0; i < G_N_ELEMENTS (extensions); i++)
    {
      if (g_ascii_strcasecmp (dot + 1, extensions[i].extension) == 0)
        {
          *format = extensions[i].format;
          return TRUE;
        }
    }

  return FALSE;
}

static gboolean
has_prefix_ascii_case (const char *text,
                       gsize       length,
                       const char *prefix)
{
  gsize n = strlen (prefix);

  return length >= n && g_ascii_strncasecmp (text, prefix, n) == 0;
}

/* Finds @needle in @text[@from, @length); returns its offset or @length. */
static gsize
find_string (const char *text,
             gsize       from,
             gsize       length,
             const char *needle)
{
  gsize n = strlen (needle);

  while (from + n <= length)
    {
      const char *hit = memchr (text + from, needle[0], length - from - n + 1);

      if (hit == NULL)
        break;

      if (memcmp (hit, needle, n) == 0)
        return hit - text;

      from = hit - text + 1;
    }

  return length;
}

/* Whether the text starts like an HTML document: after whitespace, an
 * XML declaration and comments, "<!DOCTYPE html" or an <html> tag. */
static gboolean
sniff_html (const char *text,
            gsize       length)
{
  gsize i = 0;

  for (;;)
    {
      while (i < length && g_ascii_isspace (text[i]))
        i++;

      if (has_prefix_ascii_case (text + i, length - i, "<!--"))
        i = MIN (find_string (text, i + 4, length, "-->") + 3, length);
      else if (has_prefix_ascii_case (text + i, length - i, "<?"))
        i = MIN (find_string (text, i + 2, length, "?>") + 2, length);
      else
        break;
    }

  if (i >= length)
    return FALSE;

  if (has_prefix_ascii_case (text + i, length - i, "<!doctype html"))
    return TRUE;

  if (has_prefix_ascii_case (text + i, length - i, "<html"))
    return i + 5 == length || g_ascii_isspace (text[i + 5]) || text[i + 5] == '>';

  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Markdown                                                           */
/* ------------------------------------------------------------------ */

/* The text of the first level-1 ATX heading ("# Title"), skipping fenced
 * code blocks, where a "# comment" is code. */
static char *
markdown_title (const char *text)
{
  const char *line = text;
  char fence = '\0';
  gsize fence_run = 0;

  while (*line != '\0')
    {
      const char *eol = strchr (line, '\n');
      const char *p = line;
      gsize indent = 0;
      gsize run = 0;

      if (eol == NULL)
        eol = line + strlen (line);

      while (p < eol && *p == ' ' && indent < 4)
        {
          p++;
          indent++;
        }

      if (indent < 4 && p < eol && (*p == '`' || *p == '~'))
        {
          char ch = *p;

          while (p + run < eol && p[run] == ch)
            run++;

          if (fence == '\0' && run >= 3)
            {
              fence = ch;
              fence_run = run;
            }
          else if (fence == ch && run >= fence_run)
            fence = '\0';
        }
      else if (fence == '\0' && indent < 4 && eol - p >= 2 &&
               p[0] == '#' && (p[1] == ' ' || p[1] == '\t'))
        {
          const char *start = p + 2;
          const char *end = eol;

          while (start < end && g_ascii_isspace (*start))
            start++;
          /* An optional closing "#" run, if set off by a space. */
          while (end > start && g_ascii_isspace (end[-1]))
            end--;
          {
            const char *closing = end;

            while (closing > start && closing[-1] == '#')
              closing--;
            if (closing == start || g_ascii_isspace (closing[-1]))
              end = closing;
          }
          while (end > start && g_ascii_isspace (end[-1]))
            end--;

          if (end > start)
            return g_strndup (start, end - start);
        }

      line = *eol == '\n' ? eol + 1 : eol;
    }

  return NULL;
}

/* ------------------------------------------------------------------ */
/* HTML entities                                                      */
/* ------------------------------------------------------------------ */

typedef struct
{
  const char *name;
  gunichar    value;
} Entity;

/* Sorted by strcmp() for bsearch(). Beyond the five XML ones, the entities
 * that actually turn up in hand-written and CMS pages. &nbsp; is decoded
 * to a plain space: it is layout, not content, and a search index wants
 * words separated by ordinary spaces. */
static const Entity entities[] = {
  { "AElig", 0xC6 }, { "Aacute", 0xC1 }, { "Agrave", 0xC0 }, { "Auml", 0xC4 },
  { "Ccedil", 0xC7 }, { "Eacute", 0xC9 }, { "Egrave", 0xC8 }, { "Ouml", 0xD6 },
  { "Uuml", 0xDC }, { "aacute", 0xE1 }, { "acirc", 0xE2 }, { "aelig", 0xE6 },
  { "agrave", 0xE0 }, { "amp", '&' }, { "apos", '\'' }, { "aring", 0xE5 },
  { "auml", 0xE4 }, { "bull", 0x2022 }, { "ccedil", 0xE7 }, { "cent", 0xA2 },
  { "copy", 0xA9 }, { "deg", 0xB0 }, { "eacute", 0xE9 }, { "ecirc", 0xEA },
  { "egrave", 0xE8 }, { "emsp", 0x2003 }, { "ensp", 0x2002 }, { "euml", 0xEB },
  { "euro", 0x20AC }, { "frac12", 0xBD }, { "gt", '>' }, { "hellip", 0x2026 },
  { "iacute", 0xED }, { "icirc", 0xEE }, { "iexcl", 0xA1 }, { "iquest", 0xBF },
  { "iuml", 0xEF }, { "laquo", 0xAB }, { "larr", 0x2190 }, { "ldquo", 0x201C },
  { "lsquo", 0x2018 }, { "lt", '<' }, { "mdash", 0x2014 }, { "middot", 0xB7 },
  { "minus", 0x2212 }, { "nbsp", ' ' }, { "ndash", 0x2013 }, { "ntilde", 0xF1 },
  { "oacute", 0xF3 }, { "ocirc", 0xF4 }, { "oslash", 0xF8 }, { "ouml", 0xF6 },
  { "para", 0xB6 }, { "pound", 0xA3 }, { "quot", '"' }, { "raquo", 0xBB },
  { "rarr", 0x2192 }, { "rdquo", 0x201D }, { "reg", 0xAE }, { "rsquo", 0x2019 },
  { "sect", 0xA7 }, { "shy", 0xAD }, { "szlig", 0xDF }, { "thinsp", 0x2009 },
  { "times", 0xD7 }, { "trade", 0x2122 }, { "uacute", 0xFA }, { "ucirc", 0xFB },
  { "ugrave", 0xF9 }, { "uuml", 0xFC }, { "yen", 0xA5 },
};

/* Old pages write these without the ';', and browsers accept that. */
static const char * const legacy_entities[] = {
  "amp", "lt", "gt", "quot", "nbsp", "copy", "reg",
};

static int
compare_entity (const void *key,
                const void *element)
{
  return strcmp (key, ((const Entity *) element)->name);
}

/* What browsers show for &#128;–&#159;: these numbers are Windows-1252
 * bytes in old pages (&#150; for a dash), not the C1 control codes. */
static const gunichar windows_1252[32] = {
  0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
  0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

/* Maps a numeric character reference to what may go into the text: no
 * NUL, no surrogates, nothing beyond U+10FFFF, no other control codes. */
static gunichar
sanitize_code_point (guint32  value,
                     gboolean overflow)
{
  if (overflow || value == 0 || value > 0x10FFFF)
    return 0xFFFD;
  if (value >= 0xD800 && value <= 0xDFFF)
    return 0xFFFD;
  if (value >= 0x80 && value <= 0x9F)
    return windows_1252[value - 0x80];
  if (value == '\r')
    return '\n'; /* line ends are '\n' only */
  if (value < 0x20 && value != '\t' && value != '\n' && value != '\f')
    return 0xFFFD;
  if (value == 0x7F || (value >= 0xFDD0 && value <= 0xFDEF) || (value & 0xFFFE) == 0xFFFE)
    return 0xFFFD;

  return value;
}

/* Decodes the character reference at @s (which starts with '&'). Returns
 * the number of bytes it takes, or 0 if it is not one: then the '&' is an
 * ordinary character, as in "Q&A". */
static gsize
decode_entity (const char *s,
               gsize       length,
               gunichar   *value)
{
  gsize i;

  if (length < 2)
    return 0;

  if (s[1] == '#')
    {
      gboolean hex = FALSE;
      gboolean overflow = FALSE;
      guint32 number = 0;
      gsize digits;

      i = 2;
      if (i < length && (s[i] == 'x' || s[i] == 'X'))
        {
          hex = TRUE;
          i++;
        }

      digits = i;
      while (i < length && (hex ? g_ascii_isxdigit (s[i]) : g_ascii_isdigit (s[i])))
        {
          /* Keep reading digits to consume the whole reference, but stop
           * computing once it is out of range (no integer overflow). */
          if (!overflow)
            {
              number = number * (hex ? 16 : 10) +
                       (hex ? (guint32) g_ascii_xdigit_value (s[i])
                            : (guint32) g_ascii_digit_value (s[i]));
              if (number > 0x10FFFF)
                overflow = TRUE;
            }
          i++;
        }

      if (i == digits)
        return 0;

      if (i < length && s[i] == ';')
        i++;

      *value = sanitize_code_point (number, overflow);

      return i;
    }
  else
    {
      char name[MAX_TAG_NAME * 2];
      const Entity *entity;
      gsize n;

      for (i = 1; i < length && i < sizeof name && g_ascii_isalnum (s[i]); i++)
        name[i - 1] = s[i];
      n = i - 1;
      if (n == 0 || n >= sizeof name - 1 || (i < length && g_ascii_isalnum (s[i])))
        return 0;
      name[n] = '\0';

      entity = bsearch (name, entities, G_N_ELEMENTS (entities), sizeof entities[0],
                        compare_entity);
      if (entity == NULL)
        return 0;

      if (i < length && s[i] == ';')
        {
          *value = entity->value;
          return i + 1;
        }

      for (n = 0; n < G_N_ELEMENTS (legacy_entities); n++)
        {
          if (strcmp (name, legacy_entities[n]) == 0)
            {
              *value = entity->value;
              return i;
            }
        }

      return 0;
    }
}

static inline gboolean
is_html_space (char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\f' || ch == '\r';
}

/* Entities decoded, whitespace collapsed, trimmed: for the title. */
static char *
decode_and_collapse (const char *s,
                     gsize       length)
{
  GString *out = g_string_sized_new (length);
  gboolean space = FALSE;
  gsize i = 0;

  while (i < length)
    {
      gunichar value = 0;
      gsize n;

      if (s[i] == '&' && (n = decode_entity (s + i, length - i, &value)) > 0)
        i += n;
      else if (is_html_space (s[i]))
        {
          space = TRUE;
          i++;
          continue;
        }
      else
        {
          /* Copy a run of ordinary bytes; the input is valid UTF-8 and
           * the run ends at an ASCII byte, so no character is split. */
          gsize j = i + 1;

          while (j < length && s[j] != '&' && !is_html_space (s[j]))
            j++;
          if (space && out->len > 0)
            g_string_append_c (out, ' ');
          space = FALSE;
          g_string_append_len (out, s + i, j - i);
          i = j;
          continue;
        }

      if (value < 0x80 && is_html_space ((char) value))
        {
          space = TRUE;
          continue;
        }
      if (space && out->len > 0)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_unichar (out, value);
    }

  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* HTML to text                                                       */
/* ------------------------------------------------------------------ */

typedef enum
{
  TAG_INLINE,     /* anything we do not know: its text flows on */
  TAG_PARAGRAPH,  /* a block: blank line around it */
  TAG_LINE,       /* a line of its own */
  TAG_BREAK,      /* <br> */
  TAG_CELL,       /* a table cell: a space */
  TAG_HEADING,
  TAG_PRE,
  TAG_RAW,        /* script, style: contents dropped, never parsed */
  TAG_DROP,       /* contents dropped: not text a reader sees */
  TAG_TITLE,
  TAG_HEAD,
  TAG_HEAD_ONLY,  /* meta, link, base: allowed in <head> */
  TAG_BODY,
  TAG_HTML,
} TagType;

typedef struct
{
  const char *name;
  TagType     type;
} TagInfo;

/* Sorted by strcmp() for bsearch(). */
static const TagInfo tags[] = {
  { "address", TAG_PARAGRAPH }, { "article", TAG_PARAGRAPH },
  { "aside", TAG_PARAGRAPH }, { "base", TAG_HEAD_ONLY },
  { "blockquote", TAG_PARAGRAPH }, { "body", TAG_BODY }, { "br", TAG_BREAK },
  { "caption", TAG_LINE }, { "dd", TAG_LINE }, { "details", TAG_PARAGRAPH },
  { "div", TAG_LINE }, { "dl", TAG_PARAGRAPH }, { "dt", TAG_LINE },
  { "fieldset", TAG_PARAGRAPH }, { "figcaption", TAG_LINE },
  { "figure", TAG_PARAGRAPH }, { "footer", TAG_PARAGRAPH },
  { "form", TAG_PARAGRAPH }, { "h1", TAG_HEADING }, { "h2", TAG_HEADING },
  { "h3", TAG_HEADING }, { "h4", TAG_HEADING }, { "h5", TAG_HEADING },
  { "h6", TAG_HEADING }, { "head", TAG_HEAD }, { "header", TAG_PARAGRAPH },
  { "hr", TAG_PARAGRAPH }, { "html", TAG_HTML }, { "iframe", TAG_DROP },
  { "legend", TAG_LINE }, { "li", TAG_LINE }, { "link", TAG_HEAD_ONLY },
  { "listing", TAG_PRE }, { "main", TAG_PARAGRAPH }, { "meta", TAG_HEAD_ONLY },
  { "nav", TAG_PARAGRAPH }, { "noscript", TAG_DROP }, { "ol", TAG_PARAGRAPH },
  { "option", TAG_LINE }, { "p", TAG_PARAGRAPH }, { "pre", TAG_PRE },
  { "script", TAG_RAW }, { "section", TAG_PARAGRAPH }, { "style", TAG_RAW },
  { "summary", TAG_LINE }, { "svg", TAG_DROP }, { "table", TAG_PARAGRAPH },
  { "td", TAG_CELL }, { "template", TAG_DROP }, { "th", TAG_CELL },
  { "title", TAG_TITLE }, { "tr", TAG_LINE }, { "ul", TAG_PARAGRAPH },
};

static int
compare_tag (const void *key,
             const void *element)
{
  return strcmp (key, ((const TagInfo *) element)->name);
}

static TagType
tag_type (const char *name)
{
  const TagInfo *info = bsearch (name, tags, G_N_ELEMENTS (tags), sizeof tags[0], compare_tag);

  return info != NULL ? info->type : TAG_INLINE;
}

typedef struct
{
  const char *html;
  gsize       length;
  gsize       pos;

  GString    *out;
  guint       pending_break;  /* newlines owed before the next text: 0–2 */
  gboolean    pending_space;

  guint       heading;        /* level of the open <hN>, or 0 */
  gsize       heading_mark;   /* out->len before its "#" marker */

  guint       pre_depth;
  GString    *pre;            /* contents of the outermost open <pre> */

  gboolean    in_head;
  gboolean    head_done;
  char       *title;

  /* Guards against quadratic rescans of malformed markup; see
   * find_tag_end(). */
  gboolean    ignore_quotes;
  gboolean    no_gt_left;
  gboolean    no_title_end;
} HtmlParser;

/* Writes the line breaks or the space owed before more text. */
static void
apply_pending (HtmlParser *p)
{
  GString *out = p->out;

  if (out->len > 0)
    {
      if (p->pending_break > 0)
        {
          guint have = 0;

          while (out->len > 0 && out->str[out->len - 1] == ' ')
            g_string_truncate (out, out->len - 1);
          while (have < 2 && have < out->len && out->str[out->len - 1 - have] == '\n')
            have++;
          for (; have < p->pending_break; have++)
            g_string_append_c (out, '\n');
        }
      else if (p->pending_space &&
               out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
        g_string_append_c (out, ' ');
    }

  p->pending_break = 0;
  p->pending_space = FALSE;
}

static void
request_break (HtmlParser *p,
               guint       newlines)
{
  p->pending_break = MAX (p->pending_break, newlines);
  p->pending_space = FALSE;
}

/* Before appending @s to the output: pays what is owed, and escapes a
 * line that would read as a Markdown heading or code fence ("# of items",
 * "```"), since the result is chunked as Markdown and only the headings
 * we write ourselves may look like headings. */
static void
begin_text (HtmlParser *p,
            const char *s,
            gsize       length)
{
  GString *out = p->out;

  apply_pending (p);

  if (p->heading > 0 || (out->len > 0 && out->str[out->len - 1] != '\n'))
    return;

  if (s[0] == '#' ||
      (length >= 3 && (s[0] == '`' || s[0] == '~') && s[1] == s[0] && s[2] == s[0]))
    g_string_append_c (out, '\\');
}

/* Text from the document, entities already decoded or not present. */
static void
emit_run (HtmlParser *p,
          const char *s,
          gsize       length)
{
  gsize i = 0;

  if (p->pre_depth > 0)
    {
      g_string_append_len (p->pre, s, length);
      return;
    }

  /* Text inside <head> is not shown by anything: drop it. */
  if (p->in_head)
    return;

  while (i < length)
    {
      gsize j;

      if (is_html_space (s[i]))
        {
          p->pending_space = TRUE;
          i++;
          continue;
        }

      j = i + 1;
      while (j < length && !is_html_space (s[j]))
        j++;

      begin_text (p, s + i, j - i);
      g_string_append_len (p->out, s + i, j - i);
      i = j;
    }
}

static void
emit_char (HtmlParser *p,
           gunichar    ch)
{
  char buffer[8];
  gint n = g_unichar_to_utf8 (ch, buffer);

  emit_run (p, buffer, n);
}

static void
open_heading (HtmlParser *p,
              guint       level)
{
  guint i;

  request_break (p, 2);
  apply_pending (p);
  p->heading_mark = p->out->len;
  for (i = 0; i < level; i++)
    g_string_append_c (p->out, '#');
  g_string_append_c (p->out, ' ');
  p->heading = level;
}

static void
close_heading (HtmlParser *p)
{
  GString *out = p->out;

  if (p->heading == 0)
    return;

  while (out->len > p->heading_mark && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);

  /* An empty <h2></h2> leaves no lone "##" behind. */
  if (out->len <= p->heading_mark + p->heading)
    g_string_truncate (out, p->heading_mark);

  p->heading = 0;
  request_break (p, 2);
}

/* <pre> becomes a fenced code block: the chunker then keeps it whole and
 * does not read "# comment" lines in it as headings. */
static void
finish_pre (HtmlParser *p)
{
  GString *pre = p->pre;
  GString *out = p->out;
  const char *start;
  gsize length;
  gsize longest = 0;
  gsize run = 0;
  gsize fence;
  gsize i;

  p->pre = NULL;
  p->pre_depth = 0;

  /* Like browsers, ignore one newline right after <pre>. */
  start = pre->str;
  length = pre->len;
  if (length > 0 && start[0] == '\n')
    {
      start++;
      length--;
    }
  while (length > 0 && g_ascii_isspace (start[length - 1]))
    length--;

  for (i = 0; i < length && g_ascii_isspace (start[i]); i++)
    ;
  if (i == length)
    {
      g_string_free (pre, TRUE);
      request_break (p, 2);
      return;
    }

  /* The fence must be longer than any backtick run inside. */
  for (i = 0; i < length; i++)
    {
      run = start[i] == '`' ? run + 1 : 0;
      longest = MAX (longest, run);
    }
  fence = MAX (3, longest + 1);

  request_break (p, 2);
  apply_pending (p);
  for (i = 0; i < fence; i++)
    g_string_append_c (out, '`');
  g_string_append_c (out, '\n');
  g_string_append_len (out, start, length);
  g_string_append_c (out, '\n');
  for (i = 0; i < fence; i++)
    g_string_append_c (out, '`');
  request_break (p, 2);

  g_string_free (pre, TRUE);
}

/* Offset of the '<' of the end tag </@name> at or after @from, compared
 * without case, or the length of the document. Used for the contents of
 * script and style, which are not markup: "</p>" in a JavaScript string
 * must not end anything. */
static gsize
find_end_tag (HtmlParser *p,
              gsize       from,
              const char *name)
{
  gsize n = strlen (name);
  gsize i = from;

  while (i < p->length)
    {
      const char *lt = memchr (p->html + i, '<', p->length - i);
      gsize k;

      if (lt == NULL)
        break;

      k = lt - p->html;
      if (k + 2 + n <= p->length && p->html[k + 1] == '/' &&
          g_ascii_strncasecmp (p->html + k + 2, name, n) == 0)
        {
          gsize after = k + 2 + n;

          if (after == p->length || is_html_space (p->html[after]) ||
              p->html[after] == '>' || p->html[after] == '/')
            return k;
        }

      i = k + 1;
    }

  return p->length;
}

/* Offset of the '>' that ends the tag whose attributes start at @from, or
 * G_MAXSIZE if there is none.
 *
 * A '>' inside a quoted attribute value does not end the tag. Broken
 * quoting could make every later tag rescan the rest of the document, so
 * the first time it fails, quotes are ignored for the rest of the parse
 * (tags then end at their first '>'), and once no '>' is left at all,
 * nothing more is taken for a tag. Each byte is thus scanned a bounded
 * number of times. */
static gsize
find_tag_end (HtmlParser *p,
              gsize       from)
{
  const char *html = p->html;
  const char *gt;
  gsize i = from;

  if (p->no_gt_left)
    return G_MAXSIZE;

  if (!p->ignore_quotes)
    {
      while (i < p->length)
        {
          char ch = html[i];

          if (ch == '>')
            return i;

          i++;
          if (ch != '=')
            continue;

          while (i < p->length && is_html_space (html[i]))
            i++;
          if (i < p->length && (html[i] == '"' || html[i] == '\''))
            {
              const char *close = memchr (html + i + 1, html[i], p->length - i - 1);

              if (close == NULL)
                break;
              i = close - html + 1;
            }
        }

      p->ignore_quotes = TRUE;
    }

  gt = memchr (html + from, '>', p->length - from);
  if (gt == NULL)
    {
      p->no_gt_left = TRUE;
      return G_MAXSIZE;
    }

  return gt - html;
}

static void
read_title (HtmlParser *p)
{
  gsize end = p->length;

  /* Once a search for </title> has failed, every later one would too:
   * "<title><title>…" must not search the rest of the document each time. */
  if (!p->no_title_end)
    end = find_end_tag (p, p->pos, "title");

  /* Browsers would make the rest of the document the title; stopping at
   * the next tag keeps the body. */
  if (end == p->length)
    {
      const char *lt = memchr (p->html + p->pos, '<', p->length - p->pos);

      if (lt != NULL)
        end = lt - p->html;
      p->no_title_end = TRUE;
    }

  if (p->title == NULL)
    {
      char *title = decode_and_collapse (p->html + p->pos, end - p->pos);

      if (title[0] != '\0')
        p->title = title;
      else
        g_free (title);
    }

  p->pos = end;
}

static void
handle_tag (HtmlParser *p,
            const char *name,
            gboolean    is_end,
            gboolean    self_closing)
{
  TagType type = tag_type (name);

  if (!is_end && (type == TAG_RAW || (type == TAG_DROP && !self_closing)))
    {
      p->pos = find_end_tag (p, p->pos, name);
      return;
    }

  /* Inside <pre> only line breaks and the end of the block matter. */
  if (p->pre_depth > 0)
    {
      if (type == TAG_PRE && !is_end)
        p->pre_depth++;
      else if (type == TAG_PRE)
        {
          p->pre_depth--;
          if (p->pre_depth == 0)
            finish_pre (p);
        }
      else if (type == TAG_BREAK)
        g_string_append_c (p->pre, '\n');
      return;
    }

  if (type == TAG_TITLE)
    {
      if (!is_end)
        read_title (p);
      return;
    }

  if (type == TAG_HEAD)
    {
      /* A <head> once text has appeared is misplaced; browsers ignore it
       * too, and honouring it would hide the rest of the page. */
      if (!is_end && !p->head_done && p->out->len == 0)
        p->in_head = TRUE;
      else if (is_end && p->in_head)
        {
          p->in_head = FALSE;
          p->head_done = TRUE;
        }
      return;
    }

  if (p->in_head)
    {
      /* A missing </head> is common: the first tag that only belongs in
       * the body ends the head, as in browsers. */
      if (is_end || type == TAG_HEAD_ONLY || type == TAG_HTML)
        return;
      p->in_head = FALSE;
      p->head_done = TRUE;
    }

  if (type == TAG_BODY)
    p->head_done = TRUE;

  if (p->heading > 0)
    {
      if (type == TAG_CELL || type == TAG_BREAK)
        {
          p->pending_space = TRUE;
          return;
        }
      if (type == TAG_HEADING || type == TAG_PRE || type == TAG_PARAGRAPH || type == TAG_LINE)
        close_heading (p);
    }

  switch (type)
    {
    case TAG_HEADING:
      if (!is_end)
        open_heading (p, (guint) (name[1] - '0'));
      break;

    case TAG_PRE:
      request_break (p, 2);
      if (!is_end)
        {
          p->pre_depth = 1;
          p->pre = g_string_new (NULL);
        }
      break;

    case TAG_PARAGRAPH:
      request_break (p, 2);
      break;

    case TAG_LINE:
    case TAG_BREAK:
      request_break (p, 1);
      break;

    case TAG_CELL:
      p->pending_space = TRUE;
      break;

    case TAG_INLINE:
    case TAG_RAW:
    case TAG_DROP:
    case TAG_TITLE:
    case TAG_HEAD:
    case TAG_HEAD_ONLY:
    case TAG_BODY:
    case TAG_HTML:
    default:
      break;
    }
}

/* Handles the markup at p->pos, which is a '<'. Returns FALSE if it is
 * not markup after all ("a < b", "x<3" at the end): the '<' is text. */
static gboolean
parse_markup (HtmlParser *p)
{
  const char *html = p->html;
  gsize rest = p->length - p->pos;
  const char *s = html + p->pos;
  char name[MAX_TAG_NAME];
  gboolean is_end;
  gsize name_start;
  gsize i;
  gsize n = 0;
  gsize gt;

  if (rest < 2)
    return FALSE;

  if (has_prefix_ascii_case (s, rest, "<!--"))
    {
      /* "<!-->" and "<!--->" are complete (empty) comments. An unclosed
       * comment runs to the end, as in browsers. */
      if (has_prefix_ascii_case (s, rest, "<!-->"))
        p->pos += 5;
      else if (has_prefix_ascii_case (s, rest, "<!--->"))
        p->pos += 6;
      else
        p->pos = MIN (find_string (html, p->pos + 4, p->length, "-->") + 3, p->length);
      return TRUE;
    }

  if (has_prefix_ascii_case (s, rest, "<![CDATA["))
    {
      /* XHTML: the contents are text. */
      gsize start = p->pos + 9;
      gsize end = find_string (html, start, p->length, "]]>");

      emit_run (p, html + start, end - start);
      p->pos = MIN (end + 3, p->length);
      return TRUE;
    }

  if (s[1] == '!' || s[1] == '?')
    {
      /* Doctype, processing instruction, other bogus comment: up to '>'. */
      const char *end = memchr (s, '>', rest);

      p->pos = end != NULL ? (gsize) (end - html) + 1 : p->length;
      return TRUE;
    }

  is_end = (s[1] == '/');
  name_start = p->pos + (is_end ? 2 : 1);
  if (name_start >= p->length || !g_ascii_isalpha (html[name_start]))
    return FALSE;

  /* Checked before reading the name, which can run to the end of the
   * document in "<a<a<a…". */
  if (p->no_gt_left)
    return FALSE;

  for (i = name_start; i < p->length && !is_html_space (html[i]) &&
                       html[i] != '/' && html[i] != '>'; i++)
    {
      if (n < sizeof name - 1)
        name[n] = g_ascii_tolower (html[i]);
      n++;
    }
  /* A name too long for the buffer is no tag we know. */
  name[n < sizeof name ? n : 0] = '\0';

  gt = find_tag_end (p, i);
  if (gt == G_MAXSIZE)
    return FALSE;

  p->pos = gt + 1;
  handle_tag (p, name, is_end, gt > i && html[gt - 1] == '/');

  return TRUE;
}

static char *
html_to_text (const char  *html,
              gsize        length,
              char       **title)
{
  HtmlParser p;
  GString *out;

  memset (&p, 0, sizeof p);
  p.html = html;
  p.length = length;
  p.out = g_string_sized_new (length / 2 + 1);

  while (p.pos < p.length)
    {
      char ch = html[p.pos];

      if (ch == '<')
        {
          if (!parse_markup (&p))
            {
              emit_run (&p, "<", 1);
              p.pos++;
            }
        }
      else if (ch == '&')
        {
          gunichar value = 0;
          gsize n = decode_entity (html + p.pos, p.length - p.pos, &value);

          if (n == 0)
            {
              emit_run (&p, "&", 1);
              p.pos++;
            }
          else
            {
              emit_char (&p, value);
              p.pos += n;
            }
        }
      else
        {
          gsize end = p.pos + 1;

          while (end < p.length && html[end] != '<' && html[end] != '&')
            end++;
          emit_run (&p, html + p.pos, end - p.pos);
          p.pos = end;
        }
    }

  /* Whatever the document left open. */
  if (p.pre_depth > 0)
    finish_pre (&p);
  close_heading (&p);

  out = p.out;
  while (out->len > 0 && g_ascii_isspace (out->str[out->len - 1]))
    g_string_truncate (out, out->len - 1);

  *title = p.title;

  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* Entry point                                                        */
/* ------------------------------------------------------------------ */

static const char *
media_type_for (StacheTextFormat format)
{
  switch (format)
    {
    case STACHE_TEXT_FORMAT_MARKDOWN:
      return "text/markdown";
    case STACHE_TEXT_FORMAT_HTML:
      return "text/html";
    case STACHE_TEXT_FORMAT_PLAIN:
    default:
      return "text/plain";
    }
}

StacheLoadedText *
_stache_load_text (const char  *data,
                   gsize        length,
                   const char  *filename,
                   GError     **error)
{
  g_autofree char *converted = NULL;
  g_autofree char *text = NULL;
  StacheLoadedText *loaded;
  StacheTextFormat format = STACHE_TEXT_FORMAT_PLAIN;
  gboolean known_extension;
  gboolean repaired = FALSE;
  gsize converted_length = 0;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (data == NULL)
    data = "";

  converted = convert_utf16 (data, length, &converted_length);
  if (converted != NULL)
    {
      data = converted;
      length = converted_length;
    }

  if (looks_binary (data, length))
    {
      if (filename != NULL)
        {
          g_autofree char *display = g_filename_display_name (filename);

          g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED,
                       _("“%s” looks like a binary file, not text"), display);
        }
      else
        g_set_error_literal (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED,
                             _("The data looks like a binary file, not text"));
      return NULL;
    }

  text = clean_text (data, length, &repaired);

  known_extension = format_from_filename (filename, &format);
  if (!known_extension && sniff_html (text, strlen (text)))
    format = STACHE_TEXT_FORMAT_HTML;

  loaded = g_new0 (StacheLoadedText, 1);
  loaded->format = format;
  loaded->media_type = media_type_for (format);
  loaded->repaired = repaired;

  switch (format)
    {
    case STACHE_TEXT_FORMAT_HTML:
      loaded->text = html_to_text (text, strlen (text), &loaded->title);
      break;

    case STACHE_TEXT_FORMAT_MARKDOWN:
      loaded->title = markdown_title (text);
      loaded->text = g_steal_pointer (&text);
      break;

    case STACHE_TEXT_FORMAT_PLAIN:
    default:
      loaded->text = g_steal_pointer (&text);
      break;
    }

  return loaded;
}
