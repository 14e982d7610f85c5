"""The baseline for the query API: a trivial FastAPI JSON endpoint, served by the same server
with the same settings (`python -m loadtest.trivial --port P --workers N`)."""

from __future__ import annotations

import argparse

from fastapi import FastAPI

from launch.serve import run_server


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, object]:
        return {"id_key": 1, "name": "trivial", "price": 9.99, "stock": 10, "active": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # the APIs' own server and settings (launch.serve)
    run_server(
        "loadtest.trivial:create_app",
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="WARNING",
    )


if __name__ == "__main__":
    main()
