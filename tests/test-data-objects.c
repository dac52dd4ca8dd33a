/* test-data-objects.c: tests for the plain data objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stache-plugin.h>

/* Counts the notify signals of one property of an object. */
typedef struct
{
  GObject *object;
  gulong   handler;
  guint    count;
} NotifyWatch;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  NotifyWatch *watch = user_data;

  watch->count++;
}

static void
watch_init (NotifyWatch *watch,
            gpointer     object,
            const char  *property)
{
  g_autofree char *signal = g_strconcat ("notify::", property, NULL);

  watch->object = object;
  watch->count = 0;
  watch->handler = g_signal_connect (object, signal, G_CALLBACK (on_notify), watch);
}

static void
watch_clear (NotifyWatch *watch)
{
  g_clear_signal_handler (&watch->handler, watch->object);
}

static JsonObject *
make_metadata (const char *value)
{
  JsonObject *metadata = json_object_new ();

  json_object_set_string_member (metadata, "key", value);

  return metadata;
}

/* Fills @value with a value for @pspec that is not its default. */
static void
make_test_value (GParamSpec *pspec,
                 GValue     *value)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE (pspec);

  g_value_init (value, type);

  if (type == G_TYPE_STRING)
    g_value_take_string (value, g_strdup_printf ("value of %s", pspec->name));
  else if (type == G_TYPE_UINT)
    g_value_set_uint (value, 7);
  else if (type == G_TYPE_INT)
    g_value_set_int (value, 42);
  else if (type == G_TYPE_UINT64)
    g_value_set_uint64 (value, G_MAXUINT64 - 1);
  else if (type == G_TYPE_INT64)
    g_value_set_int64 (value, G_GINT64_CONSTANT (1700000000));
  else if (type == G_TYPE_DOUBLE)
    g_value_set_double (value, 0.75);
  else if (type == JSON_TYPE_OBJECT)
    g_value_take_boxed (value, make_metadata (pspec->name));
  else
    g_assert_not_reached ();
}

/* Checks that objects of @type have exactly the properties @expected, that
 * each is readable, writable after construction, starts at its default,
 * reads back what was written by name, and notifies once per change. */
static void
check_properties (GType              type,
                  const char * const *expected)
{
  g_autoptr(GObject) object = g_object_new (type, NULL);
  GObjectClass *klass = G_OBJECT_GET_CLASS (object);
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs;

  pspecs = g_object_class_list_properties (klass, &n_pspecs);
  g_assert_cmpuint (n_pspecs, ==, g_strv_length ((char **) expected));

  for (guint i = 0; expected[i] != NULL; i++)
    {
      GParamSpec *pspec = g_object_class_find_property (klass, expected[i]);
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) read_back = G_VALUE_INIT;
      g_auto(GValue) initial = G_VALUE_INIT;
      NotifyWatch watch;

      g_test_message ("property %s:%s", g_type_name (type), expected[i]);

      g_assert_nonnull (pspec);
      g_assert_cmpint (pspec->flags & G_PARAM_READWRITE, ==, G_PARAM_READWRITE);
      g_assert_cmpint (pspec->flags & G_PARAM_CONSTRUCT_ONLY, ==, 0);
      g_assert_cmpint (pspec->flags & G_PARAM_EXPLICIT_NOTIFY, !=, 0);

      g_value_init (&initial, G_PARAM_SPEC_VALUE_TYPE (pspec));
      g_object_get_property (object, expected[i], &initial);
      g_assert_cmpint (g_param_values_cmp (pspec, &initial,
                                           g_param_spec_get_default_value (pspec)), ==, 0);

      make_test_value (pspec, &value);
      watch_init (&watch, object, expected[i]);

      g_object_set_property (object, expected[i], &value);
      g_assert_cmpuint (watch.count, ==, 1);

      g_value_init (&read_back, G_PARAM_SPEC_VALUE_TYPE (pspec));
      g_object_get_property (object, expected[i], &read_back);
      g_assert_cmpint (g_param_values_cmp (pspec, &value, &read_back), ==, 0);

      /* Setting the same value again is not a change. */
      g_object_set_property (object, expected[i], &value);
      g_assert_cmpuint (watch.count, ==, 1);

      watch_clear (&watch);
    }
}

typedef JsonObject *(*GetMetadataFunc) (GObject *object);
typedef void (*SetMetadataFunc) (GObject *object, JsonObject *metadata);

/* Checks that the metadata of @object is kept by reference, may be %NULL
 * and notifies once per change, through both the C accessors and the
 * property. */
