/* fuzz-json.c: JSON from outside, and metadata filters
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bytes are what a REST body, an MCP line or a service's answer could
 * be: stache_json_parse() (both ways of treating U+0000) must never crash
 * or overflow the stack; what parses as an object is then taken as a
 * metadata filter, validated, and, when valid, matched against a few
 * chunks' metadata.
 */
#include <stdint.h>
#include <string.h>

#include <stache-plugin.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static JsonObject *
metadata (const char *json)
{
  g_autoptr(JsonNode) node = json_from_string (json, NULL);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_object_ref (json_node_get_object (node)) : NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const char *samples[] = {
    "{\"source\": \"a.md\", \"page\": 3, \"tags\": [\"x\", \"y\"], \"score\": 0.5, \"ok\": true}",
    "{\"source\": null, \"page\": \"3\", \"nested\": {\"a\": [1, 2, {\"b\": 3}]}}",
    "{}",
  };

  for (int refuse_nul = 0; refuse_nul < 2; refuse_nul++)
    {
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GError) error = NULL;

      root = stache_json_parse ((const char *) data, (gssize) size, 0, refuse_nul, "fuzz", &error);
      if (root == NULL)
        {
          /* Every refusal says why */
          g_assert (error != NULL && error->message != NULL && error->message[0] != '\0');
          continue;
        }

      if (JSON_NODE_HOLDS_OBJECT (root))
        {
          JsonObject *filter = json_node_get_object (root);
          g_autoptr(GError) filter_error = NULL;

          if (stache_filter_validate (filter, &filter_error))
            {
              for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
                {
                  g_autoptr(JsonObject) meta = metadata (samples[i]);

                  stache_filter_matches (filter, "doc-1", meta);
                }
            }
          else
            g_assert (filter_error != NULL);
        }
    }

  return 0;
}
