-- lua_reranker.lua: a reranker plugin in Lua (libpeas lua5.1 loader + lgi)
--
-- SPDX-License-Identifier: LGPL-2.1-or-later
--
-- Scores each result by the share of query words its text contains. The
-- loader forbids globals, so everything is local and the module returns a
-- table of the classes it defines.

local lgi = require 'lgi'
local Stache = lgi.require('Stache', '1.0')

local OverlapReranker = Stache.Provider:derive('LuaOverlapReranker', { Stache.RerankerProvider })

local function words(text)
  local set = {}
  for word in string.gmatch(string.lower(text or ''), '%w+') do
    set[word] = true
  end
  return set
end

function OverlapReranker:do_rerank(query, results, top_k, cancellable)
  local wanted = words(query)
  local n_wanted = 0
  for _ in pairs(wanted) do n_wanted = n_wanted + 1 end

  local scored = {}
  for _, result in ipairs(results) do
    local have = words(result.text)
    local hits = 0
    for word in pairs(wanted) do
      if have[word] then hits = hits + 1 end
    end
    local copy = result:copy()
    copy.score = n_wanted > 0 and hits / n_wanted or 0
    scored[#scored + 1] = copy
  end

  table.sort(scored, function(a, b) return a.score > b.score end)
  while #scored > top_k do table.remove(scored) end
  return scored
end

return { OverlapReranker }
