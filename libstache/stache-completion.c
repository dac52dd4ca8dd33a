/* stache-completion.c: what a language model returns
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-private.h"

#include "stache-completion.h"

/**
 * StacheCompletion:
 *
 * What a language model provider returns for a prompt: the generated text,
 * with the model that wrote it, why it stopped and how many tokens it used.
 *
 * Every #StacheLlmProvider reports its answer in this one form, whatever
 * the service behind it returns, so callers can show the text, warn when an
 * answer was cut short and account for token use in the same way for all
 * providers. Token counts are -1 when the provider does not report them.
 *
 * Every field is a read-write property, so plugins written in Python or Lua
 * can build a completion with `GObject.new()` and property names.
 */

struct _StacheCompletion
{
  GObject  parent_instance;

  char    *text;
  char    *model;
  char    *finish_reason;
  gint     prompt_tokens;
  gint     completion_tokens;
};

G_DEFINE_FINAL_TYPE (StacheCompletion, stache_completion, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TEXT,
  PROP_MODEL,
  PROP_FINISH_REASON,
  PROP_PROMPT_TOKENS,
  PROP_COMPLETION_TOKENS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
stache_completion_finalize (GObject *object)
{
  StacheCompletion *self = STACHE_COMPLETION (object);

  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->finish_reason, g_free);

  G_OBJECT_CLASS (stache_completion_parent_class)->finalize (object);
}

