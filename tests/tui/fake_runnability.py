"""Which versions run "here" for FakeClient: a machine described in memory, judged by the
backend's own rules (what each runtime lacks, how fits sum up)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from mcp_console.backend.deploy.plan import DOCKER, PROCESS, Recipe
from mcp_console.backend.deploy.pypi_release import python_fits
from mcp_console.backend.deploy.runnability import nothing_for, recipe_of, remote_fit
from mcp_console.schemas.catalog import ServiceDetail
from mcp_console.schemas.runnability import RuntimeFit, VersionRunnability
from mcp_console.schemas.version_source import PYTHON_PLACEHOLDER


@dataclass
class FakeMachine:
    """The machine the fake backend runs on: a Docker engine and the images on it, its
    Pythons and Node.js, and the ``Requires-Python`` of the PyPI releases it knows."""

    docker: bool = True
    images: set[str] = field(default_factory=set)
    pythons: tuple[str, ...] = ("3.11",)
    base_pythons: tuple[str, ...] = ("3.11", "3.13")
    node: str = "22.12.0"
    minimum_node: int = 20
    requires_python: dict[str, str] = field(default_factory=dict)
    # The programs on its PATH (a fixed list: the snapshots must not depend on this one's).
    programs: set[str] = field(
        default_factory=lambda: {"python", "python3", "node", "npx", "uvx", sys.executable}
    )

    def of_service(self, service: ServiceDetail) -> list[VersionRunnability]:
        """Each version of ``service`` with its fits, as the backend answers."""
        return [self.of(recipe_of(service.name, v)) for v in service.versions]

    def of(self, recipe: Recipe) -> VersionRunnability:
        fits = [self._docker(recipe), self._process(recipe)]
        if recipe.remotes:
            fits.append(remote_fit(recipe))
        requires = None
        package = recipe.pypi
        if package is not None and not recipe.docker_image:
            wanted = self.requires_python.get(str(package.get("identifier")))
            requires = f"Python {wanted}" if wanted else None
        elif recipe.npm is not None:
            requires = f"Node.js >={self.minimum_node}"
        return VersionRunnability.of(recipe.version, fits, requires)

    def _docker(self, recipe: Recipe) -> RuntimeFit:
        if not recipe.runs_on(DOCKER):
            return RuntimeFit(
                runtime=DOCKER, runs=False, note=nothing_for(recipe, DOCKER), offered=False
            )
        if not self.docker:
            return RuntimeFit(runtime=DOCKER, runs=False, note="no Docker engine answers")
        if recipe.docker_image:
            present = recipe.docker_image in self.images
            note = "" if present else "image not on the engine: will pull"
            return RuntimeFit(runtime=DOCKER, runs=True, note=note)
        if recipe.pypi is not None:
            wanted = self.requires_python.get(str(recipe.pypi.get("identifier")))
            python = next((p for p in self.base_pythons if python_fits(wanted, p)), None)
            if python is None:
                return RuntimeFit(runtime=DOCKER, runs=False, note=f"needs Python {wanted}")
            return RuntimeFit(
                runtime=DOCKER, runs=True, note=f"builds its image once, on Python {python}"
            )
        if recipe.npm is not None:
            note = "builds its image once, with the registry's Node.js"
            return RuntimeFit(runtime=DOCKER, runs=True, note=note)
        return RuntimeFit(runtime=DOCKER, runs=True)

    def _process(self, recipe: Recipe) -> RuntimeFit:
        if not recipe.runs_on(PROCESS):
            return RuntimeFit(
                runtime=PROCESS, runs=False, note=nothing_for(recipe, PROCESS), offered=False
            )
        if recipe.pypi is not None:
            wanted = self.requires_python.get(str(recipe.pypi.get("identifier")))
            chosen = next((p for p in self.pythons if python_fits(wanted, p)), None)
            if chosen is None:
                have = ", ".join(self.pythons)
                note = f"needs Python {wanted}; this machine has {have}"
                return RuntimeFit(runtime=PROCESS, runs=False, note=note)
            return RuntimeFit(runtime=PROCESS, runs=True, note=f"on Python {chosen}")
        if recipe.npm is not None:
            return RuntimeFit(runtime=PROCESS, runs=True, note=f"on Node.js {self.node}")
        program = recipe.command[0]
        if program != PYTHON_PLACEHOLDER and program not in self.programs:
            note = f"program {program} not found on this machine"
            return RuntimeFit(runtime=PROCESS, runs=False, note=note)
        return RuntimeFit(runtime=PROCESS, runs=True)
