"""The `orders` command: one entry point for operators, developers and the deployment.

Each subcommand imports the service it runs when it runs (the `# noqa: PLC0415` below): all of
them at once would cost every `orders` call over a second before it does anything. Commands of
the development tools (`orders bench`, `loadtest`, `soak`) are not named here: `loadtest`
declares them in the `orders.commands` entry-point group, and they are loaded only when one of
them is run, so a production install without `loadtest` never imports it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from launch.plugins import load, plugins
from launch.secrets import use_kept
from orders.embedded import Endpoints, ensure_servers, stop_embedded
from orders.logs import setup_logging
from orders.settings import Settings

log = logging.getLogger("launch.cli")


class CommandError(Exception):
    """A failure worth one clear line and a non-zero exit, not a traceback."""


def _servers(settings: Settings) -> Endpoints:
    return ensure_servers(settings)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    import migrations  # noqa: PLC0415 - see the module docstring

    endpoints = _servers(settings)
    if args.revision.startswith("-") or args.down:
        migrations.downgrade(endpoints.database_url, args.revision)
    else:
        migrations.upgrade(endpoints.database_url, args.revision)
    log.info("migrated to %s", args.revision)
    return 0


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from launch.up import run_platform  # noqa: PLC0415 - see the module docstring

    return run_platform(settings, args)


def cmd_command_api(args: argparse.Namespace, settings: Settings) -> int:
    return _serve("command_app", args, settings.command_port, settings.command_workers, settings)


def cmd_query_api(args: argparse.Namespace, settings: Settings) -> int:
    return _serve("query_app", args, settings.query_port, settings.query_workers, settings)


def _serve(
    factory: str, args: argparse.Namespace, port: int, workers: int | None, settings: Settings
) -> int:
    from launch.serve import serve  # noqa: PLC0415 - see the module docstring

    serve(
        f"launch.serve:{factory}",
        host=args.host,
        port=args.port or port,
        workers=args.workers or workers or settings.uvicorn_workers,
        log_level=settings.log_level,
    )
    return 0


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    from launch.demo import load_demo  # noqa: PLC0415 - see the module docstring
    from orders.store import open_sealed_store  # noqa: PLC0415 - see the module docstring
    from orders.vault import master_key  # noqa: PLC0415 - see the module docstring
    from orders.wakeup import Waker  # noqa: PLC0415 - see the module docstring

    endpoints = _servers(settings)

    async def load() -> dict[str, int]:
        store, vault = await open_sealed_store(
            endpoints.database_url, master=master_key(settings), max_size=20,
            application_name="demo-data",
        )  # fmt: skip
        try:
            counts = await load_demo(
                store, vault, clients=args.clients, products=args.products,
                orders=args.orders, seed=args.seed,
            )  # fmt: skip
        finally:
            await store.close()
        waker = Waker(endpoints.queue_url)
        await waker.wake()
        await waker.close()
        return counts

    counts = asyncio.run(load())
    print(", ".join(f"{n:,} {name}" for name, n in counts.items()))  # noqa: T201
    return 0


def cmd_servers_stop(_args: argparse.Namespace, settings: Settings) -> int:
    stop_embedded(settings.data_dir)
    log.info("embedded servers in %s stopped", settings.data_dir)
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from eventstore import EventStore  # noqa: PLC0415 - see the module docstring

    if args.public_keys and not args.checkpoints:
        raise CommandError(
            "--public-key checks signed checkpoints: name them with --checkpoints DIR"
        )
    if args.checkpoints:
        from orders.signed_checkpoints import audit  # noqa: PLC0415 - see the module docstring

        url = _servers(settings).database_url
        keys = args.public_keys or []
        return _checkpoints(lambda: audit.run(url, args.checkpoints, keys, args.first, args.last))

    async def verify() -> int:
        endpoints = _servers(settings)
        async with await EventStore.open(endpoints.database_url) as store:
            await store.sequence()
            report = await store.verify(args.first, args.last)
        if report.ok:
            print(f"ok: {report.checked} feed positions verified")  # noqa: T201
            return 0
        print(  # noqa: T201
            f"BROKEN at feed position {report.first_bad_position}: {report.problem}"
            f" ({report.checked} positions verified before it)"
        )
        return 1

    return asyncio.run(verify())


def cmd_checkpoints_sign(args: argparse.Namespace, settings: Settings) -> int:
    from orders.signed_checkpoints import signer  # noqa: PLC0415 - see the module docstring

    return _checkpoints(lambda: signer.run(settings, once=args.once))


def cmd_checkpoints_new_key(_args: argparse.Namespace, _settings: Settings) -> int:
    from orders.signed_checkpoints import signing  # noqa: PLC0415 - see the module docstring

    key = signing.new_signing_key()
    public = signing.SigningKey.from_hex(key).public
    print(f"# the auditors' public key (`--public-key FILE`): {public.model_dump_json()}")  # noqa: T201
    print(f"ORDERS_CHECKPOINT_KEY={key}")  # noqa: T201
    return 0


def _checkpoints(run: Callable[[], int]) -> int:
    from orders.signed_checkpoints import CheckpointsError  # noqa: PLC0415 - see the module docstring

    try:
        return run()
    except CheckpointsError as e:
        raise CommandError(str(e)) from e


def cmd_personal(args: argparse.Namespace, settings: Settings) -> int:
    """`orders erase ...`, `orders keys ...`, `orders store copy` (launch/personal.py)."""
    from launch import personal  # noqa: PLC0415 - see the module docstring

    try:
        handler: Callable[[argparse.Namespace, Settings], int] = getattr(personal, args.run)
        return handler(args, settings)
    except personal.PersonalDataError as e:
        raise CommandError(str(e)) from e


def _add_personal(add: Callable[..., argparse.ArgumentParser]) -> None:
    erasing = add("erase", lambda *_: 0, "erase a person's data (GDPR art. 17)")
    erase_sub = erasing.add_subparsers(dest="action", required=True, metavar="ACTION")
    client = erase_sub.add_parser("client", help="erase a client's personal data")
    client.add_argument("client_id", type=int)
    again = "destroy the keys of every registered erasure again (after restoring a backup)"
    for parser, run in (
        (client, "erase"),
        (erase_sub.add_parser("reapply", help=again), "reapply"),
    ):
        parser.set_defaults(handler=cmd_personal, run=run)
    keys = add("keys", lambda *_: 0, "the master key of personal data")
    keys_sub = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, run, help_ in (
        ("new-master", "new_master", "print a new master key (ORDERS_MASTER_KEY)"),
        ("rewrap", "rewrap", "wrap every data key with ORDERS_MASTER_KEY, from the previous one"),
    ):
        keys_sub.add_parser(name, help=help_).set_defaults(handler=cmd_personal, run=run)
    store = add("store", lambda *_: 0, "the event store as a whole")
    store_sub = store.add_subparsers(dest="action", required=True, metavar="ACTION")
    copy = store_sub.add_parser(
        "copy", help="copy the store into a new database, every personal value sealed"
    )
    copy.add_argument("--to", required=True, metavar="DATABASE_URL", help="the new database")
    copy.set_defaults(handler=cmd_personal, run="copy")


def _add_checkpoints(verify: argparse.ArgumentParser, add: Callable[..., Any]) -> None:
    """`audit verify --checkpoints DIR --public-key FILE`, `checkpoints sign | new-key`."""
    verify.add_argument("--checkpoints", action="append", type=Path, metavar="DIR",
                        help="also check the chain against the signed checkpoints in DIR"
                        " (repeatable: the sink and custodians' copies)")  # fmt: skip
    verify.add_argument("--public-key", dest="public_keys", action="append", type=Path,
                        metavar="FILE", help="a key the checkpoints may be signed with"
                        " (repeatable: rotated keys)")  # fmt: skip
    actions = add("checkpoints", lambda *_: 0, "signed checkpoints of the feed's head")
    sub = actions.add_subparsers(dest="action", required=True, metavar="ACTION")
    sign = sub.add_parser("sign", help="sign the feed head every N seconds or M events")
    sign.add_argument("--once", action="store_true", help="sign the head now if it moved, and stop")
    sign.set_defaults(handler=cmd_checkpoints_sign)
    new_key = sub.add_parser("new-key", help="print a fresh ORDERS_CHECKPOINT_KEY")
    new_key.set_defaults(handler=cmd_checkpoints_new_key)


def cmd_projector(args: argparse.Namespace, settings: Settings) -> int:
    from projector.commands import run_projector  # noqa: PLC0415 - see the module docstring

    return run_projector(settings, burst=args.burst)


def cmd_projections_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from projector.commands import run_rebuild  # noqa: PLC0415 - see the module docstring

    return run_rebuild(settings, args.names)


def cmd_projections_status(_args: argparse.Namespace, settings: Settings) -> int:
    from projector.commands import run_status  # noqa: PLC0415 - see the module docstring

    return run_status(settings)


def build_parser(wanted: str | None = None) -> argparse.ArgumentParser:
    """The parser; of the commands other packages add, only `wanted` (the one being run) is
    loaded, the others are listed by name."""
    parser = argparse.ArgumentParser(prog="orders", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[..., int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    migrate = add("migrate", cmd_migrate, "upgrade the schema to head (or to a revision)")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.add_argument("--down", action="store_true", help="downgrade to the revision")

    add("up", cmd_up, "run the whole platform until Ctrl-C (what `make run` calls)")

    command_api = add("command-api", cmd_command_api, "serve the command API (writes)")
    command_api.add_argument("--host", default="127.0.0.1")
    command_api.add_argument("--port", type=int, default=None, help="default ORDERS_COMMAND_PORT")
    command_api.add_argument("--workers", type=int, default=None, help="worker processes")

    query_api = add("query-api", cmd_query_api, "serve the query API (reads, audit)")
    query_api.add_argument("--host", default="127.0.0.1")
    query_api.add_argument("--port", type=int, default=None, help="default ORDERS_QUERY_PORT")
    query_api.add_argument("--workers", type=int, default=None, help="worker processes")

    demo = add("demo-data", cmd_demo_data, "load a realistic shop through the command path")
    demo.add_argument("--clients", type=int, default=200)
    demo.add_argument("--products", type=int, default=100)
    demo.add_argument("--orders", type=int, default=300)
    demo.add_argument("--seed", type=int, default=7)

    servers = add("servers", lambda *_: 0, "manage the embedded PostgreSQL and Redis")
    servers_sub = servers.add_subparsers(dest="action", required=True, metavar="ACTION")
    stop = servers_sub.add_parser("stop", help="stop the embedded servers of the data folder")
    stop.set_defaults(handler=cmd_servers_stop)

    audit = add("audit", lambda *_: 0, "auditors' checks over the event store")
    audit_sub = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="verify the feed's hash chain (exit 1 if broken)")
    verify.add_argument("--from", dest="first", type=int, default=1, help="first feed position")
    verify.add_argument("--to", dest="last", type=int, default=None, help="last feed position")
    verify.set_defaults(handler=cmd_audit_verify)
    _add_checkpoints(verify, add)
    _add_personal(add)

    projector = add("projector", cmd_projector, "run a projector: RQ worker and periodic sweep")
    projector.add_argument("--burst", action="store_true", help="stop when the queue is empty")

    projections = add("projections", lambda *_: 0, "operate the read models' projections")
    projections_sub = projections.add_subparsers(dest="action", required=True, metavar="ACTION")
    rebuild = projections_sub.add_parser(
        "rebuild", help="rebuild projections (all if none named) beside the live ones, then switch"
    )
    rebuild.add_argument("names", nargs="*", metavar="NAME")
    rebuild.set_defaults(handler=cmd_projections_rebuild)
    status = projections_sub.add_parser("status", help="checkpoints, lag and stalls per projection")
    status.set_defaults(handler=cmd_projections_status)

    for name, entry in plugins().items():
        if name == wanted:
            command = load(entry)
            command.arguments(add(name, command.run, command.help))
        else:
            sub.add_parser(name, help=f"development tool (`orders {name} --help`)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    wanted = next((arg for arg in given if not arg.startswith("-")), None)
    args = build_parser(wanted).parse_args(given)
    settings = use_kept(Settings())
    setup_logging("orders", settings.log_level, settings.log_format)
    try:
        return int(args.handler(args, settings))
    except CommandError as e:
        print(f"orders: {e}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        log.debug("command failed", exc_info=True)
        print(f"orders: {type(e).__name__}: {e}", file=sys.stderr)  # noqa: T201
        return 1


if __name__ == "__main__":
    sys.exit(main())
