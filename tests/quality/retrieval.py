#!/usr/bin/python3
# retrieval.py: known-item retrieval quality on three corpora, against a
# plain SQLite FTS5 BM25 baseline measured in the same run
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Each corpus is a list of documents, each with one query whose only right
# answer is that document:
#
#   man-pages        section-1 man pages of this machine; the query is the
#                    page's NAME description ("list directory contents"),
#                    worded like the page (man_pages.py reads them)
#   debian-packages  the installed Debian packages; the query is the
#                    package's one-line summary, the document its long
#                    description (dpkg-query)
#   paraphrases      man pages again, with questions written by hand that
#                    paraphrase rather than copy (paraphrases.tsv: the page
#                    and the question); the other sampled pages are there
#                    as distractors
#
# Stache answers with chunks; as a user would, each search asks for 50 and
# keeps the first 10 distinct documents. Reported for each corpus: recall@1,
# recall@10 and MRR@10 for keyword, vector and hybrid search without a
# reranker, vector and hybrid with the `simple` reranker, the default
# pipeline (hybrid search with the store's default settings) and plain
# FTS5 (a table of whole documents, unicode61 with diacritics removed, the
# query's words OR-ed, ranked by bm25()).
#
# It fails (exit 1) when the default pipeline finds fewer documents first
# or in the first 10 than FTS5 BM25, or has a lower MRR@10, on any corpus
# given; exit
# 77 (skipped) when a corpus has too few documents on this machine.
#
# Run from a build tree:
#   GI_TYPELIB_PATH=build/libstache LD_LIBRARY_PATH=build/libstache \
#     /usr/bin/python3 tests/quality/retrieval.py --plugins build/plugins \
#     --corpus debian-packages
# Options for experiments: --set KEY=VALUE for any store setting (text_language=none,
# hybrid_document_weight=0, hybrid_vector_weight=0.7, hybrid_rrf_k=10,
# reranker_provider=none, …), --sample 200, --json, --dump FILE.

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import man_pages  # noqa: E402

SKIP = 77
NAMESPACE = "quality"
MIN_DOCUMENTS = 50
CHUNKS_ASKED = 50
DOCUMENTS_KEPT = 10
CORPORA = ("man-pages", "debian-packages", "paraphrases")
SYSTEMS = ("keyword", "vector", "vector+rerank", "hybrid", "hybrid+rerank", "default", "fts5-bm25")
HERE = os.path.dirname(os.path.abspath(__file__))


# ---- corpora: lists of (key, query, text) ----

def man_page_corpus(args):
    names, pages = man_pages.sample_pages(args.man_dir, args.sample, args.exclude)
    return [(page, description, text) for page, description, text in pages], \
        f"{len(pages)} of {len(names)} section-1 pages in {args.man_dir}"


