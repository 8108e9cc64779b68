"""The identity index: the persistent graph of which records are one customer."""

from gateway.index.contract import (
    Applied,
    ChangeSource,
    CustomerFilter,
    CustomerOrder,
    IdentityIndex,
    IndexedCustomer,
    IndexPage,
    IndexStats,
    InvalidIndexCursor,
    OrderField,
    PageQuery,
    RecordChange,
    SyncCursor,
)
from gateway.index.engine import INDEX_ERRORS, IndexUnavailable, data_dir, index_url, safe_url
from gateway.index.factory import open_configured_index, open_index
from gateway.index.migrate import head_revision, upgrade, upgrade_to_head
from gateway.index.store import SQLIndex

__all__ = [
    "INDEX_ERRORS",
    "Applied",
    "ChangeSource",
    "CustomerFilter",
    "CustomerOrder",
    "IdentityIndex",
    "IndexPage",
    "IndexStats",
    "IndexUnavailable",
    "IndexedCustomer",
    "InvalidIndexCursor",
    "OrderField",
    "PageQuery",
    "RecordChange",
    "SQLIndex",
    "SyncCursor",
    "data_dir",
    "head_revision",
    "index_url",
    "open_configured_index",
    "open_index",
    "safe_url",
    "upgrade",
    "upgrade_to_head",
]
