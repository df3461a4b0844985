"""Who may call a route: a bearer key of the route's scope (or admin); with --open, anyone may
search."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from seoga.serve.keys import ADMIN, SEARCH, StoredKey
from seoga.serve.service import Service

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
            raise HTTPException(
                status_code=401,
                detail="a valid key is needed: send `Authorization: Bearer KEY` "
                "(make one with `seoga keys create`).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not key.allows(scope):
            raise HTTPException(status_code=403, detail=f"this key may not do {scope} work.")
        return key

    return Depends(check)


SearchKey = scoped(SEARCH)
AdminKey = scoped(ADMIN)
