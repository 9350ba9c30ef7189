"""Annotated dependencies handlers declare: the store, the settings, the scan runner."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

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


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
