-- A Lua plugin whose module does not parse: line 6 has a stray "=".
local lgi = require 'lgi'
local Stache = lgi.require('Stache', '1.0')

local Reranker = Stache.Provider:derive('LuaBrokenSyntax', { Stache.RerankerProvider })
local weight = = 2

return { Reranker }