def debian_package_corpus(args):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f",
                              "${Package}@@F@@${binary:Summary}@@F@@${Description}@@R@@"],
                             check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        return [], f"dpkg-query failed: {e}"
    docs = []
    seen_queries = set()
    seen_texts = set()
    for record in sorted(out.split("@@R@@")):
        fields = record.strip("\n").split("@@F@@")
        if len(fields) != 3:
            continue
        package, summary, description = fields
        lines = description.split("\n")[1:]   # the long description
        text = "\n".join(" " if line.strip() == "." else line.strip() for line in lines).strip()
        query = " ".join(summary.split())
        key = query.lower()
        digest = hashlib.sha1(" ".join(text.lower().split()).encode()).digest()
        if len(query.split()) < 3 or len(text) < 200 or key in seen_queries or digest in seen_texts:
            continue
        seen_queries.add(key)
        seen_texts.add(digest)
        docs.append((package, query, text))
    step = max(1, len(docs) // args.sample)
    docs = docs[::step][:args.sample]
    return docs, f"{len(docs)} installed packages (long descriptions, deduplicated)"


def paraphrase_corpus(args):
    wanted = []
    with open(os.path.join(HERE, "paraphrases.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            page, question = line.split("\t", 1)
            wanted.append((page, question))
    docs = []
    missing = []
    for page, question in wanted:
        path = None
        for suffix in (".1.gz", ".1"):
            candidate = os.path.join(args.man_dir, page + suffix)
            if os.path.exists(candidate):
                path = candidate
                break
        parsed = man_pages.parse_page(man_pages.read_source(path)) if path else None
        if parsed is None:
            missing.append(page)
            continue
        docs.append((page, question, parsed[1]))
    # Distractors: the sampled pages that are not targets, without a query
    targets = {page for page, _, _ in docs}
    _, pages = man_pages.sample_pages(args.man_dir, args.sample, args.exclude)
    distractors = [(page, None, text) for page, _, text in pages if page not in targets]
    note = f"{len(docs)} hand-written questions ({len(missing)} pages missing here), " \
           f"{len(distractors)} other pages as distractors"
    return docs + distractors, note


LOADERS = {
    "man-pages": man_page_corpus,
    "debian-packages": debian_package_corpus,
    "paraphrases": paraphrase_corpus,
}


# ---- measuring ----

def metrics(ranks):
    n = len(ranks)
    return {
        "recall@1": sum(1 for r in ranks if r == 1) / n,
        "recall@10": sum(1 for r in ranks if 0 < r <= DOCUMENTS_KEPT) / n,
        "mrr@10": sum(1.0 / r for r in ranks if 0 < r <= DOCUMENTS_KEPT) / n,
        "found": sum(1 for r in ranks if 0 < r <= DOCUMENTS_KEPT),
    }


def document_rank(hits, doc_id):
    """The rank of @doc_id among the distinct documents of @hits, 0 when
    it is not among the first DOCUMENTS_KEPT"""
    seen = []
    for hit in hits:
        d = hit.get_document_id()
        if d not in seen:
            seen.append(d)
            if d == doc_id:
                return len(seen)
            if len(seen) == DOCUMENTS_KEPT:
                break
    return 0


def fts5_ranks(docs, queries):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE d USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
    db.executemany("INSERT INTO d (rowid, body) VALUES (?, ?)",
                   [(i + 1, text) for i, (_, _, text) in enumerate(docs)])
    ranks = []
    for target, query in queries:
        words = re.findall(r"\w+", query.lower())
        if not words:
            ranks.append(0)
            continue
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        rows = db.execute("SELECT rowid FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT ?",
                          (match, DOCUMENTS_KEPT)).fetchall()
        rowids = [r[0] for r in rows]
        ranks.append(rowids.index(target + 1) + 1 if target + 1 in rowids else 0)
    return ranks


def evaluate_corpus(Stache, args, corpus, tmp):
    t0 = time.monotonic()
    docs, note = LOADERS[corpus](args)
    queries = [(i, q) for i, (_, q, _) in enumerate(docs) if q is not None]
    if len(queries) < min(MIN_DOCUMENTS, args.sample):
        return None, f"SKIP {corpus}: only {len(queries)} usable documents ({note})"
    t_load = time.monotonic() - t0

    path = os.path.join(tmp, f"{corpus}.db")

    def store_with(**extra):
        settings = Stache.Settings.new()
        settings.set_string("sqlite_path", path)
        for item in args.set:
            key, value = item.split("=", 1)
            settings.set_string(key, value)
        for key, value in extra.items():
            settings.set_string(key, value)
        return Stache.Store.new(settings)

    store = store_with()
    plain = store_with(reranker_provider="none")
    reranked = store_with(reranker_provider="simple")

    t0 = time.monotonic()
    doc_ids = []
    chunks = 0
    for key, _, text in docs:
        result = store.ingest_text_full(text, NAMESPACE, f"{corpus}:{key}", None, None, None)
        doc_ids.append(result.get_document_id())
        chunks += result.get_chunk_count()
    t_ingest = time.monotonic() - t0

    modes = {
        "keyword": (plain, Stache.SearchMode.KEYWORD),
        "vector": (plain, Stache.SearchMode.VECTOR),
        "hybrid": (plain, Stache.SearchMode.HYBRID),
        "vector+rerank": (reranked, Stache.SearchMode.VECTOR),
        "hybrid+rerank": (reranked, Stache.SearchMode.HYBRID),
        "default": (store, Stache.SearchMode.HYBRID),
    }
    ranks = {}
    for system, (s, mode) in modes.items():
        ranks[system] = [document_rank(s.search_full(q, NAMESPACE, CHUNKS_ASKED, mode, None, None),
                                       doc_ids[i])
                         for i, q in queries]
    ranks["fts5-bm25"] = fts5_ranks(docs, queries)

    report = {
        "corpus": corpus,
        "note": note,
        "documents": len(docs),
        "queries": len(queries),
        "chunks": chunks,
        "load_seconds": t_load,
        "ingest_seconds": t_ingest,
        "settings": args.set,
        "systems": {system: metrics(r) for system, r in ranks.items()},
    }
    if args.dump:
        report["ranks"] = [{"key": docs[i][0], "query": q, **{s: ranks[s][j] for s in SYSTEMS}}
                           for j, (i, q) in enumerate(queries)]
    return report, None


def print_report(report):
    print(f"Known-item retrieval: {report['corpus']}: {report['note']}")
    print(f"  {report['queries']} queries over {report['documents']} documents ({report['chunks']} chunks); "
          f"settings: {', '.join(report['settings']) or 'defaults'}; ingest {report['ingest_seconds']:.1f} s")
    print(f"  {'system':<14} {'recall@1':>9} {'recall@10':>10} {'MRR@10':>8}")
    for system in SYSTEMS:
        m = report["systems"][system]
        print(f"  {system:<14} {m['recall@1']:>9.3f} {m['recall@10']:>10.3f} {m['mrr@10']:>8.3f}")
    print()


def check(report):
    default = report["systems"]["default"]
    bm25 = report["systems"]["fts5-bm25"]
    worse = []
    if round(default["recall@1"] * report["queries"]) < round(bm25["recall@1"] * report["queries"]):
        worse.append(f"recall@1 {default['recall@1']:.3f} < BM25 {bm25['recall@1']:.3f}")
    if default["found"] < bm25["found"]:
        worse.append(f"recall@10 {default['recall@10']:.3f} < BM25 {bm25['recall@10']:.3f}")
    if default["mrr@10"] < bm25["mrr@10"] - 1e-12:
        worse.append(f"MRR@10 {default['mrr@10']:.3f} < BM25 {bm25['mrr@10']:.3f}")
    return worse


def main():
    parser = argparse.ArgumentParser(description="Known-item retrieval quality against FTS5 BM25.")
    parser.add_argument("--corpus", action="append", choices=CORPORA,
                        help="a corpus to measure (all three when not given)")
    parser.add_argument("--man-dir", default="/usr/share/man/man1")
    parser.add_argument("--exclude", metavar="REGEX", help="man page files to leave out, e.g. '^gcloud_'")
    parser.add_argument("--sample", type=int, default=400, help="documents per corpus (400)")
    parser.add_argument("--plugins", help="folder of the built-in plugins (build/plugins)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a store setting, e.g. text_language=none")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--dump", metavar="FILE", help="write every query's ranks as JSON")
    parser.add_argument("--no-check", action="store_true", help="report only")
    args = parser.parse_args()
    for item in args.set:
        if "=" not in item:
            parser.error(f"--set wants KEY=VALUE, not {item!r}")
    if args.sample < 1:
        parser.error("--sample must be positive")

    plugins = man_pages.find_plugins(args)
    if plugins is None:
        print("retrieval: cannot find the built-in plugins; pass --plugins build/plugins", file=sys.stderr)
        return 1

    tmp = tempfile.mkdtemp(prefix="stache-quality-")
    try:
        # (the store's file and language come from the settings made here)
        man_pages.isolate_environment(tmp, plugins, ("SQLITE_PATH", "TEXT_LANGUAGE"))

        import gi
        gi.require_version("Stache", "1.0")
        from gi.repository import Stache

        reports = []
        skipped = []
        for corpus in args.corpus or CORPORA:
            report, skip = evaluate_corpus(Stache, args, corpus, tmp)
            if report is None:
                print(skip)
                skipped.append(skip)
                continue
            print_report(report)
            reports.append(report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "ranks"} for r in reports], indent=2))
    if args.dump:
        with open(args.dump, "w") as f:
            json.dump(reports, f, indent=1)
    if not reports:
        return SKIP

    failed = False
    for report in reports:
        worse = check(report)
        if worse:
            print(f"FAIL {report['corpus']}: the default pipeline is worse than FTS5 BM25: " + "; ".join(worse))
            failed = True
        else:
            d = report["systems"]["default"]
            b = report["systems"]["fts5-bm25"]
            print(f"PASS {report['corpus']}: default recall@1 {d['recall@1']:.3f} vs BM25 {b['recall@1']:.3f}, "
                  f"recall@10 {d['recall@10']:.3f} vs {b['recall@10']:.3f}, "
                  f"MRR@10 {d['mrr@10']:.3f} vs {b['mrr@10']:.3f}")
    if skipped and not failed:
        print("(not measured: " + "; ".join(skipped) + ")")
    return 1 if failed and not args.no_check else 0


if __name__ == "__main__":
    sys.exit(main())
