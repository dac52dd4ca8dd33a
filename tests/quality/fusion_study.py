#!/usr/bin/python3
# fusion_study.py: what-if figures for hybrid search on the man page corpus
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Not a test. It ingests the man pages man_pages.py samples, fetches long
# vector and keyword candidate lists once per query straight from the
# store's vector database, and then replays the store's search in Python
# under other parameters: the reciprocal-rank-fusion constant k, a weight
# per list, the number of candidates per list, score fusion instead of rank
# fusion, with and without the store's reranker. The first rows replay the
# store's own settings and must equal what stache_store_search_full() gives
# for the same queries; the study checks that before printing.
#
# Reranker weights are compile-time constants of the simple plugin: to try
# others, build a copy of the plugin with other values and put its folder
# first in --plugins (a:b); the first "simple" found wins.
#
#   GI_TYPELIB_PATH=build/libstache LD_LIBRARY_PATH=build/libstache \
#     /usr/bin/python3 tests/quality/fusion_study.py --plugins build/plugins [--exclude '^gcloud_']

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import man_pages  # noqa: E402

MAX_CANDIDATES = 200


def rank_of(results, doc_id):
    for position, hit in enumerate(results, 1):
        if hit.get_document_id() == doc_id:
            return position
    return 0


def rrf(lists, k, weights):
    """The store's fuse_rrf() with a free k and a weight per list."""
    entries = {}
    order = []
    for hits, weight in zip(lists, weights):
        for rank, hit in enumerate(hits):
            key = hit.get_id()
            if key not in entries:
                entries[key] = [hit, 0.0, len(order)]
                order.append(key)
            entries[key][1] += weight * (1.0 / (k + rank + 1))
    fused = sorted(entries.values(), key=lambda e: (-e[1], e[2]))
    return [(e[0], e[1]) for e in fused]


