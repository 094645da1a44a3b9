"""The REST API (Django REST framework): waybills, their trace events and live contacts.

Mounted by :mod:`django_wxlogistics.urls` under ``api/``. Waybills are addressed by their
``waybill_id`` (the shop's natural key, the one WeChat knows), never by the database pk.
"""