static void
check_metadata (GObject         *object,
                GetMetadataFunc  get_metadata,
                SetMetadataFunc  set_metadata)
{
  JsonObject *metadata = make_metadata ("value");
  JsonObject *read_back = NULL;
  NotifyWatch watch;

  g_assert_null (get_metadata (object));

  watch_init (&watch, object, "metadata");

  set_metadata (object, metadata);
  g_assert_cmpuint (watch.count, ==, 1);
  g_assert_true (get_metadata (object) == metadata);

  set_metadata (object, metadata);
  g_assert_cmpuint (watch.count, ==, 1);

  /* Kept by reference: changes made afterwards are visible, and the object
   * outlives the caller's reference. */
  json_object_set_int_member (metadata, "later", 3);
  json_object_unref (metadata);
  g_assert_cmpint (json_object_get_int_member (get_metadata (object), "later"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (get_metadata (object), "key"), ==, "value");

  g_object_get (object, "metadata", &read_back, NULL);
  g_assert_true (read_back == get_metadata (object));
  json_object_unref (read_back);

  set_metadata (object, NULL);
  g_assert_cmpuint (watch.count, ==, 2);
  g_assert_null (get_metadata (object));

  set_metadata (object, NULL);
  g_assert_cmpuint (watch.count, ==, 2);

  metadata = make_metadata ("by property");
  g_object_set (object, "metadata", metadata, NULL);
  g_assert_cmpuint (watch.count, ==, 3);
  g_assert_true (get_metadata (object) == metadata);
  json_object_unref (metadata);

  g_object_set (object, "metadata", NULL, NULL);
  g_assert_cmpuint (watch.count, ==, 4);
  g_assert_null (get_metadata (object));

  watch_clear (&watch);
}

/* StacheChunk */

static JsonObject *
chunk_get_metadata (GObject *object)
{
  return stache_chunk_get_metadata (STACHE_CHUNK (object));
}

static void
chunk_set_metadata (GObject    *object,
                    JsonObject *metadata)
{
  stache_chunk_set_metadata (STACHE_CHUNK (object), metadata);
}

static void
test_chunk_new (void)
{
  g_autoptr(StacheChunk) chunk = stache_chunk_new ("chunk-1", "Some text.");
  g_autoptr(StacheChunk) empty = stache_chunk_new (NULL, NULL);

  g_assert_true (STACHE_IS_CHUNK (chunk));
  g_assert_cmpstr (stache_chunk_get_id (chunk), ==, "chunk-1");
  g_assert_cmpstr (stache_chunk_get_text (chunk), ==, "Some text.");
  g_assert_null (stache_chunk_get_document_id (chunk));
  g_assert_cmpuint (stache_chunk_get_position (chunk), ==, 0);
  g_assert_null (stache_chunk_get_metadata (chunk));

  g_assert_null (stache_chunk_get_id (empty));
  g_assert_null (stache_chunk_get_text (empty));
}

static void
test_chunk_accessors (void)
{
  g_autoptr(StacheChunk) chunk = stache_chunk_new (NULL, NULL);
  g_autoptr(JsonObject) metadata = make_metadata ("chunk");
  g_autoptr(JsonObject) metadata_out = NULL;
  g_autofree char *id = NULL;
  g_autofree char *document_id = NULL;
  g_autofree char *text = NULL;
  guint position = 0;

  stache_chunk_set_id (chunk, "c1");
  stache_chunk_set_document_id (chunk, "d1");
  stache_chunk_set_text (chunk, "text");
  stache_chunk_set_position (chunk, 12);
  stache_chunk_set_metadata (chunk, metadata);

  g_assert_cmpstr (stache_chunk_get_id (chunk), ==, "c1");
  g_assert_cmpstr (stache_chunk_get_document_id (chunk), ==, "d1");
  g_assert_cmpstr (stache_chunk_get_text (chunk), ==, "text");
  g_assert_cmpuint (stache_chunk_get_position (chunk), ==, 12);
  g_assert_true (stache_chunk_get_metadata (chunk) == metadata);

  g_object_get (chunk,
                "id", &id,
                "document-id", &document_id,
                "text", &text,
                "position", &position,
                "metadata", &metadata_out,
                NULL);
  g_assert_cmpstr (id, ==, "c1");
  g_assert_cmpstr (document_id, ==, "d1");
  g_assert_cmpstr (text, ==, "text");
  g_assert_cmpuint (position, ==, 12);
  g_assert_true (metadata_out == metadata);

  stache_chunk_set_document_id (chunk, NULL);
  g_assert_null (stache_chunk_get_document_id (chunk));
}

static void
test_chunk_properties (void)
{
  static const char * const names[] = {
    "id", "document-id", "text", "position", "metadata", NULL
  };
  g_autoptr(JsonObject) metadata = make_metadata ("chunk");
  g_autoptr(StacheChunk) chunk = NULL;

  check_properties (STACHE_TYPE_CHUNK, names);

  chunk = g_object_new (STACHE_TYPE_CHUNK,
                        "id", "c2",
                        "document-id", "d2",
                        "text", "built by name",
                        "position", 4u,
                        "metadata", metadata,
                        NULL);
  g_assert_cmpstr (stache_chunk_get_id (chunk), ==, "c2");
  g_assert_cmpstr (stache_chunk_get_document_id (chunk), ==, "d2");
  g_assert_cmpstr (stache_chunk_get_text (chunk), ==, "built by name");
  g_assert_cmpuint (stache_chunk_get_position (chunk), ==, 4);
  g_assert_true (stache_chunk_get_metadata (chunk) == metadata);
}

static void
test_chunk_notify (void)
{
  g_autoptr(StacheChunk) chunk = stache_chunk_new ("c1", "text");
  g_autofree char *same_text = g_strdup ("text");
  NotifyWatch text_watch;
  NotifyWatch position_watch;

  watch_init (&text_watch, chunk, "text");
  watch_init (&position_watch, chunk, "position");

  stache_chunk_set_text (chunk, same_text);
  g_assert_cmpuint (text_watch.count, ==, 0);
  stache_chunk_set_text (chunk, "other");
  g_assert_cmpuint (text_watch.count, ==, 1);
  stache_chunk_set_text (chunk, NULL);
  g_assert_cmpuint (text_watch.count, ==, 2);
  stache_chunk_set_text (chunk, NULL);
  g_assert_cmpuint (text_watch.count, ==, 2);

  stache_chunk_set_position (chunk, 0);
  g_assert_cmpuint (position_watch.count, ==, 0);
  stache_chunk_set_position (chunk, 5);
  g_assert_cmpuint (position_watch.count, ==, 1);
  stache_chunk_set_position (chunk, 5);
  g_assert_cmpuint (position_watch.count, ==, 1);

  watch_clear (&text_watch);
  watch_clear (&position_watch);
}

static void
test_chunk_metadata (void)
{
  g_autoptr(StacheChunk) chunk = stache_chunk_new (NULL, NULL);

  check_metadata (G_OBJECT (chunk), chunk_get_metadata, chunk_set_metadata);
}

/* StacheSearchResult */

static JsonObject *
search_result_get_metadata (GObject *object)
{
  return stache_search_result_get_metadata (STACHE_SEARCH_RESULT (object));
}

static void
search_result_set_metadata (GObject    *object,
                            JsonObject *metadata)
{
  stache_search_result_set_metadata (STACHE_SEARCH_RESULT (object), metadata);
}

static void
test_search_result_new (void)
{
  g_autoptr(StacheSearchResult) result = stache_search_result_new ("c1", "hit", -3.5);
  g_autoptr(StacheSearchResult) empty = stache_search_result_new (NULL, NULL, 0.0);

  g_assert_true (STACHE_IS_SEARCH_RESULT (result));
  g_assert_cmpstr (stache_search_result_get_id (result), ==, "c1");
  g_assert_cmpstr (stache_search_result_get_text (result), ==, "hit");
  g_assert_cmpfloat (stache_search_result_get_score (result), ==, -3.5);
  g_assert_null (stache_search_result_get_document_id (result));
  g_assert_null (stache_search_result_get_namespace (result));
  g_assert_null (stache_search_result_get_metadata (result));

  g_assert_null (stache_search_result_get_id (empty));
  g_assert_null (stache_search_result_get_text (empty));
  g_assert_cmpfloat (stache_search_result_get_score (empty), ==, 0.0);
}

static void
test_search_result_accessors (void)
{
  g_autoptr(StacheSearchResult) result = stache_search_result_new (NULL, NULL, 0.0);
  g_autoptr(JsonObject) metadata = make_metadata ("result");
  g_autoptr(JsonObject) metadata_out = NULL;
  g_autofree char *id = NULL;
  g_autofree char *document_id = NULL;
  g_autofree char *namespace_ = NULL;
  g_autofree char *text = NULL;
  double score = 0.0;

  stache_search_result_set_id (result, "c1");
  stache_search_result_set_document_id (result, "d1");
  stache_search_result_set_namespace (result, "research/papers");
  stache_search_result_set_text (result, "text");
  stache_search_result_set_score (result, 1234.5);
  stache_search_result_set_metadata (result, metadata);

  g_assert_cmpstr (stache_search_result_get_id (result), ==, "c1");
  g_assert_cmpstr (stache_search_result_get_document_id (result), ==, "d1");
  g_assert_cmpstr (stache_search_result_get_namespace (result), ==, "research/papers");
  g_assert_cmpstr (stache_search_result_get_text (result), ==, "text");
  g_assert_cmpfloat (stache_search_result_get_score (result), ==, 1234.5);
  g_assert_true (stache_search_result_get_metadata (result) == metadata);

  g_object_get (result,
                "id", &id,
                "document-id", &document_id,
                "namespace", &namespace_,
                "text", &text,
                "score", &score,
                "metadata", &metadata_out,
                NULL);
  g_assert_cmpstr (id, ==, "c1");
  g_assert_cmpstr (document_id, ==, "d1");
  g_assert_cmpstr (namespace_, ==, "research/papers");
  g_assert_cmpstr (text, ==, "text");
  g_assert_cmpfloat (score, ==, 1234.5);
  g_assert_true (metadata_out == metadata);
}

static void
test_search_result_properties (void)
{
  static const char * const names[] = {
    "id", "document-id", "namespace", "text", "score", "metadata", NULL
  };
  g_autoptr(JsonObject) metadata = make_metadata ("result");
  g_autoptr(StacheSearchResult) result = NULL;

  check_properties (STACHE_TYPE_SEARCH_RESULT, names);

  result = g_object_new (STACHE_TYPE_SEARCH_RESULT,
                         "id", "c2",
                         "document-id", "d2",
                         "namespace", "ns",
                         "text", "built by name",
                         "score", -0.25,
                         "metadata", metadata,
                         NULL);
  g_assert_cmpstr (stache_search_result_get_id (result), ==, "c2");
  g_assert_cmpstr (stache_search_result_get_document_id (result), ==, "d2");
  g_assert_cmpstr (stache_search_result_get_namespace (result), ==, "ns");
  g_assert_cmpstr (stache_search_result_get_text (result), ==, "built by name");
  g_assert_cmpfloat (stache_search_result_get_score (result), ==, -0.25);
  g_assert_true (stache_search_result_get_metadata (result) == metadata);
}

static void
test_search_result_notify (void)
{
  g_autoptr(StacheSearchResult) result = stache_search_result_new ("c1", "text", 0.5);
  NotifyWatch namespace_watch;
  NotifyWatch score_watch;

  watch_init (&namespace_watch, result, "namespace");
  watch_init (&score_watch, result, "score");

  stache_search_result_set_namespace (result, NULL);
  g_assert_cmpuint (namespace_watch.count, ==, 0);
  stache_search_result_set_namespace (result, "ns");
  g_assert_cmpuint (namespace_watch.count, ==, 1);
  stache_search_result_set_namespace (result, "ns");
  g_assert_cmpuint (namespace_watch.count, ==, 1);

  stache_search_result_set_score (result, 0.5);
  g_assert_cmpuint (score_watch.count, ==, 0);
  stache_search_result_set_score (result, 0.9);
  g_assert_cmpuint (score_watch.count, ==, 1);
  stache_search_result_set_score (result, 0.9);
  g_assert_cmpuint (score_watch.count, ==, 1);

  watch_clear (&namespace_watch);
  watch_clear (&score_watch);
}

static void
test_search_result_metadata (void)
{
  g_autoptr(StacheSearchResult) result = stache_search_result_new (NULL, NULL, 0.0);

  check_metadata (G_OBJECT (result), search_result_get_metadata, search_result_set_metadata);
}

static char *
metadata_to_string (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);

  return json_to_string (node, FALSE);
}

