"""The category commands' decisions and specs: each is decided on the category stream alone."""

from domain.category._decider import KIND, CategoryState, decide
from domain.category._messages import ChangeCategory, CreateCategory, DeleteCategory
from domain.decision import Spec, on, own
from domain.events import StreamEvents


def create_category(state: CategoryState | None, command: CreateCategory) -> StreamEvents:
    return on(KIND, command.id_key, decide(state, command))


def change_category(state: CategoryState | None, command: ChangeCategory) -> StreamEvents:
    return on(KIND, command.id_key, decide(state, command))


def delete_category(state: CategoryState | None, command: DeleteCategory) -> StreamEvents:
    """409 while it has active products: the category stream knows them."""
    return on(KIND, command.id_key, decide(state, command))


SPECS: tuple[Spec, ...] = (
    own(KIND, CreateCategory, create_category),
    own(KIND, ChangeCategory, change_category),
    own(KIND, DeleteCategory, delete_category),
)
