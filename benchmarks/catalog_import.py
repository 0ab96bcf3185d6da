"""Time importing both shared catalogs into a fresh database (target: under 3 s)."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from mcp_console.backend.catalog.formats import read_catalog_path
from mcp_console.backend.runtime import Runtime
from mcp_console.settings import Settings

TARGET_SECONDS = 3.0
DEFAULT_CATALOGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "catalogs"


async def run_once(catalogs: Path, database_url: str | None) -> tuple[float, float, int, int]:
    """Import both catalogs once; returns (read s, import s, created, problems)."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url=database_url)
        async with Runtime(settings) as runtime:
            assert runtime.local_admin is not None
            started = time.perf_counter()
            documents = read_catalog_path(catalogs / "docker-mcp-registry" / "servers")
            documents += read_catalog_path(catalogs / "official-registry")
            read = time.perf_counter() - started
            report = await runtime.catalog.import_documents(runtime.local_admin, documents)
            total = time.perf_counter() - started
    return read, total, len(report.created), len(report.problems)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalogs", type=Path, default=DEFAULT_CATALOGS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()
    figures = [asyncio.run(run_once(args.catalogs, args.database_url)) for _ in range(args.runs)]
    totals = sorted(f[1] for f in figures)
    _, _, created, problems = figures[-1]
    print(f"entries imported: {created}, reported problems: {problems}")
    for index, (read, total, _, _) in enumerate(figures, 1):
        print(f"run {index}: read+parse {read:.2f} s, read+parse+import {total:.2f} s")
    median = totals[len(totals) // 2]
    verdict = "met" if median < TARGET_SECONDS else "missed"
    print(f"median {median:.2f} s   target < {TARGET_SECONDS:.1f} s   {verdict}")


if __name__ == "__main__":
    main()