static void
test_search_result_copy (void)
{
  g_autoptr(StacheSearchResult) result = stache_search_result_new ("c1", "text", 0.25);
  g_autoptr(StacheSearchResult) copy = NULL;
  g_autoptr(StacheSearchResult) bare = stache_search_result_new (NULL, NULL, 0.0);
  g_autoptr(StacheSearchResult) bare_copy = NULL;
  g_autoptr(JsonObject) metadata = make_metadata ("original");
  JsonObject *nested = json_object_new ();
  JsonArray *list = json_array_new ();
  JsonObject *copy_metadata;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *copied = NULL;

  json_object_set_int_member (nested, "count", 1);
  json_object_set_object_member (metadata, "nested", nested);
  json_array_add_int_element (list, 1);
  json_array_add_string_element (list, "two");
  json_array_add_null_element (list);
  json_object_set_array_member (metadata, "list", list);
  json_object_set_double_member (metadata, "ratio", 0.5);
  json_object_set_boolean_member (metadata, "flag", TRUE);
  json_object_set_null_member (metadata, "nothing");

  stache_search_result_set_document_id (result, "d1");
  stache_search_result_set_namespace (result, "ns");
  stache_search_result_set_metadata (result, metadata);
  before = metadata_to_string (metadata);

  copy = stache_search_result_copy (result);
  g_assert_true (STACHE_IS_SEARCH_RESULT (copy));
  g_assert_true (copy != result);
  g_assert_cmpstr (stache_search_result_get_id (copy), ==, "c1");
  g_assert_cmpstr (stache_search_result_get_document_id (copy), ==, "d1");
  g_assert_cmpstr (stache_search_result_get_namespace (copy), ==, "ns");
  g_assert_cmpstr (stache_search_result_get_text (copy), ==, "text");
  g_assert_cmpfloat (stache_search_result_get_score (copy), ==, 0.25);

  copy_metadata = stache_search_result_get_metadata (copy);
  g_assert_nonnull (copy_metadata);
  g_assert_true (copy_metadata != metadata);
  copied = metadata_to_string (copy_metadata);
  g_assert_cmpstr (copied, ==, before);

  /* Changing the copy, at any depth, leaves the original alone. */
  json_object_set_string_member (copy_metadata, "key", "changed");
  json_node_set_string (json_object_get_member (copy_metadata, "key"), "changed again");
  json_object_set_int_member (json_object_get_object_member (copy_metadata, "nested"), "count", 2);
  json_array_add_int_element (json_object_get_array_member (copy_metadata, "list"), 3);
  json_object_remove_member (copy_metadata, "flag");
  json_object_set_int_member (copy_metadata, "added", 1);

  after = metadata_to_string (metadata);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpstr (json_object_get_string_member (metadata, "key"), ==, "original");
  g_assert_cmpint (json_object_get_int_member (nested, "count"), ==, 1);
  g_assert_cmpuint (json_array_get_length (list), ==, 3);
  g_assert_true (stache_search_result_get_metadata (result) == metadata);

  /* And the other way round. */
  json_object_set_string_member (metadata, "key", "original changed");
  g_assert_cmpstr (json_object_get_string_member (copy_metadata, "key"), ==, "changed again");

  /* Strings are copies too. */
  stache_search_result_set_text (copy, "other");
  g_assert_cmpstr (stache_search_result_get_text (result), ==, "text");

  bare_copy = stache_search_result_copy (bare);
  g_assert_null (stache_search_result_get_id (bare_copy));
  g_assert_null (stache_search_result_get_metadata (bare_copy));
}

