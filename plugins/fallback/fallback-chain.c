/* fallback-chain.c: what the `fallback` LLM and embeddings providers share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A chain is the list of provider names in one setting
 * (`llm_fallback_providers=anthropic,ollama,extractive`), each created
 * once, through the plugin loader and with the same settings, when the
 * fallback provider is initialized.
 *
 * - An unknown name, `fallback` itself, or an empty list is a settings
 *   error: the fallback provider is not created.
 * - A member that exists but cannot be created (say `anthropic` without
 *   ANTHROPIC_API_KEY) is left out of the chain and reported with
 *   g_message(), with its reason; the others still serve. If none can be
 *   created, creating the fallback provider fails with every reason.
 *
 * At call time each member is tried in order, always starting with the
 * first (a primary that recovers is used again at once). The chain moves
 * to the next member only after a transient failure — the service could
 * not be reached, timed out, rate-limited us or failed with HTTP 5xx
 * (stache_http_error_is_transient()) — never after a request the service
 * refused (HTTP 4xx: a bad key, an unknown model) or any other error, and
 * never after a cancellation: those would fail the same way elsewhere, or
 * were meant. When every member failed transiently, the error keeps the
 * last member's domain and code and names each member with its reason.
 */
#include <glib/gi18n-lib.h>

#include "fallback-chain.h"

void
fallback_chain_free (FallbackChain *chain)
{
  if (chain == NULL)
    return;

  g_free (chain->setting);
  g_ptr_array_unref (chain->names);
  g_ptr_array_unref (chain->members);
  g_free (chain);
}

FallbackChain *
fallback_chain_new (StacheSettings      *settings,
                    StacheProviderType   type,
                    const char          *setting,
                    GError             **error)
{
  g_autoptr(FallbackChain) chain = g_new0 (FallbackChain, 1);
  g_auto(GStrv) names = stache_settings_get_string_list (settings, setting);
  g_autofree char *where = stache_settings_describe_source (settings, setting);
  g_autoptr(GString) failures = g_string_new (NULL);
  StachePluginLoader *loader = stache_plugin_loader_get_default ();

  chain->setting = g_strdup (setting);
  chain->names = g_ptr_array_new_with_free_func (g_free);
  chain->members = g_ptr_array_new_with_free_func (g_object_unref);

  if (names == NULL || names[0] == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("Setting “%s” (from %s) lists no providers: the fallback provider needs "
                     "at least one, for instance “anthropic,ollama,extractive”"),
                   setting, where);
      return NULL;
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      StacheProvider *member;

      if (g_strcmp0 (names[i], FALLBACK_PROVIDER_NAME) == 0)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                       _("Setting “%s” (from %s) lists “%s”, which would try itself"),
                       setting, where, FALLBACK_PROVIDER_NAME);
          return NULL;
        }

      member = stache_plugin_loader_create_provider (loader, type, names[i], settings,
                                                     &local_error);
      if (member == NULL)
        {
          if (g_error_matches (local_error, STACHE_ERROR, STACHE_ERROR_UNKNOWN_PROVIDER))
            {
              g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                           _("Setting “%s” (from %s): %s"), setting, where,
                           local_error->message);
              return NULL;
            }

          g_message (_("Fallback provider: “%s” from setting “%s” is left out: %s"),
                     names[i], setting, local_error->message);
          fallback_chain_add_failure (failures, names[i], local_error);
          continue;
        }

      g_ptr_array_add (chain->names, g_strdup (names[i]));
      g_ptr_array_add (chain->members, member);
    }

  if (chain->members->len == 0)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("None of the providers in setting “%s” (from %s) could be created: %s"),
                   setting, where, failures->str);
      return NULL;
    }

  return g_steal_pointer (&chain);
}

/**
 * fallback_chain_moves_on:
 * @error: how a member failed
 * @cancellable: (nullable): the call's cancellable
 *
 * Returns: %TRUE if the next member should be tried after @error
 */
gboolean
fallback_chain_moves_on (const GError *error,
                         GCancellable *cancellable)
{
  if (g_cancellable_is_cancelled (cancellable) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;

  return stache_http_error_is_transient (error);
}

/* Appends "name: message" to the list of reasons */
void
fallback_chain_add_failure (GString      *failures,
                            const char   *name,
                            const GError *error)
{
  if (failures->len > 0)
    g_string_append (failures, "; ");
  g_string_append_printf (failures, "%s: %s", name, error->message);
}

/* Takes @last_error: the error when every member failed transiently */
void
fallback_chain_set_exhausted (FallbackChain  *chain,
                              GString        *failures,
                              GError         *last_error,
                              GError        **error)
{
  if (chain->members->len == 1)
    g_set_error (error, last_error->domain, last_error->code,
                 _("The only provider of setting “%s” failed: %s"),
                 chain->setting, failures->str);
  else
    g_set_error (error, last_error->domain, last_error->code,
                 _("All %u providers of setting “%s” failed, in order: %s"),
                 chain->members->len, chain->setting, failures->str);
  g_error_free (last_error);
}
