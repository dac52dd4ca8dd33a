/* test-filter.c: the metadata filter syntax
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <stache.h>

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static gboolean
matches (const char *filter_json,
         const char *document_id,
         const char *metadata_json)
{
  g_autoptr(JsonObject) filter = parse_object (filter_json);
  g_autoptr(JsonObject) metadata = parse_object (metadata_json);
  g_autoptr(GError) error = NULL;

  g_assert_true (stache_filter_validate (filter, &error));
  g_assert_no_error (error);

  return stache_filter_matches (filter, document_id, metadata);
}

static void
test_equality (void)
{
  g_assert_true (matches ("{\"lang\": \"en\"}", "d", "{\"lang\": \"en\"}"));
  g_assert_false (matches ("{\"lang\": \"en\"}", "d", "{\"lang\": \"fr\"}"));
  g_assert_false (matches ("{\"lang\": \"en\"}", "d", "{}"));
  g_assert_true (matches ("{\"year\": 2024}", "d", "{\"year\": 2024.0}"));
  g_assert_false (matches ("{\"year\": \"2024\"}", "d", "{\"year\": 2024}"));
  g_assert_true (matches ("{\"draft\": false}", "d", "{\"draft\": false}"));
  g_assert_true (matches ("{\"gone\": null}", "d", "{\"gone\": null}"));
}

static void
test_several_members_must_all_match (void)
{
  g_assert_true (matches ("{\"a\": 1, \"b\": 2}", "d", "{\"a\": 1, \"b\": 2}"));
  g_assert_false (matches ("{\"a\": 1, \"b\": 2}", "d", "{\"a\": 1, \"b\": 3}"));
}

static void
test_in (void)
{
  g_assert_true (matches ("{\"tag\": {\"$in\": [\"x\", \"y\"]}}", "d", "{\"tag\": \"y\"}"));
  g_assert_false (matches ("{\"tag\": {\"$in\": [\"x\", \"y\"]}}", "d", "{\"tag\": \"z\"}"));
  g_assert_false (matches ("{\"tag\": {\"$in\": []}}", "d", "{\"tag\": \"z\"}"));
}

static void
test_and_or (void)
{
  const char *filter = "{\"$or\": [{\"lang\": \"en\"}, {\"$and\": [{\"lang\": \"fr\"}, {\"year\": 2020}]}]}";

  g_assert_true (matches (filter, "d", "{\"lang\": \"en\"}"));
  g_assert_true (matches (filter, "d", "{\"lang\": \"fr\", \"year\": 2020}"));
  g_assert_false (matches (filter, "d", "{\"lang\": \"fr\", \"year\": 2021}"));
}

static void
test_document_id_field (void)
{
  g_assert_true (matches ("{\"document_id\": \"doc-7\"}", "doc-7", "{}"));
  g_assert_false (matches ("{\"document_id\": \"doc-7\"}", "doc-8", "{}"));
  g_assert_false (matches ("{\"document_id\": \"doc-7\"}", NULL, "{}"));
}

static void
test_null_filter_matches_everything (void)
{
  g_assert_true (stache_filter_matches (NULL, NULL, NULL));
}

static void
expect_invalid (const char *filter_json,
                const char *fragment)
{
  g_autoptr(JsonObject) filter = parse_object (filter_json);
  g_autoptr(GError) error = NULL;

  g_assert_false (stache_filter_validate (filter, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, fragment) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, fragment);
}

static void
test_invalid_filters_are_refused_with_their_fault (void)
{
  g_autoptr(GString) deep = g_string_new (NULL);

  expect_invalid ("{\"$regex\": \"a.*\"}", "$regex");
  expect_invalid ("{\"tag\": {\"$gt\": 3}}", "tag");
  expect_invalid ("{\"tag\": {\"$in\": \"x\"}}", "$in needs an array");
  expect_invalid ("{\"tag\": {\"$in\": [[1]]}}", "tag");
  expect_invalid ("{\"tag\": [1, 2]}", "tag");
  expect_invalid ("{\"$and\": []}", "$and");
  expect_invalid ("{\"$or\": [1]}", "$or");
  expect_invalid ("{\"\": 1}", "empty field name");

  for (guint i = 0; i < 20; i++)
    g_string_append (deep, "{\"$and\": [");
  g_string_append (deep, "{\"a\": 1}");
  for (guint i = 0; i < 20; i++)
    g_string_append (deep, "]}");
  expect_invalid (deep->str, "nested");
}

static void
test_in_list_is_bounded (void)
{
  g_autoptr(GString) big = g_string_new ("{\"tag\": {\"$in\": [");

  for (guint i = 0; i < 1025; i++)
    g_string_append_printf (big, "%s%u", i ? "," : "", i);
  g_string_append (big, "]}}");
  expect_invalid (big->str, "1024");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/filter/equality", test_equality);
  g_test_add_func ("/filter/all-members-match", test_several_members_must_all_match);
  g_test_add_func ("/filter/in", test_in);
  g_test_add_func ("/filter/and-or", test_and_or);
  g_test_add_func ("/filter/document-id", test_document_id_field);
  g_test_add_func ("/filter/null-matches-everything", test_null_filter_matches_everything);
  g_test_add_func ("/filter/invalid-refused", test_invalid_filters_are_refused_with_their_fault);
  g_test_add_func ("/filter/in-bounded", test_in_list_is_bounded);

  return g_test_run ();
}
