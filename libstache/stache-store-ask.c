/* stache-store-ask.c: StacheStore's answers: the prompt from the best
 * passages, and the tokens of a streamed answer delivered where the caller
 * wants them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-plugin-loader.h"
#include "stache-store-private.h"

typedef struct _TokenCallback TokenCallback;
static void token_callback_unref (TokenCallback *callback);

typedef struct
{
  char          *query;
  char          *namespace_;
  guint          top_k;
  JsonObject    *filter;
  GMainContext  *context;         /* where ask_async emits ::token */
  TokenCallback *token_callback;  /* ask_full_async's */
} StoreCall;

static void
store_call_free (gpointer p)
{
  StoreCall *call = p;

  g_free (call->query);
  g_free (call->namespace_);
  g_clear_pointer (&call->filter, json_object_unref);
  g_clear_pointer (&call->context, g_main_context_unref);
  g_clear_pointer (&call->token_callback, token_callback_unref);
  g_free (call);
}

/* ---- ask ---- */

static StacheLlmProvider *
ensure_llm (StacheStore  *self,
            GError      **error)
{
  StacheLlmProvider *llm;

  g_mutex_lock (&self->llm_lock);
  if (self->llm == NULL)
    self->llm = STACHE_LLM_PROVIDER (stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                                           STACHE_PROVIDER_TYPE_LLM, NULL,
                                                                           self->settings, error));
  llm = self->llm != NULL ? g_object_ref (self->llm) : NULL;
  g_mutex_unlock (&self->llm_lock);

  return llm;
}

/* The prompt format the built-in extractive LLM parses, and a plain one
 * any model reads well: the question, then numbered sources. */
static char *
build_prompt (const char *question,
              GPtrArray  *sources)
{
  GString *prompt = g_string_new (NULL);

  g_string_append_printf (prompt, "Question: %s\n\nSources:\n", question);
  if (sources->len == 0)
    g_string_append (prompt, "(none)\n");

  for (guint i = 0; i < sources->len; i++)
    {
      StacheSearchResult *source = g_ptr_array_index (sources, i);
      JsonObject *metadata = stache_search_result_get_metadata (source);
      const char *label = NULL;

      if (metadata != NULL)
        label = json_object_get_string_member_with_default (metadata, "title",
                  json_object_get_string_member_with_default (metadata, "source", NULL));
      if (label == NULL)
        label = stache_search_result_get_document_id (source);

      g_string_append_printf (prompt, "[%u] %s\n%s\n\n", i + 1, label != NULL ? label : "",
                              stache_search_result_get_text (source));
    }

  return g_string_free (prompt, FALSE);
}

#define SYSTEM_PROMPT \
  "Answer the question using only the numbered sources. Cite the sources you use as [n]. " \
  "If the sources do not contain the answer, say so."

/* Where ::token goes: emitted at once (sync ask), or handed to the main
 * context of an async call, in order, ahead of the task's callback */
/* The token function of one call (stache_store_ask_full() and its async
 * variant), shared by the emissions it queues */
struct _TokenCallback
{
  gatomicrefcount  refs;
  StacheTokenFunc  func;
  gpointer         data;
  GDestroyNotify   destroy;
};

static TokenCallback *
token_callback_new (StacheTokenFunc func,
                    gpointer        data,
                    GDestroyNotify  destroy)
{
  TokenCallback *callback;

  if (func == NULL)
    {
      if (destroy != NULL)
        destroy (data);
      return NULL;
    }
  callback = g_new0 (TokenCallback, 1);
  g_atomic_ref_count_init (&callback->refs);
  callback->func = func;
  callback->data = data;
  callback->destroy = destroy;
  return callback;
}

static TokenCallback *
token_callback_ref (TokenCallback *callback)
{
  if (callback != NULL)
    g_atomic_ref_count_inc (&callback->refs);
  return callback;
}

