"""All five simulators built from one dataset, served together on loopback ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from gateway.config import ProviderSettings
from gateway.providers.registry import SPECS
from gateway.sandbox.base import simulator_state
from gateway.sandbox.dataset import Dataset
from gateway.sandbox.faults import Faults
from gateway.sandbox.runner import LoopbackServer


@dataclass
class SandboxCluster:
    apps: dict[str, Starlette]
    keys: dict[str, str]
    servers: dict[str, LoopbackServer] = field(default_factory=dict)

    @classmethod
    def from_dataset(
        cls, dataset: Dataset, keys: Mapping[str, str] | None = None
    ) -> SandboxCluster:
        """One app per provider; a record a simulator refuses is a :class:`DatasetError`."""
        chosen = {s.name: (keys or {}).get(s.name) or s.sandbox_key for s in SPECS}
        dataset.check()  # a no-op for a file load_dataset already checked
        apps = {
            s.name: s.simulator.create_app(dataset.for_provider(s.name), api_key=chosen[s.name])
            for s in SPECS
        }
        return cls(apps=apps, keys=chosen)

    async def start(self, host: str = "127.0.0.1", base_port: int | None = None) -> None:
        """Serve every simulator; ``base_port`` 0 picks free ports, ``None`` the default ports."""
        for index, spec in enumerate(SPECS):
            if base_port is None:
                port = spec.sandbox_port
            else:
                port = 0 if base_port == 0 else base_port + index
            server = LoopbackServer(self.apps[spec.name], host=host, port=port)
            await server.start()
            self.servers[spec.name] = server

    async def stop(self) -> None:
        for server in self.servers.values():
            await server.stop()
        self.servers.clear()

    def set_faults(self, faults: Mapping[str, Mapping[str, Any]]) -> None:
        """Start-up faults, ``{provider: {Faults field: value}}``, as the admin route takes them."""
        for name, spec in faults.items():
            if name not in self.apps:
                raise ValueError(f"unknown provider {name!r} in faults")
            state = simulator_state(self.apps[name])
            state.set_faults(Faults.from_json(dict(spec), state.faults))

    def provider_settings(self) -> dict[str, ProviderSettings]:
        """Settings pointing adapters at the running simulators."""
        return {
            name: ProviderSettings(name=name, base_url=server.url, api_key=self.keys[name])
            for name, server in self.servers.items()
        }
