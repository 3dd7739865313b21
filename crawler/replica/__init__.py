"""A local replica of the CAC site, serving the real published attachments."""

from crawler.replica.server import LoggedRequest, Replica, serve

__all__ = ["LoggedRequest", "Replica", "serve"]