static void
token_callback_unref (TokenCallback *callback)
{
  if (callback == NULL || !g_atomic_ref_count_dec (&callback->refs))
    return;
  if (callback->destroy != NULL)
    callback->destroy (callback->data);
  g_free (callback);
}

typedef struct
{
  StacheStore   *store;
  GMainContext  *context;
  TokenCallback *callback;   /* of this call, or NULL */
} TokenSink;

typedef struct
{
  StacheStore   *store;
  char          *token;
  TokenCallback *callback;
} TokenEmission;

static void
token_emission_free (gpointer p)
{
  TokenEmission *emission = p;

  g_object_unref (emission->store);
  g_free (emission->token);
  token_callback_unref (emission->callback);
  g_free (emission);
}

static void
deliver_token (StacheStore   *store,
               TokenCallback *callback,
               const char    *token)
{
  if (callback != NULL)
    callback->func (token, callback->data);
  g_signal_emit (store, _stache_store_signals[STACHE_STORE_SIGNAL_TOKEN], 0, token);
}

static gboolean
emit_token_idle (gpointer data)
{
  TokenEmission *emission = data;

  deliver_token (emission->store, emission->callback, emission->token);
  return G_SOURCE_REMOVE;
}

static void
sink_token (const char *token,
            gpointer    user_data)
{
  TokenSink *sink = user_data;
  TokenEmission *emission;

  if (sink->context == NULL)
    {
      deliver_token (sink->store, sink->callback, token);
      return;
    }

  emission = g_new0 (TokenEmission, 1);
  emission->store = g_object_ref (sink->store);
  emission->token = g_strdup (token);
  emission->callback = token_callback_ref (sink->callback);
  _stache_store_post_to_caller (sink->context, emit_token_idle, emission, token_emission_free,
                  "[stache] StacheStore::token");
}

static StacheAnswer *
store_ask (StacheStore   *self,
           const char    *question,
           const char    *namespace_,
           guint          top_k,
           GMainContext  *token_context,
           TokenCallback *token_callback,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(StacheLlmProvider) llm = NULL;
  g_autoptr(StacheCompletion) completion = NULL;
  g_autofree char *prompt = NULL;
  TokenSink sink = { self, token_context, token_callback };

  sources = stache_store_search_full (self, question, namespace_, top_k > 0 ? top_k : 5,
                                      STACHE_SEARCH_MODE_HYBRID, NULL, cancellable, error);
  if (sources == NULL)
    return NULL;

  llm = ensure_llm (self, error);
  if (llm == NULL)
    return NULL;

  prompt = build_prompt (question, sources);
  completion = stache_llm_provider_generate_stream (llm, prompt, SYSTEM_PROMPT, NULL,
                                                    sink_token, &sink, cancellable, error);
  if (completion == NULL)
    return NULL;

  return _stache_answer_new (stache_completion_get_text (completion),
                             stache_completion_get_model (completion), sources);
}

/**
 * stache_store_ask:
 * @self: a #StacheStore
 * @question: the question
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many passages to give the model; 0 for 5
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Searches for @question, then asks the LLM provider to answer from the
 * passages found, citing them as `[1]`, `[2]` … With no LLM configured the
 * built-in extractive provider quotes the best sentences.
 *
 * While the model writes, #StacheStore::token is emitted with each piece
 * of the answer, in the calling thread.
 *
 * Returns: (transfer full): the answer and its sources, or %NULL with
 *   @error set
 */
