/* stache-store-private.h: what the files of StacheStore share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * StacheStore is one class in five files, one concept each:
 * stache-store.c (construction, properties, signals, documents and
 * namespaces), stache-store-ingest.c (the ingest pipeline),
 * stache-store-walk.c (walking a folder with globs), stache-store-search.c
 * (hybrid search and fusion) and stache-store-ask.c (prompts and tokens).
 */
#pragma once

#include "stache-answer-private.h"
#include "stache-chunk.h"
#include "stache-document-index-provider.h"
#include "stache-embedding-provider.h"
#include "stache-enums.h"
#include "stache-error.h"
#include "stache-ingest-result-private.h"
#include "stache-llm-provider.h"
#include "stache-namespace-provider.h"
#include "stache-private.h"
#include "stache-reranker-provider.h"
#include "stache-search-result.h"
#include "stache-store.h"
#include "stache-task-private.h"
#include "stache-vector-db-provider.h"

G_BEGIN_DECLS

#define STACHE_STORE_DEFAULT_NAMESPACE "default"

struct _StacheStore
{
  GObject                      parent_instance;

  StacheSettings              *settings;
  StacheLlmProvider           *llm;
  StacheEmbeddingProvider     *embedder;
  StacheVectorDbProvider      *vectordb;
  StacheNamespaceProvider     *namespaces;
  StacheRerankerProvider      *reranker;
  StacheDocumentIndexProvider *documents;

  GMutex                       llm_lock;   /* the LLM is created on first ask */
  guint                        chunk_size;
  guint                        chunk_overlap;
  guint64                      max_file_size;
  guint                        default_top_k;
  guint                        candidates;     /* search_candidates */
  double                       vector_weight;  /* of the vector list in fusion */
  double                       rrf_k;
  double                       document_weight;  /* of the document keyword list */
  char                        *text_language;  /* part of the pipeline signature */
};

enum {
  STACHE_STORE_SIGNAL_PROGRESS,
  STACHE_STORE_SIGNAL_TOKEN,
  STACHE_STORE_N_SIGNALS
};

/* Set in class_init (stache-store.c), read by the files that emit. */
extern guint _stache_store_signals[STACHE_STORE_N_SIGNALS];

/* @namespace_, or `default` for %NULL, in *@out once it is a valid name */
gboolean   _stache_store_resolve_namespace (const char          *namespace_,
                                            const char         **out,
                                            GError             **error);

/* Runs @func (@data) in @context, the context of an async call, ahead of
 * the call's callback (same priority, queued earlier). */
void       _stache_store_post_to_caller    (GMainContext        *context,
                                            GSourceFunc          func,
                                            gpointer             data,
                                            GDestroyNotify       destroy,
                                            const char          *static_name);

/* A file's name for messages: its path, or its URI when it has none */
char      *_stache_store_file_display_name (GFile               *file);

/* The files under @directory that @include and @exclude select (globs
 * matched against the path relative to @directory and the base name),
 * sorted by path, appended to @files; each folder that cannot be read
 * becomes a FAILED result in namespace @ns, appended to @failures, and the
 * walk goes on. */
gboolean   _stache_store_walk_folder       (GFile               *directory,
                                            const char * const  *include,
                                            const char * const  *exclude,
                                            const char          *ns,
                                            GPtrArray           *files,
                                            GPtrArray           *failures,
                                            GCancellable        *cancellable,
                                            GError             **error);

G_END_DECLS
