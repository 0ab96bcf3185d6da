"""The bases of every DTO: validators built when first used, or at import for request bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Dto(BaseModel):
    """A DTO of the protocol, the API or the CLI.

    Pydantic builds each model's validator when its class is defined; every DTO loads with the
    client protocol, before the console's first frame, where most are not used for a while
    (some never, in a given run). Deferred, each is built the first time it validates,
    serialises or gives its JSON Schema.
    """

    model_config = ConfigDict(defer_build=True)


class RequestBody(Dto):
    """A DTO the API takes as a request body: built when its class is defined.

    FastAPI wraps a body parameter's model in a field named after the parameter; with a
    deferred model pydantic then warns, on the first request and in the OpenAPI document,
    that the field's alias has no effect (the document and the validation are the same).
    """

    model_config = ConfigDict(defer_build=False)
