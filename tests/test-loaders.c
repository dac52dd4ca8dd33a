/* test-loaders.c: tests for turning file contents into text
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <stache.h>

#include "stache-text-formats-private.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StacheLoadedText, _stache_loaded_text_free)

static StacheLoadedText *
load (const char *data,
      const char *filename)
{
  g_autoptr(GError) error = NULL;
  StacheLoadedText *loaded = _stache_load_text (data, strlen (data), filename, &error);

  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_nonnull (loaded->text);
  g_assert_true (g_utf8_validate (loaded->text, -1, NULL));

  return loaded;
}

static StacheLoadedText *
load_html (const char *html)
{
  return load (html, "page.html");
}

static void
test_format_extension (void)
{
  const struct
  {
    const char       *filename;
    StacheTextFormat  format;
    const char       *media_type;
  } cases[] = {
    { "notes.md", STACHE_TEXT_FORMAT_MARKDOWN, "text/markdown" },
    { "dir/Notes.MARKDOWN", STACHE_TEXT_FORMAT_MARKDOWN, "text/markdown" },
    { "x.mkd", STACHE_TEXT_FORMAT_MARKDOWN, "text/markdown" },
    { "index.html", STACHE_TEXT_FORMAT_HTML, "text/html" },
    { "INDEX.HTM", STACHE_TEXT_FORMAT_HTML, "text/html" },
    { "page.xhtml", STACHE_TEXT_FORMAT_HTML, "text/html" },
    { "notes.txt", STACHE_TEXT_FORMAT_PLAIN, "text/plain" },
    { "README", STACHE_TEXT_FORMAT_PLAIN, "text/plain" },
    { "archive.md/README", STACHE_TEXT_FORMAT_PLAIN, "text/plain" },
    { ".md", STACHE_TEXT_FORMAT_PLAIN, "text/plain" },
    { NULL, STACHE_TEXT_FORMAT_PLAIN, "text/plain" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(StacheLoadedText) loaded = load ("Some *text*.", cases[i].filename);

      g_assert_cmpint (loaded->format, ==, cases[i].format);
      g_assert_cmpstr (loaded->media_type, ==, cases[i].media_type);
    }
}

static void
test_format_sniff_html (void)
{
  const char *html[] = {
    "<!DOCTYPE html><html><body><p>Hi</p></body></html>",
    "\n  <!doctype HTML>\n<p>Hi</p>",
    "<HTML><p>Hi</p>",
    "<?xml version=\"1.0\"?>\n<!-- generated -->\n<html xmlns=\"x\"><p>Hi</p>",
  };
  const char *not_html[] = {
    "<htmlish> is not a tag we sniff",
    "Text that mentions <html> later on.",
    "<!-- unclosed comment",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (html); i++)
    {
      g_autoptr(StacheLoadedText) loaded = load (html[i], "download");

      g_assert_cmpint (loaded->format, ==, STACHE_TEXT_FORMAT_HTML);
      g_assert_cmpstr (loaded->media_type, ==, "text/html");
      g_assert_cmpstr (loaded->text, ==, "Hi");
    }

  for (i = 0; i < G_N_ELEMENTS (not_html); i++)
    {
      g_autoptr(StacheLoadedText) loaded = load (not_html[i], NULL);

      g_assert_cmpint (loaded->format, ==, STACHE_TEXT_FORMAT_PLAIN);
      g_assert_cmpstr (loaded->text, ==, not_html[i]);
    }
}

static void
test_html_script_style (void)
{
  g_autoptr(StacheLoadedText) loaded = load_html (
    "<p>Before</p>"
    "<script type=\"text/javascript\">\n"
    "  var s = \"</p><p>not text</p>\"; if (a < b && c > d) alert('</div>');\n"
    "</SCRIPT >"
    "<style>p > a { content: \"</style\"; }\n</style>"
    "<p>After</p>"
    "<script>unclosed(\"</scriptx>\")");

  g_assert_cmpstr (loaded->text, ==, "Before\n\nAfter");
}

static void
test_html_entities (void)
{
  g_autoptr(StacheLoadedText) loaded = load_html (
    "<p>a &amp; b &lt;tag&gt; &quot;q&quot; &apos;s&#39; caf&eacute; "
    "x&nbsp;y &mdash; &ndash; &hellip; &copy; &#65;&#x42;&#X43; &#128512; "
    "&#150; &unknown; Q&A &amp no-semicolon &#; &#x;</p>"
    "<p>&#0; &#xD800; &#1114112; &#99999999999999999999; &#x110000;</p>");

  g_assert_cmpstr (loaded->text, ==,
                   "a & b <tag> \"q\" 's' café x y — – … © ABC 😀 "
                   "– &unknown; Q&A & no-semicolon &#; &#x;"
                   "\n\n"
                   "\xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD");
}

static void
test_html_title (void)
{
  g_autoptr(StacheLoadedText) loaded = load_html (
    "<html><head><meta charset=utf-8><TITLE>\n  Caf&eacute;\n  &amp;   Bar </TITLE>"
    "<link rel=stylesheet href=x.css></head>"
    "<body><p>Body</p><title>Second title</title></body></html>");
  g_autoptr(StacheLoadedText) untitled = load_html ("<p>No title</p><title>  </title>");

  g_assert_cmpstr (loaded->title, ==, "Café & Bar");
  g_assert_cmpstr (loaded->text, ==, "Body");
  g_assert_null (untitled->title);
  g_assert_cmpstr (untitled->text, ==, "No title");
}

static void
test_html_headings (void)
{
  g_autoptr(StacheLoadedText) loaded = load_html (
    "<h1>Guide</h1><p>Intro text.</p>"
    "<H2 class=\"x\">  Set<em>up</em>\n now</H2><p>Run it.</p>"
    "<h3></h3><p>After an empty heading.</p>"
    "<h6>Deep</h6>");

  g_assert_cmpint (loaded->format, ==, STACHE_TEXT_FORMAT_HTML);
  g_assert_cmpstr (loaded->text, ==,
                   "# Guide\n\nIntro text.\n\n## Setup now\n\nRun it.\n\n"
                   "After an empty heading.\n\n###### Deep");
}

static void
test_html_blocks (void)
{
  g_autoptr(StacheLoadedText) loaded = load_html (
    "<div>one   two\n\tthree</div><div>four<br>five<br/>six</div>"
    "<ul><li>item 1</li><li>item <b>2</b></li></ul>"
    "<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>"
    "<p>para</p>inline<span>joined</span>");

  g_assert_cmpstr (loaded->text, ==,
                   "one two three\nfour\nfive\nsix\n\nitem 1\nitem 2\n\na b\nc d\n\npara\n\ninlinejoined");
}

static void
test_html_head_and_comments (void)
{
  g_autoptr(StacheLoadedText) loaded = load_html (
    "<!DOCTYPE html><html><head><meta name=a content=\"<p>x</p>\">stray head text"
    "<!-- <p>commented</p> --><noscript><p>enable js</p></noscript>"
    "<body><p>Visible<!-- hidden --> text</p><!-- unclosed <p>gone</p>");
  g_autoptr(StacheLoadedText) no_head_end = load_html (
    "<head><title>T</title><p>Body without </head> or <body>.</p>");

  g_assert_cmpstr (loaded->text, ==, "Visible text");
  g_assert_cmpstr (no_head_end->text, ==, "Body without or .");
  g_assert_cmpstr (no_head_end->title, ==, "T");
}

static void
test_html_malformed (void)
{
  /* "<" before a space or digit is text; "<y>" is an unknown tag whose
   * text flows on; '>' inside quoted attribute values does not end a tag;
   * "<unclosed" runs to the next '>' as in browsers; a tag that never
   * ends is text. */
  g_autoptr(StacheLoadedText) loaded = load_html (
    "<P>if a < b then<BR>"
    "<A HREF=\"x.html\" TITLE='a > b' data-x=\"1>2\">link</A> "
    "x<y>z <unclosed <b>bold</B> 3 <5 x<"
    "<p>unterminated tag <a href=\"x");

  g_assert_cmpstr (loaded->text, ==,
                   "if a < b then\nlink xz bold 3 <5 x<\n\nunterminated tag <a href=\"x");
}