StacheAnswer *
stache_store_ask (StacheStore   *self,
                  const char    *question,
                  const char    *namespace_,
                  guint          top_k,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (question != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return store_ask (self, question, namespace_, top_k, NULL, NULL, cancellable, error);
}

/**
 * stache_store_ask_full:
 * @self: a #StacheStore
 * @question: the question
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many passages to give the model; 0 for 5
 * @token_func: (scope call) (nullable): called with each piece of the
 *   answer as the model writes it, in the calling thread
 * @token_data: (closure token_func): data for @token_func
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * stache_store_ask() with the pieces of this answer given to @token_func,
 * so that several questions asked at once each get their own (the
 * #StacheStore::token signal, emitted too, cannot tell them apart).
 *
 * Returns: (transfer full): the answer and its sources, or %NULL with
 *   @error set
 */
StacheAnswer *
stache_store_ask_full (StacheStore      *self,
                       const char       *question,
                       const char       *namespace_,
                       guint             top_k,
                       StacheTokenFunc   token_func,
                       gpointer          token_data,
                       GCancellable     *cancellable,
                       GError          **error)
{
  TokenCallback callback = { 0, token_func, token_data, NULL };

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (question != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return store_ask (self, question, namespace_, top_k, NULL, token_func != NULL ? &callback : NULL,
                    cancellable, error);
}

static gpointer
ask_work (gpointer       source,
          gpointer       data,
          GCancellable  *cancellable,
          GError       **error)
{
  StoreCall *call = data;

  return store_ask (source, call->query, call->namespace_, call->top_k, call->context,
                    call->token_callback, cancellable, error);
}

/* Both async asks: @token_callback (taken) may be NULL */
static void
ask_in_thread (StacheStore          *self,
               gpointer              source_tag,
               const char           *question,
               const char           *namespace_,
               guint                 top_k,
               TokenCallback        *token_callback,
               GCancellable         *cancellable,
               GAsyncReadyCallback   callback,
               gpointer              user_data)
{
  StoreCall *call = g_new0 (StoreCall, 1);

  call->query = g_strdup (question);
  call->namespace_ = g_strdup (namespace_);
  call->top_k = top_k;
  call->context = g_main_context_ref_thread_default ();
  call->token_callback = token_callback;
  _stache_task_run_in_thread (self, source_tag, ask_work, call, store_call_free,
                              g_object_unref, cancellable, callback, user_data);
}

/**
 * stache_store_ask_async:
 * @self: a #StacheStore
 * @question: the question
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many passages to give the model; 0 for 5
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the answer
 * @user_data: data for @callback
 *
 * Asks in a worker thread; see stache_store_ask(). #StacheStore::token is
 * emitted in the thread-default main context of this call.
 */
void
stache_store_ask_async (StacheStore         *self,
                        const char          *question,
                        const char          *namespace_,
                        guint                top_k,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (question != NULL);

  ask_in_thread (self, stache_store_ask_async, question, namespace_, top_k, NULL,
                 cancellable, callback, user_data);
}

/**
 * stache_store_ask_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_store_ask_async().
 *
 * Returns: (transfer full): the answer, or %NULL with @error set
 */
StacheAnswer *
stache_store_ask_finish (StacheStore   *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_ask_async, error);
}

/**
 * stache_store_ask_full_async:
 * @self: a #StacheStore
 * @question: the question
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many passages to give the model; 0 for 5
 * @token_func: (scope notified) (nullable): called with each piece of the
 *   answer, in the thread-default main context of this call, before
 *   @callback
 * @token_data: (closure token_func): data for @token_func
 * @token_destroy: (destroy token_data) (nullable): frees @token_data
 *   once the call is done with it
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * stache_store_ask_async() with the pieces of this answer given to
 * @token_func; see stache_store_ask_full().
 */
void
stache_store_ask_full_async (StacheStore         *self,
                             const char          *question,
                             const char          *namespace_,
                             guint                top_k,
                             StacheTokenFunc      token_func,
                             gpointer             token_data,
                             GDestroyNotify       token_destroy,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (question != NULL);

  ask_in_thread (self, stache_store_ask_full_async, question, namespace_, top_k,
                 token_callback_new (token_func, token_data, token_destroy),
                 cancellable, callback, user_data);
}

/**
 * stache_store_ask_full_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_store_ask_full_async().
 *
 * Returns: (transfer full): the answer and its sources, or %NULL with
 *   @error set
 */
StacheAnswer *
stache_store_ask_full_finish (StacheStore   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_ask_full_async, error);
}

