"""ChartMogul: spec, adapter, simulator and GraphQL record type."""

from gateway.providers.chartmogul.adapter import ChartMogulAdapter
from gateway.providers.chartmogul.spec import SPEC

__all__ = ["SPEC", "ChartMogulAdapter"]