static void
test_html_pre (void)
{
  g_autoptr(StacheLoadedText) loaded = load_html (
    "<p># of items</p><p>```not a fence</p>"
    "<pre>\n# install\n  make &amp;&amp; make install\n\n<b>done</b>\n````\n</pre>"
    "<pre> \n </pre><p>end</p>");

  g_assert_cmpstr (loaded->text, ==,
                   "\\# of items\n\n\\```not a fence\n\n"
                   "`````\n# install\n  make && make install\n\ndone\n````\n`````\n\nend");
}

static void
test_html_fuzz_bytes (void)
{
  /* Half the inputs are uniform random bytes (nearly all refused as
   * binary); the other half are mostly markup characters with some stray
   * bytes, which get through to the HTML and Markdown code. */
  static const char markup[] = "<>/&#;=\"' \n\rabcdefhlprstxy!-?[]0123456789";
  GRand *rand = g_rand_new_with_seed (1234);
  guint parsed = 0;
  guint i;

  for (i = 0; i < 2000; i++)
    {
      gsize length = g_rand_int_range (rand, 0, 2000);
      g_autofree char *data = g_malloc (length + 1);
      g_autoptr(GError) error = NULL;
      g_autoptr(StacheLoadedText) loaded = NULL;
      gsize j;

      for (j = 0; j < length; j++)
        {
          if (i % 2 == 0 || g_rand_int_range (rand, 0, 20) == 0)
            data[j] = (char) g_rand_int_range (rand, 0, 256);
          else
            data[j] = markup[g_rand_int_range (rand, 0, sizeof markup - 1)];
        }
      data[length] = '\0';

      loaded = _stache_load_text (data, length, i % 4 < 2 ? "fuzz.html" : "fuzz.md", &error);
      if (loaded == NULL)
        {
          g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED);
          continue;
        }

      g_assert_no_error (error);
      g_assert_true (g_utf8_validate (loaded->text, -1, NULL));
      g_assert_true (loaded->title == NULL || g_utf8_validate (loaded->title, -1, NULL));
      parsed++;
    }

  g_test_message ("%u of 2000 random inputs were taken as text", parsed);
  g_assert_cmpuint (parsed, >, 700);

  g_rand_free (rand);
}