/* StacheDocument */

static JsonObject *
document_get_metadata (GObject *object)
{
  return stache_document_get_metadata (STACHE_DOCUMENT (object));
}

static void
document_set_metadata (GObject    *object,
                       JsonObject *metadata)
{
  stache_document_set_metadata (STACHE_DOCUMENT (object), metadata);
}

static void
test_document_new (void)
{
  g_autoptr(StacheDocument) document = stache_document_new ("doc-1");
  g_autoptr(StacheDocument) empty = stache_document_new (NULL);

  g_assert_true (STACHE_IS_DOCUMENT (document));
  g_assert_cmpstr (stache_document_get_id (document), ==, "doc-1");
  g_assert_null (stache_document_get_namespace (document));
  g_assert_null (stache_document_get_source (document));
  g_assert_null (stache_document_get_title (document));
  g_assert_null (stache_document_get_media_type (document));
  g_assert_null (stache_document_get_content_hash (document));
  g_assert_null (stache_document_get_summary (document));
  g_assert_cmpuint (stache_document_get_size (document), ==, 0);
  g_assert_cmpuint (stache_document_get_chunk_count (document), ==, 0);
  g_assert_cmpint (stache_document_get_created (document), ==, 0);
  g_assert_cmpint (stache_document_get_updated (document), ==, 0);
  g_assert_null (stache_document_get_metadata (document));

  g_assert_null (stache_document_get_id (empty));
}