def score_fusion(lists, weights):
    """Weighted sum of min-max normalised raw scores (cosine, -BM25)."""
    entries = {}
    order = []
    for hits, weight in zip(lists, weights):
        if not hits:
            continue
        scores = [h.get_score() for h in hits]
        low, high = min(scores), max(scores)
        for hit, s in zip(hits, scores):
            key = hit.get_id()
            if key not in entries:
                entries[key] = [hit, 0.0, len(order)]
                order.append(key)
            entries[key][1] += weight * ((s - low) / (high - low) if high > low else 1.0)
    fused = sorted(entries.values(), key=lambda e: (-e[1], e[2]))
    return [(e[0], e[1]) for e in fused]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--man-dir", default="/usr/share/man/man1")
    parser.add_argument("--sample", type=int, default=400)
    parser.add_argument("--exclude", metavar="REGEX")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--plugins", required=True, help="plugin folders, colon-separated")
    parser.add_argument("--label", default="", help="a name for the reranker build in use")
    parser.add_argument("--quick", action="store_true", help="only the main variants")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a store setting, e.g. hashing_dimensions=1024")
    args = parser.parse_args()

    names, pages = man_pages.sample_pages(args.man_dir, args.sample, args.exclude)
    if len(pages) < man_pages.MIN_PAGES:
        print(f"too few usable pages ({len(pages)})")
        return man_pages.SKIP

    tmp = tempfile.mkdtemp(prefix="stache-fusion-")
    try:
        man_pages.isolate_environment(tmp, os.path.abspath(args.plugins) if ":" not in args.plugins
                                      else ":".join(os.path.abspath(p) for p in args.plugins.split(":")))
        return study(args, pages, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def study(args, pages, tmp):
    import gi
    gi.require_version("Stache", "1.0")
    from gi.repository import Stache

    settings = Stache.Settings.new()
    settings.set_string("sqlite_path", os.path.join(tmp, "stache.db"))
    for item in args.set:
        key, _, value = item.partition("=")
        settings.set_string(key, value)
    store = Stache.Store.new(settings)
    ns = man_pages.NAMESPACE
    doc_ids = [store.ingest_text_full(text, ns, f"man:{page}", None, None, None).get_document_id()
               for page, _, text in pages]
    db = store.props.vector_db_provider
    embedder = store.props.embedding_provider
    reranker = store.props.reranker_provider
    top_k = args.top_k
    default_candidates = max(top_k * 4, 20)      # as in stache_store_search_full()

    queries = []
    actual = {"vector": [], "keyword": [], "hybrid": []}
    modes = {"vector": Stache.SearchMode.VECTOR, "keyword": Stache.SearchMode.KEYWORD,
             "hybrid": Stache.SearchMode.HYBRID}
    for (page, description, _), doc_id in zip(pages, doc_ids):
        vector = embedder.embed(description, None)
        by_vector = list(db.search(ns, vector, MAX_CANDIDATES, None, None))
        by_keyword = list(db.keyword_search(ns, description, MAX_CANDIDATES, None, None))
        queries.append((description, doc_id, by_vector, by_keyword))
        for mode, value in modes.items():
            actual[mode].append(rank_of(store.search_full(description, ns, top_k, value, None, None),
                                        doc_id))

    def evaluate(make_candidates, rerank):
        ranks = []
        for description, doc_id, by_vector, by_keyword in queries:
            scored = make_candidates(by_vector, by_keyword)
            if rerank:
                copies = []
                for hit, score in scored:
                    copy = hit.copy()
                    copy.set_score(score)
                    copies.append(copy)
                results = list(reranker.rerank(description, copies, top_k, None)) if copies else []
            else:
                results = [hit for hit, _ in scored[:top_k]]
            ranks.append(rank_of(results, doc_id))
        return ranks

    def summary(ranks):
        n = len(ranks)
        found = sum(1 for r in ranks if r > 0)
        return found, found / n, sum(1.0 / r for r in ranks if r > 0) / n

    def only(which, c):
        def make(by_vector, by_keyword):
            hits = (by_vector if which == "vector" else by_keyword)[:c]
            return [(h, h.get_score()) for h in hits]
        return make

    def fused(k, w_vector, w_keyword, c):
        return lambda v, kw: rrf([v[:c], kw[:c]], k, [w_vector, w_keyword])

    def combined(w_vector, w_keyword, c):
        return lambda v, kw: score_fusion([v[:c], kw[:c]], [w_vector, w_keyword])

    c0 = default_candidates
    variants = [
        ("vector (store)", only("vector", c0), True),
        ("keyword (store)", only("keyword", c0), True),
        ("hybrid (store): rrf k=60", fused(60, 1, 1, c0), True),
    ]
    # Replaying the store's settings must give the store's own ranks.
    for (label, make, rerank), mode in zip(variants, ("vector", "keyword", "hybrid")):
        replay = evaluate(make, rerank)
        if replay != actual[mode]:
            diff = sum(1 for a, b in zip(replay, actual[mode]) if a != b)
            print(f"replay of {mode} differs from the store on {diff} queries", file=sys.stderr)
            return 1

    variants += [
        ("vector, no rerank", only("vector", c0), False),
        ("keyword, no rerank", only("keyword", c0), False),
        ("rrf k=60, no rerank", fused(60, 1, 1, c0), False),
    ]
    for k in (1, 5, 10, 20, 30, 100):
        variants.append((f"rrf k={k}", fused(k, 1, 1, c0), True))
        if not args.quick:
            variants.append((f"rrf k={k}, no rerank", fused(k, 1, 1, c0), False))
    for wv in (0.5, 0.3):
        for k in (10, 60):
            variants.append((f"rrf k={k}, vector weight {wv}", fused(k, wv, 1, c0), True))
            if not args.quick:
                variants.append((f"rrf k={k}, vector weight {wv}, no rerank",
                                 fused(k, wv, 1, c0), False))
    if not args.quick:
        for c in (10, 20, 100, 200):
            variants.append((f"rrf k=60, {c} candidates/list", fused(60, 1, 1, c), True))
            variants.append((f"rrf k=10, {c} candidates/list", fused(10, 1, 1, c), True))
            variants.append((f"keyword, {c} candidates", only("keyword", c), True))
    for wv in (1.0, 0.5, 0.3):
        variants.append((f"score fusion, vector weight {wv}", combined(wv, 1, c0), True))
        if not args.quick:
            variants.append((f"score fusion, vector weight {wv}, no rerank",
                             combined(wv, 1, c0), False))

    label = f" [{', '.join(filter(None, [args.label] + args.set))}]" \
        if args.label or args.set else ""
    n = len(queries)
    print(f"Fusion study{label}: {n} queries, top_k {top_k}, {default_candidates} candidates/list "
          f"unless stated; rerank = the store's reranker ({type(reranker).__name__})")
    print(f"  {'variant':<46} {'recall@' + str(top_k):>9} {'found':>7} {'MRR':>7}")
    keyword_figures = None
    t0 = time.monotonic()
    for label_, make, rerank in variants:
        found, recall, mrr = summary(evaluate(make, rerank))
        if label_ == "keyword (store)":
            keyword_figures = (found, mrr)
        mark = ""
        if keyword_figures and label_ != "keyword (store)":
            mark = "  >= keyword" if found >= keyword_figures[0] and mrr >= keyword_figures[1] \
                else ""
        print(f"  {label_:<46} {recall:>9.3f} {found:>3d}/{n:<3d} {mrr:>7.3f}{mark}")
    print(f"  ({time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