static void
test_html_fuzz_tag_soup (void)
{
  static const char * const parts[] = {
    "<", ">", "</", "/>", "<!--", "-->", "<!", "<?", "<![CDATA[", "]]>", "\"", "'", "=",
    "&", "&#", "&#x", ";", "amp", "lt", "12", "1F600", "ffffffff", " ", "\n", "\r\n", "\t",
    "script", "style", "title", "head", "body", "pre", "h1", "h3", "p", "br", "div", "svg",
    "SCRIPT", "Title", "a", "b", "é", "日本", "\xff", "\xc3", "#", "```", "~~~", "text",
    "<script>", "</script>", "<style>", "</style>", "<title>", "</title>", "<pre>", "</pre>",
    "<h2>", "</h2>", "<p>", "<head>", "<body>", "<a href=\"", "\">", "<!-- x -->",
  };
  GRand *rand = g_rand_new_with_seed (5678);
  guint i;

  for (i = 0; i < 2000; i++)
    {
      GString *soup = g_string_new (NULL);
      guint count = g_rand_int_range (rand, 0, 300);
      g_autoptr(GError) error = NULL;
      g_autoptr(StacheLoadedText) loaded = NULL;
      guint j;

      for (j = 0; j < count; j++)
        g_string_append (soup, parts[g_rand_int_range (rand, 0, G_N_ELEMENTS (parts))]);

      loaded = _stache_load_text (soup->str, soup->len, "soup.html", &error);
      /* A short soup with the stray bytes in it can be mostly not UTF-8,
       * and rightly refused; anything else is text. */
      if (loaded == NULL && !g_utf8_validate_len (soup->str, soup->len, NULL))
        {
          g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED);
          g_string_free (soup, TRUE);
          continue;
        }
      g_assert_no_error (error);
      g_assert_nonnull (loaded);
      g_assert_true (g_utf8_validate (loaded->text, -1, NULL));
      g_assert_null (strchr (loaded->text, '\r'));
      g_assert_true (loaded->title == NULL || g_utf8_validate (loaded->title, -1, NULL));

      g_string_free (soup, TRUE);
    }

  g_rand_free (rand);
}

