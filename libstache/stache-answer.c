/* stache-answer.c: an answer with its sources
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-answer-private.h"

/**
 * StacheAnswer:
 *
 * What stache_store_ask() returns: the answer text, which cites its
 * sources as `[1]`, `[2]`, … in the order of stache_answer_get_sources(),
 * and the model that wrote it (`extractive` when no language model is
 * configured).
 */

struct _StacheAnswer
{
  GObject    parent_instance;

  char      *text;
  char      *model;
  GPtrArray *sources;
};

G_DEFINE_FINAL_TYPE (StacheAnswer, stache_answer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TEXT,
  PROP_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
stache_answer_finalize (GObject *object)
{
  StacheAnswer *self = STACHE_ANSWER (object);

  g_free (self->text);
  g_free (self->model);
  g_clear_pointer (&self->sources, g_ptr_array_unref);

  G_OBJECT_CLASS (stache_answer_parent_class)->finalize (object);
}

static void
stache_answer_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  StacheAnswer *self = STACHE_ANSWER (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_answer_class_init (StacheAnswerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = stache_answer_finalize;
  object_class->get_property = stache_answer_get_property;

  /**
   * StacheAnswer:text:
   *
   * The answer, citing sources as `[n]`.
   */
  properties[PROP_TEXT] = g_param_spec_string ("text", NULL, NULL, NULL,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * StacheAnswer:model:
   *
   * The model that wrote the answer.
   */
  properties[PROP_MODEL] = g_param_spec_string ("model", NULL, NULL, NULL,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
stache_answer_init (StacheAnswer *self)
{
}

StacheAnswer *
_stache_answer_new (const char *text,
                    const char *model,
                    GPtrArray  *sources)
{
  StacheAnswer *self = g_object_new (STACHE_TYPE_ANSWER, NULL);

  self->text = g_strdup (text);
  self->model = g_strdup (model);
  self->sources = g_ptr_array_ref (sources);

  return self;
}

/**
 * stache_answer_get_text:
 * @self: a #StacheAnswer
 *
 * Gets the answer.
 *
 * Returns: the answer text
 */
const char *
stache_answer_get_text (StacheAnswer *self)
{
  g_return_val_if_fail (STACHE_IS_ANSWER (self), NULL);
  return self->text;
}

/**
 * stache_answer_get_model:
 * @self: a #StacheAnswer
 *
 * Gets the model that wrote the answer.
 *
 * Returns: (nullable): the model name
 */
const char *
stache_answer_get_model (StacheAnswer *self)
{
  g_return_val_if_fail (STACHE_IS_ANSWER (self), NULL);
  return self->model;
}

/**
 * stache_answer_get_sources:
 * @self: a #StacheAnswer
 *
 * Gets the passages the answer was written from; `[1]` in the text is the
 * first of them.
 *
 * Returns: (transfer none) (element-type StacheSearchResult): the sources
 */
GPtrArray *
stache_answer_get_sources (StacheAnswer *self)
{
  g_return_val_if_fail (STACHE_IS_ANSWER (self), NULL);
  return self->sources;
}