static void
stache_completion_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  StacheCompletion *self = STACHE_COMPLETION (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;

    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;

    case PROP_FINISH_REASON:
      g_value_set_string (value, self->finish_reason);
      break;

    case PROP_PROMPT_TOKENS:
      g_value_set_int (value, self->prompt_tokens);
      break;

    case PROP_COMPLETION_TOKENS:
      g_value_set_int (value, self->completion_tokens);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_completion_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  StacheCompletion *self = STACHE_COMPLETION (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      stache_completion_set_text (self, g_value_get_string (value));
      break;

    case PROP_MODEL:
      stache_completion_set_model (self, g_value_get_string (value));
      break;

    case PROP_FINISH_REASON:
      stache_completion_set_finish_reason (self, g_value_get_string (value));
      break;

    case PROP_PROMPT_TOKENS:
      stache_completion_set_prompt_tokens (self, g_value_get_int (value));
      break;

    case PROP_COMPLETION_TOKENS:
      stache_completion_set_completion_tokens (self, g_value_get_int (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_completion_class_init (StacheCompletionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = stache_completion_finalize;
  object_class->get_property = stache_completion_get_property;
  object_class->set_property = stache_completion_set_property;

  /**
   * StacheCompletion:text:
   *
   * The text the model generated.
   */
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheCompletion:model:
   *
   * The name of the model that generated the text, as the provider
   * reports it.
   */
  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheCompletion:finish-reason:
   *
   * Why the model stopped generating, as the provider reports it, such as
   * `stop` at a natural end or `length` when a token limit cut it short.
   */
  properties[PROP_FINISH_REASON] =
    g_param_spec_string ("finish-reason", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheCompletion:prompt-tokens:
   *
   * The number of tokens in the prompt, or -1 if unknown.
   */
  properties[PROP_PROMPT_TOKENS] =
    g_param_spec_int ("prompt-tokens", NULL, NULL,
                      -1, G_MAXINT, -1,
                      (G_PARAM_READWRITE |
                       G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS));

  /**
   * StacheCompletion:completion-tokens:
   *
   * The number of tokens the model generated, or -1 if unknown.
   */
  properties[PROP_COMPLETION_TOKENS] =
    g_param_spec_int ("completion-tokens", NULL, NULL,
                      -1, G_MAXINT, -1,
                      (G_PARAM_READWRITE |
                       G_PARAM_EXPLICIT_NOTIFY |
                       G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
stache_completion_init (StacheCompletion *self)
{
  self->prompt_tokens = -1;
  self->completion_tokens = -1;
}

/**
 * stache_completion_new:
 * @text: (nullable): the generated text
 *
 * Creates a completion with the given text. The token counts start out
 * unknown (-1); they and the other fields can be set afterwards.
 *
 * Returns: (transfer full): a new #StacheCompletion
 */
StacheCompletion *
stache_completion_new (const char *text)
{
  return g_object_new (STACHE_TYPE_COMPLETION,
                       "text", text,
                       NULL);
}

/**
 * stache_completion_new_full:
 * @text: (nullable): the generated text
 * @model: (nullable): the model that wrote it
 * @finish_reason: (nullable): why generation stopped, such as `stop`
 * @prompt_tokens: tokens in the prompt, or -1 when unknown
 * @completion_tokens: tokens generated, or -1 when unknown
 *
 * Creates a completion with every field set, as a provider does once the
 * model has answered.
 *
 * Returns: (transfer full): a new #StacheCompletion
 */
StacheCompletion *
stache_completion_new_full (const char *text,
                            const char *model,
                            const char *finish_reason,
                            gint        prompt_tokens,
                            gint        completion_tokens)
{
  return g_object_new (STACHE_TYPE_COMPLETION,
                       "text", text,
                       "model", model,
                       "finish-reason", finish_reason,
                       "prompt-tokens", prompt_tokens,
                       "completion-tokens", completion_tokens,
                       NULL);
}

/**
 * stache_completion_get_text:
 * @self: a #StacheCompletion
 *
 * Gets the text the model generated.
 *
 * Returns: (nullable): the text, or %NULL if unset
 */
const char *
stache_completion_get_text (StacheCompletion *self)
{
  g_return_val_if_fail (STACHE_IS_COMPLETION (self), NULL);

  return self->text;
}

/**
 * stache_completion_set_text:
 * @self: a #StacheCompletion
 * @text: (nullable): the generated text
 *
 * Sets the text the model generated.
 */
void
stache_completion_set_text (StacheCompletion *self,
                            const char       *text)
{
  g_return_if_fail (STACHE_IS_COMPLETION (self));

  if (_stache_replace_string (&self->text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

/**
 * stache_completion_get_model:
 * @self: a #StacheCompletion
 *
 * Gets the name of the model that generated the text.
 *
 * Returns: (nullable): the model name, or %NULL if unknown
 */
const char *
stache_completion_get_model (StacheCompletion *self)
{
  g_return_val_if_fail (STACHE_IS_COMPLETION (self), NULL);

  return self->model;
}

/**
 * stache_completion_set_model:
 * @self: a #StacheCompletion
 * @model: (nullable): the model name
 *
 * Sets the name of the model that generated the text.
 */
void
stache_completion_set_model (StacheCompletion *self,
                             const char       *model)
{
  g_return_if_fail (STACHE_IS_COMPLETION (self));

  if (_stache_replace_string (&self->model, model))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

/**
 * stache_completion_get_finish_reason:
 * @self: a #StacheCompletion
 *
 * Gets why the model stopped generating, such as `stop` or `length`.
 *
 * Returns: (nullable): the finish reason, or %NULL if unknown
 */
const char *
stache_completion_get_finish_reason (StacheCompletion *self)
{
  g_return_val_if_fail (STACHE_IS_COMPLETION (self), NULL);

  return self->finish_reason;
}

/**
 * stache_completion_set_finish_reason:
 * @self: a #StacheCompletion
 * @finish_reason: (nullable): the finish reason, such as `stop` or `length`
 *
 * Sets why the model stopped generating.
 */
void
stache_completion_set_finish_reason (StacheCompletion *self,
                                     const char       *finish_reason)
{
  g_return_if_fail (STACHE_IS_COMPLETION (self));

  if (_stache_replace_string (&self->finish_reason, finish_reason))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINISH_REASON]);
}

/**
 * stache_completion_get_prompt_tokens:
 * @self: a #StacheCompletion
 *
 * Gets the number of tokens in the prompt.
 *
 * Returns: the number of tokens, or -1 if unknown
 */
gint
stache_completion_get_prompt_tokens (StacheCompletion *self)
{
  g_return_val_if_fail (STACHE_IS_COMPLETION (self), -1);

  return self->prompt_tokens;
}

/**
 * stache_completion_set_prompt_tokens:
 * @self: a #StacheCompletion
 * @prompt_tokens: the number of tokens, or -1 if unknown
 *
 * Sets the number of tokens in the prompt.
 */
void
stache_completion_set_prompt_tokens (StacheCompletion *self,
                                     gint              prompt_tokens)
{
  g_return_if_fail (STACHE_IS_COMPLETION (self));
  g_return_if_fail (prompt_tokens >= -1);

  if (self->prompt_tokens == prompt_tokens)
    return;

  self->prompt_tokens = prompt_tokens;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROMPT_TOKENS]);
}

/**
 * stache_completion_get_completion_tokens:
 * @self: a #StacheCompletion
 *
 * Gets the number of tokens the model generated.
 *
 * Returns: the number of tokens, or -1 if unknown
 */
gint
stache_completion_get_completion_tokens (StacheCompletion *self)
{
  g_return_val_if_fail (STACHE_IS_COMPLETION (self), -1);

  return self->completion_tokens;
}

/**
 * stache_completion_set_completion_tokens:
 * @self: a #StacheCompletion
 * @completion_tokens: the number of tokens, or -1 if unknown
 *
 * Sets the number of tokens the model generated.
 */
void
stache_completion_set_completion_tokens (StacheCompletion *self,
                                         gint              completion_tokens)
{
  g_return_if_fail (STACHE_IS_COMPLETION (self));
  g_return_if_fail (completion_tokens >= -1);

  if (self->completion_tokens == completion_tokens)
    return;

  self->completion_tokens = completion_tokens;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPLETION_TOKENS]);
}