static void
test_html_large_malformed (void)
{
  /* Markup that never completes: without care, each '<' or "<title>"
   * would rescan the rest of the document and these would take hours. */
  static const char * const units[] = {
    "<a x=\">\" <b y='>' word ",
    "<a",
    "<a b=\"",
    "<title>",
    "<",
    "<!",
    "&#x1234567890abcdef",
    "</script",
    "<p>text ",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (units); i++)
    {
      GString *html = g_string_new (NULL);
      g_autoptr(StacheLoadedText) loaded = NULL;
      g_autoptr(GError) error = NULL;
      gint64 begin;

      while (html->len < (i == 0 ? 5 : 2) * 1024 * 1024)
        g_string_append (html, units[i]);

      begin = g_get_monotonic_time ();
      loaded = _stache_load_text (html->str, html->len, "big.html", &error);
      g_test_message ("%zu MB of \"%s\": %.3f s", html->len / (1024 * 1024), units[i],
                      (g_get_monotonic_time () - begin) / 1e6);
      g_assert_no_error (error);
      g_assert_true (g_utf8_validate (loaded->text, -1, NULL));

      g_string_free (html, TRUE);
    }
}

static void
test_binary_refused (void)
{
  static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) unnamed_error = NULL;
  StacheLoadedText *loaded;

  loaded = _stache_load_text (png, sizeof png - 1, "photo.png", &error);
  g_assert_null (loaded);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "photo.png"));
  g_assert_nonnull (strstr (error->message, "binary"));

  loaded = _stache_load_text (png, sizeof png - 1, NULL, &unnamed_error);
  g_assert_null (loaded);
  g_assert_error (unnamed_error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED);
}

static void
test_binary_mostly_invalid (void)
{
  char data[1000];
  g_autoptr(GError) error = NULL;
  StacheLoadedText *loaded;
  gsize i;

  /* No NUL byte, but far more than 30% of it is not UTF-8. */
  for (i = 0; i < sizeof data; i++)
    data[i] = (char) (i % 2 ? 0xFE : 'a');

  loaded = _stache_load_text (data, sizeof data, "data.bin", &error);
  g_assert_null (loaded);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED);
}

static void
test_nul_after_sniff_window (void)
{
  /* Text whose first 8 KiB are clean is text; a later NUL is repaired
   * like any invalid byte, never left in to cut the string short. */
  GString *data = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheLoadedText) loaded = NULL;

  while (data->len < 10000)
    g_string_append (data, "plain text ");
  g_string_append_len (data, "\0tail", 5);

  loaded = _stache_load_text (data->str, data->len, "notes.txt", &error);
  g_assert_no_error (error);
  g_assert_true (loaded->repaired);
  g_assert_true (g_str_has_suffix (loaded->text, "\xEF\xBF\xBDtail"));

  g_string_free (data, TRUE);
}

static void
test_invalid_utf8_repaired (void)
{
  g_autoptr(StacheLoadedText) loaded = load ("caf\xe9 au lait, cr\xe8me", "menu.txt");
  g_autoptr(StacheLoadedText) valid = load ("café au lait", "menu.txt");

  g_assert_cmpstr (loaded->text, ==, "caf\xEF\xBF\xBD au lait, cr\xEF\xBF\xBDme");
  g_assert_true (loaded->repaired);
  g_assert_false (valid->repaired);
}

static void
test_bom_stripped (void)
{
  g_autoptr(StacheLoadedText) loaded = load ("\xEF\xBB\xBFhello", "a.txt");
  g_autoptr(StacheLoadedText) markdown = load ("\xEF\xBB\xBF# Title\n", "a.md");
  g_autoptr(StacheLoadedText) html = load ("\xEF\xBB\xBF<!DOCTYPE html><p>x</p>", NULL);

  g_assert_cmpstr (loaded->text, ==, "hello");
  g_assert_cmpstr (markdown->title, ==, "Title");
  g_assert_cmpint (html->format, ==, STACHE_TEXT_FORMAT_HTML);
}

