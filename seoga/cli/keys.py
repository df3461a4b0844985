"""`seoga keys`: make, list and revoke the keys of `seoga serve`."""

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seoga.cli.options import CollectionOption, JsonOption
from seoga.cli.output import console, error_console, print_json
from seoga.index.manifest import read_manifest
from seoga.serve.keys import SCOPES, SEARCH, KeyStore

keys_app = typer.Typer(help="Keys for `seoga serve`: make, list and revoke them.")


@keys_app.command("create")
def create_key(
    collection: CollectionOption,
    scope: Annotated[str, typer.Option(help=f"One of {', '.join(SCOPES)}.")] = SEARCH,
    name: Annotated[str, typer.Option(help="A note on who holds it.")] = "",
) -> None:
    """Make a key; it is printed once, alone on stdout, and only its digest is stored."""
    read_manifest(collection)
    key, stored = KeyStore(collection).create(scope, name)
    print(key)
    error_console.print(
        f"key {stored.key_id} ({stored.scope}) stored as a digest in {collection}; "
        "copy it now, it is not shown again.",
        highlight=False,
    )


@keys_app.command("list")
def list_keys(collection: CollectionOption, as_json: JsonOption = False) -> None:
    """The keys of a collection: id, scope, name, created (never the keys themselves)."""
    read_manifest(collection)
    keys = KeyStore(collection).listed()
    if as_json:
        print_json(
            [{"id": k.key_id, "scope": k.scope, "name": k.name, "created": k.created} for k in keys]
        )
        return
    table = Table("id", "scope", "name", "created")
    for key in keys:
        table.add_row(key.key_id, key.scope, escape(key.name), key.created)
    console.print(table)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The id `seoga keys list` shows.")],
    collection: CollectionOption,
) -> None:
    """Revoke a key; a running server refuses it from its next request on."""
    read_manifest(collection)
    revoked = KeyStore(collection).revoke(key_id)
    console.print(f"revoked {revoked.key_id} ({revoked.scope})", highlight=False)


def register(parent: typer.Typer) -> None:
    parent.add_typer(keys_app, name="keys")
