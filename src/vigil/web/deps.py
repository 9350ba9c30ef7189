"""Annotated dependencies handlers declare: the store, the settings, the scan runner, where
images and works' files are kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from vigil.services.media import MediaPlaces
from vigil.services.registry_works import WorkPlaces
from vigil.settings import Settings
from vigil.store.db import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_scan_runner(request: Request) -> Any:
    return request.app.state.scan_runner


def get_media(request: Request) -> MediaPlaces:
    """Where the installation keeps images, read from its scan configuration once."""
    places: MediaPlaces | None = getattr(request.app.state, "media", None)
    if places is None:
        places = MediaPlaces.for_home(get_settings(request).home)
        request.app.state.media = places
    return places


def get_work_places(request: Request) -> WorkPlaces:
    """Where the installation keeps works' files, read from its scan configuration once."""
    places: WorkPlaces | None = getattr(request.app.state, "work_places", None)
    if places is None:
        places = WorkPlaces.for_home(get_settings(request).home)
        request.app.state.work_places = places
    return places


StoreDep = Annotated[Store, Depends(get_store)]
MediaDep = Annotated[MediaPlaces, Depends(get_media)]
WorkPlacesDep = Annotated[WorkPlaces, Depends(get_work_places)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
