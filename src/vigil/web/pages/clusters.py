"""A copy-paste cluster's page: its size, sellers and sample text, and the listings of it the
visitor may see, each linked to its own page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigil.domain.people import Actor, Role
from vigil.services import clusters as service
from vigil.web.deps import StoreDep
from vigil.web.errors import NotFoundError
from vigil.web.security import require
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Actor, require(Role.VIEWER)]


@router.get("/clusters/{cluster_key}", name="cluster_page")
def cluster_page(request: Request, cluster_key: str, actor: Reader, store: StoreDep) -> Response:
    """The newest scan's cluster with this key, as the visitor may see it."""
    try:
        cluster = service.copy_paste_cluster(store, actor, cluster_key)
    except service.ClusterNotFound as error:
        raise NotFoundError(str(error)) from None
    return render(request, "clusters/cluster.html", {"cluster": cluster})
