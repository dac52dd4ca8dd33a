/* stache-stemmer.h: words to their stems (Snowball), and stop words, per language
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE_PLUGIN_SDK) && !defined(STACHE_COMPILATION)
# error "Only <stache-plugin.h> can be included directly."
#endif

#include <glib-object.h>
#include "stache-version.h"

G_BEGIN_DECLS

/**
 * STACHE_TEXT_LANGUAGE_KEY:
 *
 * The setting that names the language of the text: `text_language`, a
 * Snowball stemmer's name (`english`, `german`, `french`, …) or `none`.
 * (Not `language`: its environment variable would be gettext's
 * `LANGUAGE`, which holds the user's message languages.)
 */
#define STACHE_TEXT_LANGUAGE_KEY "text_language"

#define STACHE_TYPE_STEMMER (stache_stemmer_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheStemmer, stache_stemmer, STACHE, STEMMER, GObject)

STACHE_AVAILABLE_IN_ALL
StacheStemmer *stache_stemmer_new          (const char     *language,
                                            GError        **error);
STACHE_AVAILABLE_IN_ALL
const char    *stache_stemmer_get_language (StacheStemmer  *self);
STACHE_AVAILABLE_IN_ALL
char          *stache_stemmer_stem         (StacheStemmer  *self,
                                            const char     *word,
                                            gssize          length);
STACHE_AVAILABLE_IN_ALL
guint64        stache_stemmer_stem_hash    (StacheStemmer  *self,
                                            const char     *word,
                                            gsize           length,
                                            guint64         seed);
STACHE_AVAILABLE_IN_ALL
gboolean       stache_stemmer_is_stop_word (StacheStemmer  *self,
                                            const char     *word,
                                            gssize          length);

G_END_DECLS
