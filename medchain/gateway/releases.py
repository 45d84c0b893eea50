"""The gateway's release log moved to :mod:`medchain.store.releases` (the store owns every table); the name
stays importable from here."""

from medchain.store.releases import ReleaseLog

__all__ = ["ReleaseLog"]