static void
test_document_accessors (void)
{
  g_autoptr(StacheDocument) document = stache_document_new (NULL);
  g_autoptr(JsonObject) metadata = make_metadata ("document");
  g_autoptr(JsonObject) metadata_out = NULL;
  g_autofree char *id = NULL;
  g_autofree char *namespace_ = NULL;
  g_autofree char *source = NULL;
  g_autofree char *title = NULL;
  g_autofree char *media_type = NULL;
  g_autofree char *content_hash = NULL;
  g_autofree char *summary = NULL;
  guint64 size = 0;
  guint chunk_count = 0;
  gint64 created = 0;
  gint64 updated = 0;

  stache_document_set_id (document, "d1");
  stache_document_set_namespace (document, "research/papers");
  stache_document_set_source (document, "file:///tmp/paper.pdf");
  stache_document_set_title (document, "A Paper");
  stache_document_set_media_type (document, "application/pdf");
  stache_document_set_content_hash (document, "sha256:abcd");
  stache_document_set_summary (document, "About things.");
  stache_document_set_size (document, G_GUINT64_CONSTANT (5000000000));
  stache_document_set_chunk_count (document, 17);
  stache_document_set_created (document, G_GINT64_CONSTANT (1700000000));
  stache_document_set_updated (document, G_GINT64_CONSTANT (1700000100));
  stache_document_set_metadata (document, metadata);

  g_assert_cmpstr (stache_document_get_id (document), ==, "d1");
  g_assert_cmpstr (stache_document_get_namespace (document), ==, "research/papers");
  g_assert_cmpstr (stache_document_get_source (document), ==, "file:///tmp/paper.pdf");
  g_assert_cmpstr (stache_document_get_title (document), ==, "A Paper");
  g_assert_cmpstr (stache_document_get_media_type (document), ==, "application/pdf");
  g_assert_cmpstr (stache_document_get_content_hash (document), ==, "sha256:abcd");
  g_assert_cmpstr (stache_document_get_summary (document), ==, "About things.");
  g_assert_cmpuint (stache_document_get_size (document), ==, G_GUINT64_CONSTANT (5000000000));
  g_assert_cmpuint (stache_document_get_chunk_count (document), ==, 17);
  g_assert_cmpint (stache_document_get_created (document), ==, G_GINT64_CONSTANT (1700000000));
  g_assert_cmpint (stache_document_get_updated (document), ==, G_GINT64_CONSTANT (1700000100));
  g_assert_true (stache_document_get_metadata (document) == metadata);

  g_object_get (document,
                "id", &id,
                "namespace", &namespace_,
                "source", &source,
                "title", &title,
                "media-type", &media_type,
                "content-hash", &content_hash,
                "summary", &summary,
                "size", &size,
                "chunk-count", &chunk_count,
                "created", &created,
                "updated", &updated,
                "metadata", &metadata_out,
                NULL);
  g_assert_cmpstr (id, ==, "d1");
  g_assert_cmpstr (namespace_, ==, "research/papers");
  g_assert_cmpstr (source, ==, "file:///tmp/paper.pdf");
  g_assert_cmpstr (title, ==, "A Paper");
  g_assert_cmpstr (media_type, ==, "application/pdf");
  g_assert_cmpstr (content_hash, ==, "sha256:abcd");
  g_assert_cmpstr (summary, ==, "About things.");
  g_assert_cmpuint (size, ==, G_GUINT64_CONSTANT (5000000000));
  g_assert_cmpuint (chunk_count, ==, 17);
  g_assert_cmpint (created, ==, G_GINT64_CONSTANT (1700000000));
  g_assert_cmpint (updated, ==, G_GINT64_CONSTANT (1700000100));
  g_assert_true (metadata_out == metadata);

  /* Times before the epoch are allowed. */
  stache_document_set_created (document, -86400);
  g_assert_cmpint (stache_document_get_created (document), ==, -86400);
}

static void
test_document_properties (void)
{
  static const char * const names[] = {
    "id", "namespace", "source", "title", "media-type", "content-hash",
    "summary", "size", "chunk-count", "created", "updated", "metadata", NULL
  };
  g_autoptr(JsonObject) metadata = make_metadata ("document");
  g_autoptr(StacheDocument) document = NULL;

  check_properties (STACHE_TYPE_DOCUMENT, names);

  document = g_object_new (STACHE_TYPE_DOCUMENT,
                           "id", "d2",
                           "namespace", "ns",
                           "source", "/tmp/notes.md",
                           "title", "Notes",
                           "media-type", "text/markdown",
                           "content-hash", "hash",
                           "summary", "Short.",
                           "size", (guint64) 1024,
                           "chunk-count", 3u,
                           "created", (gint64) 100,
                           "updated", (gint64) 200,
                           "metadata", metadata,
                           NULL);
  g_assert_cmpstr (stache_document_get_id (document), ==, "d2");
  g_assert_cmpstr (stache_document_get_namespace (document), ==, "ns");
  g_assert_cmpstr (stache_document_get_source (document), ==, "/tmp/notes.md");
  g_assert_cmpstr (stache_document_get_title (document), ==, "Notes");
  g_assert_cmpstr (stache_document_get_media_type (document), ==, "text/markdown");
  g_assert_cmpstr (stache_document_get_content_hash (document), ==, "hash");
  g_assert_cmpstr (stache_document_get_summary (document), ==, "Short.");
  g_assert_cmpuint (stache_document_get_size (document), ==, 1024);
  g_assert_cmpuint (stache_document_get_chunk_count (document), ==, 3);
  g_assert_cmpint (stache_document_get_created (document), ==, 100);
  g_assert_cmpint (stache_document_get_updated (document), ==, 200);
  g_assert_true (stache_document_get_metadata (document) == metadata);
}

