# A plugin whose module does not parse: line 5 has an unclosed call.
from gi.repository import Stache


VECTOR = list(range(4)
