"""Every router of the app, joined: the API under /api/v1 and the pages at the root."""

from __future__ import annotations

from fastapi import APIRouter

from vigil.web.api import (
    accounts,
    assessments,
    audit,
    cases,
    clusters,
    dashboard,
    evidence,
    listings,
    notices,
    registry,
    registry_images,
    registry_works,
    scans,
    transparency,
)
from vigil.web.pages import admin, auth, review
from vigil.web.pages import audit as audit_page
from vigil.web.pages import cases as cases_page
from vigil.web.pages import clusters as clusters_page
from vigil.web.pages import dashboard as dashboard_page
from vigil.web.pages import keys as keys_page
from vigil.web.pages import notices as notices_page
from vigil.web.pages import registry as registry_page
from vigil.web.pages import registry_images as registry_images_page
from vigil.web.pages import registry_works as registry_works_page
from vigil.web.pages import scans as scans_page

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(accounts.router, tags=["members, users and keys"])
api_router.include_router(audit.router, tags=["audit"])
api_router.include_router(registry.router, tags=["registry"])
api_router.include_router(registry_images.router, tags=["registry"])
api_router.include_router(registry_works.router, tags=["registry"])
api_router.include_router(listings.router, tags=["listings"])
api_router.include_router(scans.router, tags=["scans"])
api_router.include_router(assessments.router, tags=["assessments"])
api_router.include_router(clusters.router, tags=["assessments"])
api_router.include_router(dashboard.router, tags=["dashboard"])
api_router.include_router(cases.router, tags=["cases"])
api_router.include_router(evidence.router, tags=["cases"])
# Before anything else under /notices: it declares /notices/stats ahead of /notices/{notice_id}.
api_router.include_router(notices.router, tags=["notices"])
api_router.include_router(transparency.router, tags=["transparency"])

pages_router = APIRouter(include_in_schema=False)
for module in (
    auth,
    dashboard_page,
    review,
    cases_page,
    notices_page,
    clusters_page,
    registry_page,
    registry_images_page,
    registry_works_page,
    scans_page,
    admin,
    keys_page,
    audit_page,
):
    pages_router.include_router(module.router)