static void
test_document_notify (void)
{
  g_autoptr(StacheDocument) document = stache_document_new ("d1");
  NotifyWatch title_watch;
  NotifyWatch size_watch;
  NotifyWatch updated_watch;

  watch_init (&title_watch, document, "title");
  watch_init (&size_watch, document, "size");
  watch_init (&updated_watch, document, "updated");

  stache_document_set_title (document, "Title");
  stache_document_set_title (document, "Title");
  g_assert_cmpuint (title_watch.count, ==, 1);

  stache_document_set_size (document, 0);
  g_assert_cmpuint (size_watch.count, ==, 0);
  stache_document_set_size (document, 10);
  stache_document_set_size (document, 10);
  g_assert_cmpuint (size_watch.count, ==, 1);

  stache_document_set_updated (document, 5);
  stache_document_set_updated (document, 5);
  g_assert_cmpuint (updated_watch.count, ==, 1);

  watch_clear (&title_watch);
  watch_clear (&size_watch);
  watch_clear (&updated_watch);
}

static void
test_document_metadata (void)
{
  g_autoptr(StacheDocument) document = stache_document_new (NULL);

  check_metadata (G_OBJECT (document), document_get_metadata, document_set_metadata);
}

/* StacheNamespace */

static JsonObject *
namespace_get_metadata (GObject *object)
{
  return stache_namespace_get_metadata (STACHE_NAMESPACE (object));
}

static void
namespace_set_metadata (GObject    *object,
                        JsonObject *metadata)
{
  stache_namespace_set_metadata (STACHE_NAMESPACE (object), metadata);
}

static void
test_namespace_new (void)
{
  g_autoptr(StacheNamespace) ns = stache_namespace_new ("research/papers");
  g_autoptr(StacheNamespace) empty = stache_namespace_new (NULL);

  g_assert_true (STACHE_IS_NAMESPACE (ns));
  g_assert_cmpstr (stache_namespace_get_name (ns), ==, "research/papers");
  g_assert_null (stache_namespace_get_description (ns));
  g_assert_cmpint (stache_namespace_get_created (ns), ==, 0);
  g_assert_null (stache_namespace_get_metadata (ns));

  g_assert_null (stache_namespace_get_name (empty));
}

static void
test_namespace_accessors (void)
{
  g_autoptr(StacheNamespace) ns = stache_namespace_new (NULL);
  g_autoptr(JsonObject) metadata = make_metadata ("namespace");
  g_autoptr(JsonObject) metadata_out = NULL;
  g_autofree char *name = NULL;
  g_autofree char *description = NULL;
  gint64 created = 0;

  stache_namespace_set_name (ns, "notes");
  stache_namespace_set_description (ns, "My notes");
  stache_namespace_set_created (ns, G_GINT64_CONSTANT (1700000000));
  stache_namespace_set_metadata (ns, metadata);

  g_assert_cmpstr (stache_namespace_get_name (ns), ==, "notes");
  g_assert_cmpstr (stache_namespace_get_description (ns), ==, "My notes");
  g_assert_cmpint (stache_namespace_get_created (ns), ==, G_GINT64_CONSTANT (1700000000));
  g_assert_true (stache_namespace_get_metadata (ns) == metadata);

  g_object_get (ns,
                "name", &name,
                "description", &description,
                "created", &created,
                "metadata", &metadata_out,
                NULL);
  g_assert_cmpstr (name, ==, "notes");
  g_assert_cmpstr (description, ==, "My notes");
  g_assert_cmpint (created, ==, G_GINT64_CONSTANT (1700000000));
  g_assert_true (metadata_out == metadata);
}

static void
test_namespace_properties (void)
{
  static const char * const names[] = {
    "name", "description", "created", "metadata", NULL
  };
  g_autoptr(JsonObject) metadata = make_metadata ("namespace");
  g_autoptr(StacheNamespace) ns = NULL;

  check_properties (STACHE_TYPE_NAMESPACE, names);

  ns = g_object_new (STACHE_TYPE_NAMESPACE,
                     "name", "a/b",
                     "description", "built by name",
                     "created", (gint64) 42,
                     "metadata", metadata,
                     NULL);
  g_assert_cmpstr (stache_namespace_get_name (ns), ==, "a/b");
  g_assert_cmpstr (stache_namespace_get_description (ns), ==, "built by name");
  g_assert_cmpint (stache_namespace_get_created (ns), ==, 42);
  g_assert_true (stache_namespace_get_metadata (ns) == metadata);
}

