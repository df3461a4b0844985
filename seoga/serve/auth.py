"""Who may call a route: a bearer key of the route's scope (or admin); with --open, anyone may
search. Who may post events is the server's `event_writers` setting."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from seoga.serve.keys import ADMIN, EVENTS, SEARCH, StoredKey
from seoga.serve.service import Service
from seoga.serve.settings import ANYONE

ADDRESS = "address:"  # the client name of requests without a key

bearer = HTTPBearer(auto_error=False, description="A key made by `seoga keys create`.")


def scoped(scope: str):
    """A dependency that lets a request through only with a key of `scope` (or admin); with
    --open, a request without any key may search."""

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> StoredKey | None:
        service: Service = request.app.state.service
        if credentials is None and scope == SEARCH and service.settings.open_search:
            return None
        key = service.keys.check(credentials.credentials if credentials else None)
        if key is None:
            raise unauthorized(
                "a valid key is needed: send `Authorization: Bearer KEY` "
                "(make one with `seoga keys create`)."
            )
        if not key.allows(scope):
            raise HTTPException(status_code=403, detail=f"this key may not do {scope} work.")
        return key

    return Depends(check)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def event_writer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The client posting events (a key id, or an address for a request without a key), if it
    may and is within its rate: checked before the body is validated, so a flood over its rate
    costs next to nothing. The rate is per key; requests without a key share one per address
    (a proxy in front makes it one)."""
    key = event_key(request, credentials)
    address = request.client.host if request.client else ""
    client = key.key_id if key else ADDRESS + address
    request.app.state.service.event_limiter.check(client)
    return client


def event_key(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> StoredKey | None:
    """Events train recommenders, so writing them is a scope of its own: keys of the events
    scope (or admin); search keys too with `--event-writers search`; requests without a key too
    with `--event-writers anyone` on an --open server. The refusal says which option allows it."""
    service: Service = request.app.state.service
    writers = service.settings.event_writers
    if credentials is None:
        if writers == ANYONE and service.settings.open_search:
            return None
        raise unauthorized(
            "posting events needs a key of the events scope (`seoga keys create --scope events`); "
            "an --open server started with --event-writers anyone takes them without one."
        )
    key = service.keys.check(credentials.credentials)
    if key is None:
        raise unauthorized(
            "a valid key is needed: send `Authorization: Bearer KEY` "
            "(make one with `seoga keys create --scope events`)."
        )
    if key.allows(EVENTS) or (writers != EVENTS and key.allows(SEARCH)):
        return key
    raise HTTPException(
        status_code=403,
        detail="this key may not post events: use a key of the events scope (`seoga keys create "
        "--scope events`), or start the server with --event-writers search to let search keys "
        "post them.",
    )


SearchKey = scoped(SEARCH)
AdminKey = scoped(ADMIN)
EventWriter = Depends(event_writer)
