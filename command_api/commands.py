"""A request to its command, the same way for every entity of the catalogue: the body's fields
are the command's own (`domain.entity.Entity` names the command types), so no entity needs a
line of its own here."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from domain.decision import Command
from domain.entity import Entity


def create_command(entity: Entity, id_key: int, body: BaseModel, now: dt.datetime) -> Command:
    fields = body.model_dump(exclude={"id_key", *entity.ignored})
    command: Command = entity.create(id_key=id_key, **entity.fill(fields, now))
    return command


def change_command(entity: Entity, id_key: int, body: BaseModel) -> Command:
    """A PUT is partial: only the fields the client sent go on the command."""
    sent = body.model_fields_set - {"id_key", *entity.ignored}
    command: Command = entity.change(
        id_key=id_key,
        body_id_key=getattr(body, "id_key", None),
        **{name: getattr(body, name) for name in sent},
    )
    return command


def delete_command(entity: Entity, id_key: int) -> Command:
    command: Command = entity.delete(id_key=id_key)
    return command
