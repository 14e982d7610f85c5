"""What the entities' request bodies and list filters share: the base body and the field types.

Field names are the domain commands' own, so a body turns into its command generically. The
constraints give clients FastAPI's 422 field errors early; the deciders check again and never
trust them. Unknown fields are ignored, as the original API did.

(The models carry no docstrings: a model's docstring becomes its description in the OpenAPI
document.)
"""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Ids travel as JSON numbers: beyond 2**53, clients lose precision. Upper bounds keep numbers
# inside what PostgreSQL and the documents can hold.
ID_MAX = 2**53
Id = Annotated[int, Field(ge=1, le=ID_MAX)]
Money = Annotated[Decimal, Field(ge=0, le=10**12, max_digits=18, decimal_places=2)]
Price = Annotated[Decimal, Field(gt=0, le=10**12, max_digits=18)]
Quantity = Annotated[int, Field(gt=0, le=10**9)]
Stock = Annotated[int, Field(ge=0, le=2**31 - 1)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    id_key: int | None = Field(
        default=None, description="Ignored when equal to the path id; a different one is a 422."
    )
