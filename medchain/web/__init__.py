"""Consumer drug verification page (FastAPI, server-rendered, read-only). See `medchain.web.app`."""

from medchain.web.app import Lookup, create_app

__all__ = ["Lookup", "create_app"]
