#!/usr/bin/env -S gjs -m
// stache-demo.js: ingest a folder, search it and ask it a question
//
// Uses the embedded defaults (SQLite store, hashing embeddings, extractive
// answers), so it needs no server and no configuration:
//
//   gjs -m stache-demo.js [FOLDER [QUESTION]]
//
// FOLDER defaults to the sample notes shipped with Stache; QUESTION is used
// both for the search and for the question.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import Stache from 'gi://Stache?version=1.0';
import System from 'system';

// The async methods as promises: await store.ingest_directory_async(…)
Gio._promisify(Stache.Store.prototype, 'ingest_directory_async', 'ingest_directory_finish');
Gio._promisify(Stache.Store.prototype, 'search_async', 'search_finish');
Gio._promisify(Stache.Store.prototype, 'ask_async', 'ask_finish');

const NAMESPACE = 'stache-demo';
const DEFAULT_QUESTION = 'When should the colony be treated against varroa mites?';
const TOP_K = 3;
const OUTCOMES = ['added', 'unchanged', 'replaced', 'skipped', 'failed'];

function defaultFolder() {
    const [script] = GLib.filename_from_uri(import.meta.url);
    const here = GLib.path_get_dirname(script);
    const notes = GLib.build_filenamev([here, '..', '..', '..', 'samples', 'notes']);
    return Gio.File.new_for_path(notes).get_path();  // without the '..'s
}

class UsageError extends Error {}

// The title and source path of a search result, from its metadata
function describe(hit) {
    const metadata = hit.get_metadata();
    let title = '', source = '';
    if (metadata) {
        if (metadata.has_member('title'))
            title = metadata.get_string_member('title');
        if (metadata.has_member('source'))
            source = metadata.get_string_member('source');
    }
    return [title || hit.get_document_id() || '?', source];
}

function snippet(text, width = 72) {
    const line = (text ?? '').split(/\s+/).filter(w => w.length > 0).join(' ');
    return line.length <= width ? line : `${line.slice(0, width - 3)}...`;
}

function write(text) {
    // print() adds a newline; streamed tokens must not get one each
    const stdout = new Gio.UnixOutputStream({fd: 1, close_fd: false});
    stdout.write_all(new TextEncoder().encode(text), null);
    stdout.flush(null);
}

async function main(args) {
    if (args.length > 2)
        throw new UsageError('Usage: stache-demo.js [FOLDER [QUESTION]]');
    const folder = Gio.File.new_for_path(args[0] ?? defaultFolder());
    const question = args[1] ?? DEFAULT_QUESTION;
    if (folder.query_file_type(Gio.FileQueryInfoFlags.NONE, null) !== Gio.FileType.DIRECTORY)
        throw new Error(`${folder.get_path()}: not a folder`);

    // No configuration: the embedded defaults
    const store = Stache.Store.new(Stache.Settings.new());

    print(`Ingesting ${folder.get_path()} into namespace "${NAMESPACE}"`);
    const results = await store.ingest_directory_async(folder, NAMESPACE, null, null, null);
    const counts = {};
    for (const item of results) {
        const outcome = Stache.ingest_outcome_to_string(item.get_outcome());
        counts[outcome] = (counts[outcome] ?? 0) + 1;
        const reason = item.get_reason();
        print(`  ${outcome.padEnd(10)} ${item.get_source()}${reason ? ` (${reason})` : ''}`);
    }
    print(`${results.length} files: ${OUTCOMES.map(o => `${counts[o] ?? 0} ${o}`).join(', ')}`);

    print(`\nSearch: ${question}`);
    const hits = await store.search_async(question, NAMESPACE, TOP_K,
        Stache.SearchMode.HYBRID, null, null);
    if (hits.length === 0)
        print('  (nothing found)');
    hits.forEach((hit, i) => {
        const [title, source] = describe(hit);
        print(`  ${i + 1}. ${hit.get_score().toFixed(3)}  ${title}  ${source}`);
        print(`     ${snippet(hit.get_text())}`);
    });

    print(`\nQuestion: ${question}`);
    print('Answer:');
    // ::token brings the answer piece by piece while the model writes
    let streamed = false;
    const handler = store.connect('token', (_store, token) => {
        streamed = true;
        write(token);
    });
    let answer;
    try {
        answer = await store.ask_async(question, NAMESPACE, TOP_K, null);
    } finally {
        store.disconnect(handler);
        if (streamed)
            print('');
    }
    if (!streamed)
        print(answer.get_text());

    print(`\nSources (model: ${answer.get_model() ?? 'unknown'}):`);
    answer.get_sources().forEach((hit, i) => {
        const [title, source] = describe(hit);
        print(`  [${i + 1}] ${title}  ${source}`);
    });
}

const loop = new GLib.MainLoop(null, false);
let status = 0;
main(System.programArgs).catch(error => {
    if (error instanceof UsageError) {
        printerr(error.message);
        status = 2;
    } else {
        printerr(`stache-demo: ${error.message}`);
        status = 1;
    }
}).finally(() => loop.quit());
loop.run();
System.exit(status);
