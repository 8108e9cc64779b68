"""Identity sync: keeps the identity index (gateway/index) current from the providers.

A backfill lists each provider to the end, resumable from a cursor saved after every page
(:mod:`~gateway.sync.backfill`); then events lists are polled, other providers re-listed, and
webhook events applied (:mod:`~gateway.sync.incremental`). :class:`SyncRunner` runs it all, for
``customer-gateway sync`` and in the background of ``serve``; :class:`SyncStatus` says where
each provider stands (``/healthz``).
"""

from gateway.sync.incremental import apply_events
from gateway.sync.runner import SyncRunner
from gateway.sync.status import ProviderSyncStatus, SyncState, SyncStatus

__all__ = ["ProviderSyncStatus", "SyncRunner", "SyncState", "SyncStatus", "apply_events"]
