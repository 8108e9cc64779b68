"""Lago: spec, adapter, simulator and GraphQL record type."""

from gateway.providers.lago.adapter import LagoAdapter
from gateway.providers.lago.spec import SPEC

__all__ = ["SPEC", "LagoAdapter"]
