"""Serve the replica from the command line: ``python -m crawler.replica --date …``."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from datetime import date

from crawler.replica.server import serve

__all__ = ["main", "serve"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.replica",
        description="Serve a local replica of www.cac.gov.cn as of a date.",
    )
    parser.add_argument(
        "--date",
        required=True,
        type=date.fromisoformat,
        help="the day the site is shown as of (YYYY-MM-DD)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8000, help="port (0: any free)")
    parser.add_argument(
        "--beian-port",
        type=int,
        default=0,
        help="port of the beian.cac.gov.cn replica (0: any free; it is logged)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    serve(
        args.date,
        args.host,
        args.port,
        on_ready=lambda url: print(url, flush=True),
        beian_port=args.beian_port,
    )


if __name__ == "__main__":
    main()
