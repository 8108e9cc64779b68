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

__all__ = [
    "Applied",
    "ChangeSource",
    "CustomerFilter",
    "CustomerOrder",
    "IdentityIndex",
    "IndexPage",
    "IndexStats",
    "IndexedCustomer",
    "InvalidIndexCursor",
    "OrderField",
    "PageQuery",
    "RecordChange",
    "SyncCursor",
]
