"""Inbound event pushes from WeChat: the order placement event and the others sent to a provider.

:mod:`.crypto` and :mod:`.wire` import no Django (the sandbox uses them to play WeChat's side),
so this package's ``__init__`` imports nothing either.
"""
