"""Keep a Django shop's customers up to date on WeChat: waybill traces and contacts."""

__version__ = "0.1.0"
