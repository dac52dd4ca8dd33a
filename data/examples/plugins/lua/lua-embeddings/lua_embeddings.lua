-- lua_embeddings.lua: an example embeddings provider written in Lua
--
-- SPDX-License-Identifier: LGPL-2.1-or-later
--
-- libpeas' lua5.1 loader runs this file with lgi available and takes the
-- table it returns: the classes it defines. Globals are forbidden, so
-- everything is local.
--
-- Each text becomes a vector of `lua_embeddings_dimensions` floats (env
-- LUA_EMBEDDINGS_DIMENSIONS, default 256): every lower-cased word is hashed
-- into a bucket, with a sign from a second hash, then the vector is scaled
-- to length 1. Texts that share words get similar vectors.
--
-- The vectors go back through `do_embed_batch_variant`, as one GVariant of
-- doubles (type "ad"), row after row: lgi cannot hand a GArray of floats
-- back to C safely, and Stache turns the variant into its float vectors.
-- (Python and C providers implement `embed_batch` instead.)
--
-- Install: copy this folder into ~/.local/share/stache/plugins/ and set
-- EMBEDDING_PROVIDER=lua-embeddings.

local lgi = require 'lgi'
local GLib = lgi.GLib
local Stache = lgi.require('Stache', '1.0')

local DEFAULT_DIMENSIONS = 256
local TWO_32 = 4294967296

local WordEmbeddings = Stache.Provider:derive('LuaWordEmbeddings', { Stache.EmbeddingProvider })

-- Lua 5.1 has no bit operations: a multiplicative string hash in exact
-- double arithmetic (every product stays below 2^53)
local function hash(word, seed)
  local h = seed
  for i = 1, #word do
    h = (h * 31 + string.byte(word, i)) % TWO_32
  end
  return h
end

local function dimensions(self)
  if not self.priv.dimensions then
    local settings = self.settings
    local n = DEFAULT_DIMENSIONS
    if settings then
      -- A throwing function gives nil and the GLib.Error, which names the
      -- setting and where its value came from
      local value, err = settings:get_int('lua_embeddings_dimensions', DEFAULT_DIMENSIONS)
      if err ~= nil then error(tostring(err)) end
      n = value
    end
    if n < 8 or n > 8192 then
      error(string.format('lua_embeddings_dimensions must be between 8 and 8192, not %d', n))
    end
    self.priv.dimensions = n
  end
  return self.priv.dimensions
end

local function embed_one(text, n, out)
  local row = {}
  for k = 1, n do row[k] = 0.0 end
  for word in string.gmatch(string.lower(text), '%w+') do
    local bucket = hash(word, 7) % n + 1
    local sign = (hash(word, 13) % 2 == 0) and 1.0 or -1.0
    row[bucket] = row[bucket] + sign
  end
  local norm = 0.0
  for k = 1, n do norm = norm + row[k] * row[k] end
  norm = math.sqrt(norm)
  if norm == 0 then norm = 1.0 end
  for k = 1, n do out[#out + 1] = row[k] / norm end
end

function WordEmbeddings:do_embed_batch_variant(texts, cancellable)
  local n = dimensions(self)
  local values = {}
  for _, text in ipairs(texts) do
    embed_one(text, n, values)
  end
  return GLib.Variant('ad', values)
end

function WordEmbeddings:do_get_dimensions()
  return dimensions(self)
end

function WordEmbeddings:do_get_model_id()
  return string.format('lua-words:%d', dimensions(self))
end

return { WordEmbeddings }