static void
test_namespace_notify (void)
{
  g_autoptr(StacheNamespace) ns = stache_namespace_new ("a");
  NotifyWatch name_watch;
  NotifyWatch created_watch;

  watch_init (&name_watch, ns, "name");
  watch_init (&created_watch, ns, "created");

  stache_namespace_set_name (ns, "a");
  g_assert_cmpuint (name_watch.count, ==, 0);
  stache_namespace_set_name (ns, "a/b");
  stache_namespace_set_name (ns, "a/b");
  g_assert_cmpuint (name_watch.count, ==, 1);

  stache_namespace_set_created (ns, 0);
  g_assert_cmpuint (created_watch.count, ==, 0);
  stache_namespace_set_created (ns, 1);
  stache_namespace_set_created (ns, 1);
  g_assert_cmpuint (created_watch.count, ==, 1);

  watch_clear (&name_watch);
  watch_clear (&created_watch);
}

static void
test_namespace_metadata (void)
{
  g_autoptr(StacheNamespace) ns = stache_namespace_new (NULL);

  check_metadata (G_OBJECT (ns), namespace_get_metadata, namespace_set_metadata);
}

static void
test_namespace_parent_name (void)
{
  static const struct {
    const char *name;
    const char *parent;
  } cases[] = {
    { "a/b/c", "a/b" },
    { "research/papers", "research" },
    { "a", NULL },
    { "", NULL },
    { "/a", NULL },
    { NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(StacheNamespace) ns = stache_namespace_new (cases[i].name);
      g_autofree char *parent = stache_namespace_dup_parent_name (ns);

      g_assert_cmpstr (parent, ==, cases[i].parent);
    }
}

/* StacheCompletion */

static void
test_completion_new (void)
{
  g_autoptr(StacheCompletion) completion = stache_completion_new ("Hello.");
  g_autoptr(StacheCompletion) empty = stache_completion_new (NULL);

  g_assert_true (STACHE_IS_COMPLETION (completion));
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "Hello.");
  g_assert_null (stache_completion_get_model (completion));
  g_assert_null (stache_completion_get_finish_reason (completion));
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, -1);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, -1);

  g_assert_null (stache_completion_get_text (empty));
}

static void
test_completion_new_full (void)
{
  g_autoptr(StacheCompletion) completion =
    stache_completion_new_full ("Hi.", "model-x", "length", 12, 3);
  g_autoptr(StacheCompletion) unknown = stache_completion_new_full ("Hi.", NULL, NULL, -1, -1);

  g_assert_cmpstr (stache_completion_get_text (completion), ==, "Hi.");
  g_assert_cmpstr (stache_completion_get_model (completion), ==, "model-x");
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "length");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 12);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 3);
  g_assert_null (stache_completion_get_model (unknown));
  g_assert_cmpint (stache_completion_get_prompt_tokens (unknown), ==, -1);
}

static void
test_completion_accessors (void)
{
  g_autoptr(StacheCompletion) completion = stache_completion_new (NULL);
  g_autofree char *text = NULL;
  g_autofree char *model = NULL;
  g_autofree char *finish_reason = NULL;
  gint prompt_tokens = 0;
  gint completion_tokens = 0;

  stache_completion_set_text (completion, "Answer.");
  stache_completion_set_model (completion, "some-model");
  stache_completion_set_finish_reason (completion, "length");
  stache_completion_set_prompt_tokens (completion, 120);
  stache_completion_set_completion_tokens (completion, 0);

  g_assert_cmpstr (stache_completion_get_text (completion), ==, "Answer.");
  g_assert_cmpstr (stache_completion_get_model (completion), ==, "some-model");
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "length");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 120);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 0);

  g_object_get (completion,
                "text", &text,
                "model", &model,
                "finish-reason", &finish_reason,
                "prompt-tokens", &prompt_tokens,
                "completion-tokens", &completion_tokens,
                NULL);
  g_assert_cmpstr (text, ==, "Answer.");
  g_assert_cmpstr (model, ==, "some-model");
  g_assert_cmpstr (finish_reason, ==, "length");
  g_assert_cmpint (prompt_tokens, ==, 120);
  g_assert_cmpint (completion_tokens, ==, 0);

  stache_completion_set_prompt_tokens (completion, -1);
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, -1);
}

static void
test_completion_properties (void)
{
  static const char * const names[] = {
    "text", "model", "finish-reason", "prompt-tokens", "completion-tokens", NULL
  };
  g_autoptr(StacheCompletion) completion = NULL;

  check_properties (STACHE_TYPE_COMPLETION, names);

  completion = g_object_new (STACHE_TYPE_COMPLETION,
                             "text", "built by name",
                             "model", "m",
                             "finish-reason", "stop",
                             "prompt-tokens", 10,
                             "completion-tokens", 20,
                             NULL);
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "built by name");
  g_assert_cmpstr (stache_completion_get_model (completion), ==, "m");
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "stop");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 10);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 20);
}

static void
test_completion_notify (void)
{
  g_autoptr(StacheCompletion) completion = stache_completion_new (NULL);
  NotifyWatch finish_watch;
  NotifyWatch tokens_watch;

  watch_init (&finish_watch, completion, "finish-reason");
  watch_init (&tokens_watch, completion, "completion-tokens");

  stache_completion_set_finish_reason (completion, NULL);
  g_assert_cmpuint (finish_watch.count, ==, 0);
  stache_completion_set_finish_reason (completion, "stop");
  stache_completion_set_finish_reason (completion, "stop");
  g_assert_cmpuint (finish_watch.count, ==, 1);

  stache_completion_set_completion_tokens (completion, -1);
  g_assert_cmpuint (tokens_watch.count, ==, 0);
  stache_completion_set_completion_tokens (completion, 8);
  stache_completion_set_completion_tokens (completion, 8);
  g_assert_cmpuint (tokens_watch.count, ==, 1);

  watch_clear (&finish_watch);
  watch_clear (&tokens_watch);
}

