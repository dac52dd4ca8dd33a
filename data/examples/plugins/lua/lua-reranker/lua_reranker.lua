-- lua_reranker.lua: an example reranker written in Lua
--
-- SPDX-License-Identifier: LGPL-2.1-or-later
--
-- libpeas' lua5.1 loader runs this file with lgi available and takes the
-- table it returns. Globals are forbidden, so everything is local.
--
-- Each result's new score is the share of the query's words its text
-- contains, plus a small part of its original score (setting
-- `lua_reranker_keep_score`, env LUA_RERANKER_KEEP_SCORE, default 0.1) so
-- ties keep the order search gave them. The results are Stache's copies:
-- the caller's objects are left alone.
--
-- Install: copy this folder into ~/.local/share/stache/plugins/ and set
-- RERANKER_PROVIDER=lua-reranker.

local lgi = require 'lgi'
local Stache = lgi.require('Stache', '1.0')

local OverlapReranker = Stache.Provider:derive('LuaExampleReranker', { Stache.RerankerProvider })

local function words(text)
  local set, n = {}, 0
  for word in string.gmatch(string.lower(text or ''), '%w+') do
    if not set[word] then
      set[word] = true
      n = n + 1
    end
  end
  return set, n
end

local function keep_score(self)
  local settings = self.settings
  if not settings then return 0.1 end
  local value, err = settings:get_double('lua_reranker_keep_score', 0.1)
  if err ~= nil then error(tostring(err)) end
  return value
end

-- Stache hands over copies of the results: scoring them in place is all a
-- reranker has to do; Stache orders them and keeps the best top_k.
-- (do_rescore rather than do_rerank: lgi cannot hand a list back to C.)
function OverlapReranker:do_rescore(query, results, cancellable)
  local wanted, n_wanted = words(query)
  local keep = keep_score(self)

  for _, result in ipairs(results) do
    local have = words(result:get_text())
    local hits = 0
    for word in pairs(wanted) do
      if have[word] then hits = hits + 1 end
    end
    local overlap = n_wanted > 0 and hits / n_wanted or 0
    result:set_score(overlap + keep * result:get_score())
  end
  return true
end

return { OverlapReranker }