static void
test_utf16_converted (void)
{
  static const char data[] = "\xFF\xFEh\0i\0\r\0\n\0\xE9\0";
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheLoadedText) loaded = NULL;

  loaded = _stache_load_text (data, sizeof data - 1, "win.txt", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (loaded->text, ==, "hi\né");
}

static void
test_line_ends (void)
{
  g_autoptr(StacheLoadedText) loaded = load ("a\r\nb\rc\n\r\r\nd\r", "x.txt");

  g_assert_cmpstr (loaded->text, ==, "a\nb\nc\n\n\nd\n");
}

static void
test_empty (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheLoadedText) loaded = _stache_load_text ("", 0, "empty.html", &error);
  g_autoptr(StacheLoadedText) null_data = _stache_load_text (NULL, 0, "empty.md", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (loaded->text, ==, "");
  g_assert_null (loaded->title);
  g_assert_cmpint (loaded->format, ==, STACHE_TEXT_FORMAT_HTML);
  g_assert_false (loaded->repaired);
  g_assert_cmpstr (null_data->text, ==, "");
}

static void
test_markdown_title (void)
{
  g_autoptr(StacheLoadedText) loaded = load (
    "Intro line.\n## Not level one\n```\n# code comment\n```\n   # Real Title #\n\n# Later\n",
    "doc.md");
  g_autoptr(StacheLoadedText) untitled = load ("No heading\n#hashtag\n", "doc.md");

  g_assert_cmpint (loaded->format, ==, STACHE_TEXT_FORMAT_MARKDOWN);
  g_assert_cmpstr (loaded->title, ==, "Real Title");
  /* Markdown text is kept as it is, headings included. */
  g_assert_true (g_str_has_prefix (loaded->text, "Intro line.\n## Not level one\n"));
  g_assert_null (untitled->title);
}

static void
test_plain_no_title (void)
{
  g_autoptr(StacheLoadedText) loaded = load ("# Looks like a heading\n\ntext", "a.txt");

  g_assert_null (loaded->title);
  g_assert_cmpstr (loaded->text, ==, "# Looks like a heading\n\ntext");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/loaders/format/extension", test_format_extension);
  g_test_add_func ("/loaders/format/sniff-html", test_format_sniff_html);
  g_test_add_func ("/loaders/html/script-style", test_html_script_style);
  g_test_add_func ("/loaders/html/entities", test_html_entities);
  g_test_add_func ("/loaders/html/title", test_html_title);
  g_test_add_func ("/loaders/html/headings", test_html_headings);
  g_test_add_func ("/loaders/html/blocks", test_html_blocks);
  g_test_add_func ("/loaders/html/head-and-comments", test_html_head_and_comments);
  g_test_add_func ("/loaders/html/malformed", test_html_malformed);
  g_test_add_func ("/loaders/html/pre", test_html_pre);
  g_test_add_func ("/loaders/html/fuzz-bytes", test_html_fuzz_bytes);
  g_test_add_func ("/loaders/html/fuzz-tag-soup", test_html_fuzz_tag_soup);
  g_test_add_func ("/loaders/html/large-malformed", test_html_large_malformed);
  g_test_add_func ("/loaders/binary/refused", test_binary_refused);
  g_test_add_func ("/loaders/binary/mostly-invalid", test_binary_mostly_invalid);
  g_test_add_func ("/loaders/text/nul-after-sniff-window", test_nul_after_sniff_window);
  g_test_add_func ("/loaders/text/invalid-utf8-repaired", test_invalid_utf8_repaired);
  g_test_add_func ("/loaders/text/bom-stripped", test_bom_stripped);
  g_test_add_func ("/loaders/text/utf16-converted", test_utf16_converted);
  g_test_add_func ("/loaders/text/line-ends", test_line_ends);
  g_test_add_func ("/loaders/text/empty", test_empty);
  g_test_add_func ("/loaders/markdown/title", test_markdown_title);
  g_test_add_func ("/loaders/plain/no-title", test_plain_no_title);

  return g_test_run ();
}