/* ---- stache_json_parse ---- */

static char *
nested (const char *open,
        guint       levels,
        const char *inner,
        const char *close)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < levels; i++)
    g_string_append (text, open);
  g_string_append (text, inner);
  for (guint i = 0; i < levels; i++)
    g_string_append (text, close);
  return g_string_free (text, FALSE);
}

static void
test_json_parse_depth_limit (void)
{
  g_autofree char *at_limit = nested ("[", STACHE_JSON_MAX_DEPTH, "1", "]");
  g_autofree char *past_limit = nested ("[", STACHE_JSON_MAX_DEPTH + 1, "1", "]");
  g_autofree char *objects = nested ("{\"a\":", 100000, "1", "}");
  g_autofree char *unclosed = nested ("[", 100000, "", "");
  g_autoptr(JsonNode) ok = NULL;
  g_autoptr(JsonNode) small = NULL;
  g_autoptr(GError) error = NULL;

  ok = stache_json_parse (at_limit, -1, 0, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (ok));

  g_assert_null (stache_json_parse (past_limit, -1, 0, TRUE, "the test", &error));
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "the test"));
  g_assert_nonnull (strstr (error->message, "128"));
  g_clear_error (&error);

  /* What would overflow json-glib's recursion is refused before it */
  g_assert_null (stache_json_parse (objects, -1, 0, TRUE, NULL, &error));
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_null (stache_json_parse (unclosed, -1, 0, TRUE, NULL, &error));
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
  g_clear_error (&error);

  /* A smaller limit of the caller's; brackets inside strings, and escaped
   * quotes, are not nesting */
  g_assert_null (stache_json_parse ("[[[1]]]", -1, 2, TRUE, NULL, &error));
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
  g_clear_error (&error);
  small = stache_json_parse ("{\"a\": \"[[[[\\\"{{{{\"}", -1, 2, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (small), "a"), ==, "[[[[\"{{{{");

  /* Malformed and empty text are json-glib's errors */
  g_assert_null (stache_json_parse ("{\"a\": ", -1, 0, TRUE, NULL, &error));
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_null (stache_json_parse ("  ", -1, 0, TRUE, NULL, &error));
  g_assert_nonnull (error);
}

static void
test_json_parse_nul (void)
{
  const char *text = "{\"title\": \"fine\", \"text\": \"hello \\u0000 world\"}";
  g_autoptr(JsonNode) kept = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (stache_json_parse (text, -1, 0, TRUE, "the body", &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“text”"));
  g_assert_nonnull (strstr (error->message, "the body"));
  g_clear_error (&error);

  /* In an array, no member to name */
  g_assert_null (stache_json_parse ("[\"\\u0000\"]", -1, 0, TRUE, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A service's answer may keep it; "\\u0000" written out is no NUL */
  kept = stache_json_parse (text, -1, 0, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (kept);
  g_clear_pointer (&kept, json_node_unref);
  kept = stache_json_parse ("{\"text\": \"a \\\\u0000 b\"}", -1, 0, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (kept), "text"), ==, "a \\u0000 b");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/data/chunk/new", test_chunk_new);
  g_test_add_func ("/data/chunk/accessors", test_chunk_accessors);
  g_test_add_func ("/data/chunk/properties", test_chunk_properties);
  g_test_add_func ("/data/chunk/notify", test_chunk_notify);
  g_test_add_func ("/data/chunk/metadata", test_chunk_metadata);

  g_test_add_func ("/data/search-result/new", test_search_result_new);
  g_test_add_func ("/data/search-result/accessors", test_search_result_accessors);
  g_test_add_func ("/data/search-result/properties", test_search_result_properties);
  g_test_add_func ("/data/search-result/notify", test_search_result_notify);
  g_test_add_func ("/data/search-result/metadata", test_search_result_metadata);
  g_test_add_func ("/data/search-result/copy", test_search_result_copy);

  g_test_add_func ("/data/document/new", test_document_new);
  g_test_add_func ("/data/document/accessors", test_document_accessors);
  g_test_add_func ("/data/document/properties", test_document_properties);
  g_test_add_func ("/data/document/notify", test_document_notify);
  g_test_add_func ("/data/document/metadata", test_document_metadata);

  g_test_add_func ("/data/namespace/new", test_namespace_new);
  g_test_add_func ("/data/namespace/accessors", test_namespace_accessors);
  g_test_add_func ("/data/namespace/properties", test_namespace_properties);
  g_test_add_func ("/data/namespace/notify", test_namespace_notify);
  g_test_add_func ("/data/namespace/metadata", test_namespace_metadata);
  g_test_add_func ("/data/namespace/parent-name", test_namespace_parent_name);

  g_test_add_func ("/data/completion/new", test_completion_new);
  g_test_add_func ("/data/completion/new-full", test_completion_new_full);
  g_test_add_func ("/data/completion/accessors", test_completion_accessors);
  g_test_add_func ("/data/completion/properties", test_completion_properties);
  g_test_add_func ("/data/completion/notify", test_completion_notify);
  g_test_add_func ("/json/parse/depth-limit", test_json_parse_depth_limit);
  g_test_add_func ("/json/parse/nul", test_json_parse_nul);

  return g_test_run ();
}
