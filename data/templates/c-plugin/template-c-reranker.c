/* template-c-reranker.c: a reranker provider, as a template for C plugins
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `template-c` reranker gives each search result a new score:
 *
 *   score = coverage + weight × the score search gave it
 *
 * where coverage is the share of the query's distinct words found in the
 * result's text (0 to 1), and weight is the setting `template_c_weight`
 * (environment variable TEMPLATE_C_WEIGHT, or `template_c_weight=` in
 * stache.conf), 0 to 1, default 0.1. Stache then orders the results by the
 * new score and keeps the best `top_k` (the interface does that for a
 * provider that implements `rescore` only).
 *
 * To make it your own: rename the type (TemplateCReranker), the module
 * (Module= in the .plugin file and shared_module() in meson.build), the
 * provider name (X-Stache-Providers) and the setting.
 */
#include <libpeas/peas.h>
#include <stache-plugin.h>

#define TEMPLATE_C_SETTING        "template_c_weight"
#define TEMPLATE_C_DEFAULT_WEIGHT 0.1

#define TEMPLATE_C_TYPE_RERANKER (template_c_reranker_get_type ())
G_DECLARE_FINAL_TYPE (TemplateCReranker, template_c_reranker, TEMPLATE_C, RERANKER, StacheProvider)

struct _TemplateCReranker
{
  StacheProvider parent_instance;

  double weight;   /* set once by init, read-only afterwards */
};

static void template_c_reranker_iface_init (StacheRerankerProviderInterface *iface);
static void template_c_reranker_initable_iface_init (GInitableIface *iface);

/* A dynamic type: the module can be loaded and unloaded by libpeas. */
G_DEFINE_DYNAMIC_TYPE_EXTENDED (TemplateCReranker, template_c_reranker, STACHE_TYPE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_RERANKER_PROVIDER,
                                                               template_c_reranker_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               template_c_reranker_initable_iface_init))

/* The distinct words of @text, folded (lower case, no accents). */
static GHashTable *
word_set (const char *text)
{
  GHashTable *words = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) tokens = g_str_tokenize_and_fold (text != NULL ? text : "", NULL, NULL);

  for (guint i = 0; tokens[i] != NULL; i++)
    g_hash_table_add (words, g_steal_pointer (&tokens[i]));

  return words;
}

static gboolean
template_c_reranker_rescore (StacheRerankerProvider  *provider,
                             const char              *query,
                             GPtrArray               *results,
                             GCancellable            *cancellable,
                             GError                 **error)
{
  TemplateCReranker *self = TEMPLATE_C_RERANKER (provider);
  g_autoptr(GHashTable) wanted = word_set (query);
  guint n_wanted = g_hash_table_size (wanted);

  for (guint i = 0; i < results->len; i++)
    {
      StacheSearchResult *result = g_ptr_array_index (results, i);
      g_autoptr(GHashTable) have = word_set (stache_search_result_get_text (result));
      GHashTableIter iter;
      gpointer word;
      guint found = 0;
      double coverage;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      g_hash_table_iter_init (&iter, wanted);
      while (g_hash_table_iter_next (&iter, &word, NULL))
        if (g_hash_table_contains (have, word))
          found++;

      coverage = n_wanted > 0 ? (double) found / n_wanted : 0.0;
      stache_search_result_set_score (result,
                                      coverage + self->weight * stache_search_result_get_score (result));
    }

  return TRUE;
}

static void
template_c_reranker_iface_init (StacheRerankerProviderInterface *iface)
{
  iface->rescore = template_c_reranker_rescore;
}

/* Settings are read once, when the provider is created, so a bad value
 * is reported by `stache plugins check` and before any search runs. */
static gboolean
template_c_reranker_initable_init (GInitable     *initable,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  TemplateCReranker *self = TEMPLATE_C_RERANKER (initable);
  StacheSettings *settings = stache_provider_get_settings (STACHE_PROVIDER (self));
  GError *local_error = NULL;
  double weight;

  if (settings == NULL)
    return TRUE;

  weight = stache_settings_get_double (settings, TEMPLATE_C_SETTING,
                                       TEMPLATE_C_DEFAULT_WEIGHT, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (!(weight >= 0.0 && weight <= 1.0))
    {
      g_autofree char *where = stache_settings_describe_source (settings, TEMPLATE_C_SETTING);

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   "Setting “%s” (from %s) must be a number from 0 to 1, not %g",
                   TEMPLATE_C_SETTING, where, weight);
      return FALSE;
    }

  self->weight = weight;
  return TRUE;
}

static void
template_c_reranker_initable_iface_init (GInitableIface *iface)
{
  iface->init = template_c_reranker_initable_init;
}

static void
template_c_reranker_class_init (TemplateCRerankerClass *klass)
{
}

static void
template_c_reranker_class_finalize (TemplateCRerankerClass *klass)
{
}

static void
template_c_reranker_init (TemplateCReranker *self)
{
  self->weight = TEMPLATE_C_DEFAULT_WEIGHT;
}

/* The one symbol libpeas looks up: register the type and say which
 * interface it provides. */
G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  template_c_reranker_register_type (G_TYPE_MODULE (module));
  peas_object_module_register_extension_type (module, STACHE_TYPE_RERANKER_PROVIDER,
                                              TEMPLATE_C_TYPE_RERANKER);
}
