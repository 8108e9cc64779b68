"""Writes through the gateway, the I/O-free parts: input validation, per-provider write plans,
outcomes and the idempotency replay store. The GraphQL layer (``resolvers/writes.py``) runs them.
"""
