"""Copy-paste clusters over the API: the newest scan's cluster with a key (a `copy_paste_cluster`
signal's `details.cluster`), with the member listings you may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from vigil.domain.people import Actor, Role
from vigil.services import clusters as service
from vigil.web.deps import StoreDep
from vigil.web.errors import NotFoundError
from vigil.web.security import require

router = APIRouter()

Reader = Annotated[Actor, require(Role.VIEWER)]


@router.get(
    "/clusters/{cluster_key}",
    response_model=service.CopyPasteCluster,
    responses={404: {"description": "No scan found this cluster, or you may see none of it."}},
)
def get_cluster(cluster_key: str, actor: Reader, store: StoreDep) -> service.CopyPasteCluster:
    """A copy-paste cluster: near-identical descriptions posted by several sellers, as the
    newest scan that found it saw them. The operator sees every listing of it; a member sees
    the listings it may see (`members`), and how many others there are (`hidden_listings`)."""
    try:
        return service.copy_paste_cluster(store, actor, cluster_key)
    except service.ClusterNotFound as error:
        raise NotFoundError(str(error)) from None
