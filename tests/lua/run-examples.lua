-- run-examples.lua: runs the Lua example plugins through Stache's C
-- interfaces with lgi, the way libpeas' lua5.1 loader would host them,
-- for machines without that loader (Debian 12 has none).
--
-- SPDX-License-Identifier: LGPL-2.1-or-later
--
-- Usage: lua5.1 run-examples.lua EXAMPLES_DIR SAMPLES_DIR DB_PATH
--
-- Each module is loaded as the loader does: its file run in an environment
-- where assigning a global is an error, returning a table of classes. The
-- classes are then used only through Stache's C API: the interface
-- wrappers and a StacheStore (ingest, search, ask) built with them.
-- Prints "ok <check>" lines; any failure raises and exits non-zero.

local examples, samples, db_path = arg[1], arg[2], arg[3]
assert(examples and samples and db_path, 'usage: run-examples.lua EXAMPLES_DIR SAMPLES_DIR DB_PATH')

local lgi = require 'lgi'
local GLib, Gio = lgi.GLib, lgi.Gio
local Stache = lgi.require('Stache', '1.0')

local function load_module(folder, module)
  local path = examples .. '/' .. folder .. '/' .. module .. '.lua'
  local chunk = assert(loadfile(path))
  local env = setmetatable({}, {
    __index = _G,
    __newindex = function(_, key) error('global variable “' .. tostring(key) .. '” in ' .. path, 2) end,
  })
  setfenv(chunk, env)
  local classes = chunk()
  assert(type(classes) == 'table' and #classes >= 1, path .. ' returns no table of classes')
  return classes
end

local GObject = lgi.GObject

local settings = Stache.Settings.new()
settings:set_string('sqlite_path', db_path)
settings:set_string('lua_embeddings_dimensions', '128')

-- the embeddings provider
local Embeddings = load_module('lua-embeddings', 'lua_embeddings')[1]
assert(GObject.type_is_a(Embeddings._gtype, Stache.EmbeddingProvider._gtype))
local embedder = Embeddings { settings = settings }
local vectors = assert(embedder:embed_batch({ 'sea stars eat mussels', 'sourdough starter', 'sea stars' }, nil))
assert(#vectors == 3 * 128, 'expected 3 rows of 128 values, got ' .. #vectors)
assert(embedder:get_dimensions() == 128)
assert(embedder:get_model_id() == 'lua-words:128')
local function dot(a, i, j, n)
  local s = 0
  for k = 1, n do s = s + a[(i - 1) * n + k] * a[(j - 1) * n + k] end
  return s
end
assert(dot(vectors, 1, 3, 128) > dot(vectors, 2, 3, 128), 'shared words should make vectors closer')
for round = 1, 50 do
  local again = assert(embedder:embed_batch({ 'round ' .. round }, nil))
  assert(#again == 128)
  collectgarbage()
end
print('ok embeddings: 3 texts, 128 dimensions, nearer when words are shared, 50 more calls with GC')

-- a bad setting is an error naming it, not a crash
local bad_settings = Stache.Settings.new()
bad_settings:set_string('lua_embeddings_dimensions', 'many')
local bad = Embeddings { settings = bad_settings }
-- lgi 0.9 logs an error raised in a virtual method as a warning (with the
-- setting's own message) and returns nothing; Stache makes that an error
-- naming the provider
local none, err = bad:embed_batch({ 'x' }, nil)
assert(none == nil and err ~= nil, 'a bad setting must fail')
assert(tostring(err):find('LuaWordEmbeddings', 1, true), tostring(err))
print('ok embeddings: a bad setting fails with: ' .. tostring(err))

-- the reranker
local Reranker = load_module('lua-reranker', 'lua_reranker')[1]
assert(GObject.type_is_a(Reranker._gtype, Stache.RerankerProvider._gtype))
local reranker = Reranker { settings = settings }
local candidates = {
  Stache.SearchResult.new('a', 'Bicycle chains need oil.', 0.9),
  Stache.SearchResult.new('b', 'Sea stars pry open mussels with their tube feet.', 0.2),
  Stache.SearchResult.new('c', 'Mussels live on rocks.', 0.5),
}
local ranked = assert(reranker:rerank('how do sea stars open mussels', candidates, 2, nil))
assert(#ranked == 2, 'top_k is 2')
assert(ranked[1]:get_id() == 'b', 'the result with most query words first, got ' .. ranked[1]:get_id())
assert(candidates[1]:get_score() == 0.9, 'the input is left alone')
for round = 1, 50 do
  local again = assert(reranker:rerank('sea stars ' .. round, candidates, 3, nil))
  assert(#again == 3)
  collectgarbage()
end
print('ok reranker: best overlap first, cut to top_k, input untouched, 50 more calls with GC')

-- the whole pipeline with both Lua providers
local store = Stache.Store {
  settings = settings,
  embedding_provider = embedder,
  reranker_provider = reranker,
}
assert(store:init(nil))
local results = assert(store:ingest_directory(Gio.File.new_for_path(samples), 'lua', nil, nil, nil))
assert(#results >= 5, 'the samples were ingested')
for _, result in ipairs(results) do
  assert(result:get_outcome() == 'ADDED' or result:get_outcome() == Stache.IngestOutcome.ADDED,
         'every sample added, got ' .. tostring(result:get_outcome()) .. ': ' .. tostring(result:get_reason()))
end
local hits = assert(store:search('how do sea stars open mussels', 'lua', 3, nil))
assert(#hits >= 1)
local source = hits[1]:get_metadata():get_string_member('source')
assert(source:find('tide%-pools'), 'tide pools first, got ' .. source)
local answer = assert(store:ask('What do purple urchins eat?', 'lua', 3, nil))
assert(answer:get_text():find('%[%d%]'), 'the answer cites a source: ' .. answer:get_text())
print('ok store: ingest ' .. #results .. ' files, search finds ' .. source .. ', ask cites its sources')
