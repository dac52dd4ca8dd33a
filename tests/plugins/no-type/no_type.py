# Imports fine, but defines no class implementing Stache.VectorDbProvider.
from gi.repository import GObject


class NotAProvider(GObject.Object):
    pass
