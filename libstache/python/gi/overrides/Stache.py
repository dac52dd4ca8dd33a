# Stache.py: PyGObject overrides for Stache
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# PyGObject (3.42) turns a GLib.Error raised in a Python implementation of
# a virtual method into the caller's GError, but prints any other exception
# as a traceback and returns an empty value, so a failing plugin looks like
# one that found nothing. These overrides make every exception a GError:
# each do_* method of a class derived from Stache.Provider is wrapped so
# that an exception that is not a GLib.Error is raised again as
# STACHE_ERROR_FAILED with the class, the method and the Python message,
# such as "MyEmbeddings.do_embed_batch: ValueError: dimension must be > 0".

import functools

from gi.repository import GLib

from ..module import get_introspection_module
from ..overrides import override

Stache = get_introspection_module('Stache')

__all__ = []


def _raise_as_gerror(owner, name, method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except GLib.Error:
            raise
        except Exception as error:  # noqa: BLE001 - every failure must reach C
            message = '%s.%s: %s: %s' % (owner, name, type(error).__name__, error)
            raise GLib.Error.new_literal(Stache.error_quark(), message,
                                         Stache.Error.FAILED) from error
    wrapper._stache_wrapped = True
    return wrapper


class Provider(Stache.Provider):
    """Base of every provider; see Stache.Provider in the C reference."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name.startswith('do_') and callable(value) and \
                    not getattr(value, '_stache_wrapped', False):
                setattr(cls, name, _raise_as_gerror(cls.__name__, name, value))


Provider = override(Provider)
__all__.append('Provider')
