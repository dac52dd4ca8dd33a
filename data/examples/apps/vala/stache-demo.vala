/* stache-demo.vala: ingest a folder, search it and ask it a question
 *
 * Uses the embedded defaults (SQLite store, hashing embeddings, extractive
 * answers), so it needs no server and no configuration:
 *
 *   stache-demo-vala [FOLDER [QUESTION]]
 *
 * FOLDER defaults to the sample notes shipped with Stache; QUESTION is used
 * both for the search and for the question. Outside the Stache build:
 *
 *   valac --pkg stache-1.0 --pkg gio-2.0 --pkg json-glib-1.0 \
 *     -X -DSTACHE_DEMO_SAMPLES='"/path/to/notes"' stache-demo.vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

[CCode (cname = "STACHE_DEMO_SAMPLES")]
extern const string DEFAULT_FOLDER;

const string NAMESPACE = "stache-demo";
const string DEFAULT_QUESTION = "When should the colony be treated against varroa mites?";
const uint TOP_K = 3;

/* The title and source path of a search result, from its metadata */
void describe (Stache.SearchResult hit, out string title, out string source) {
    unowned Json.Object? metadata = hit.get_metadata ();
    title = "";
    source = "";
    if (metadata != null) {
        if (metadata.has_member ("title"))
            title = metadata.get_string_member ("title");
        if (metadata.has_member ("source"))
            source = metadata.get_string_member ("source");
    }
    if (title == "")
        title = hit.get_document_id () ?? "?";
}

string snippet (string? text, int width = 72) {
    var line = new StringBuilder ();
    foreach (unowned string word in (text ?? "").split_set (" \t\r\n")) {
        if (word == "")
            continue;
        if (line.len > 0)
            line.append_c (' ');
        line.append (word);
    }
    if (line.len <= width)
        return line.str;
    return line.str.substring (0, width - 3) + "...";
}

async void run (Stache.Store store, File folder, string question) throws Error {
    stdout.printf ("Ingesting %s into namespace \"%s\"\n", folder.get_path (), NAMESPACE);
    var results = yield store.ingest_directory_async (folder, NAMESPACE, null, null, null);
    var counts = new uint[Stache.IngestOutcome.FAILED + 1];
    foreach (unowned Stache.IngestResult item in results.data) {
        counts[item.get_outcome ()] += 1;
        var reason = item.get_reason ();
        stdout.printf ("  %-10s %s%s\n", item.get_outcome ().to_string (), item.get_source (),
                       reason != null ? @" ($reason)" : "");
    }
    stdout.printf ("%u files: %u added, %u unchanged, %u replaced, %u skipped, %u failed\n",
                   results.length, counts[0], counts[1], counts[2], counts[3], counts[4]);

    stdout.printf ("\nSearch: %s\n", question);
    var hits = yield store.search_async (question, NAMESPACE, TOP_K, Stache.SearchMode.HYBRID,
                                         null, null);
    if (hits.length == 0)
        stdout.printf ("  (nothing found)\n");
    for (uint i = 0; i < hits.length; i++) {
        string title, source;
        describe (hits[i], out title, out source);
        stdout.printf ("  %u. %.3f  %s  %s\n", i + 1, hits[i].get_score (), title, source);
        stdout.printf ("     %s\n", snippet (hits[i].get_text ()));
    }

    stdout.printf ("\nQuestion: %s\nAnswer:\n", question);
    /* ::token brings the answer piece by piece while the model writes */
    bool streamed = false;
    var handler = store.token.connect ((token) => {
        streamed = true;
        stdout.puts (token);
        stdout.flush ();
    });
    Stache.Answer? answer = null;
    try {
        answer = yield store.ask_async (question, NAMESPACE, TOP_K, null);
    } finally {
        store.disconnect (handler);
        if (streamed)
            stdout.putc ('\n');
    }
    if (!streamed)
        stdout.printf ("%s\n", answer.get_text ());

    stdout.printf ("\nSources (model: %s):\n", answer.get_model () ?? "unknown");
    unowned GenericArray<Stache.SearchResult> sources = answer.get_sources ();
    for (uint i = 0; i < sources.length; i++) {
        string title, source;
        describe (sources[i], out title, out source);
        stdout.printf ("  [%u] %s  %s\n", i + 1, title, source);
    }
}

int main (string[] args) {
    if (args.length > 3 || (args.length > 1 && (args[1] == "-h" || args[1] == "--help"))) {
        var usage = "Usage: %s [FOLDER [QUESTION]]\n".printf (Path.get_basename (args[0]));
        if (args.length > 3) {
            stderr.puts (usage);
            return 2;
        }
        stdout.puts (usage);
        return 0;
    }
    var folder = File.new_for_commandline_arg (args.length > 1 ? args[1] : DEFAULT_FOLDER);
    var question = args.length > 2 ? args[2] : DEFAULT_QUESTION;
    if (folder.query_file_type (FileQueryInfoFlags.NONE) != FileType.DIRECTORY) {
        stderr.printf ("stache-demo: %s: not a folder\n", folder.get_path ());
        return 1;
    }

    Stache.Store store;
    try {
        /* No configuration: the embedded defaults */
        store = new Stache.Store (new Stache.Settings ());
    } catch (Error e) {
        stderr.printf ("stache-demo: cannot open the store: %s\n", e.message);
        return 1;
    }

    var loop = new MainLoop ();
    int status = 0;
    run.begin (store, folder, question, (obj, res) => {
        try {
            run.end (res);
        } catch (Error e) {
            stderr.printf ("stache-demo: %s\n", e.message);
            status = 1;
        }
        loop.quit ();
    });
    loop.run ();
    return status;
}
