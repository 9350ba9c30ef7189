"""Factories for test data: registries, listings and feeds, built from a few keywords."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import orjson
import yaml

_ids = itertools.count(1)


def listing(**fields: Any) -> dict[str, Any]:
    """A valid listing record (JSON form); keyword arguments override or add fields."""
    record: dict[str, Any] = {
        "platform": "taobao",
        "listing_id": f"L{next(_ids)}",
        "title": "小米14 Ultra 16+512G 官方正品",
        "price": 6499.0,
        "currency": "CNY",
        "condition": "new",
        "seller": {"id": "shop-1", "name": "数码小铺"},
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def registry_data(**sections: Any) -> dict[str, Any]:
    """A small registry: one owner, Xiaomi and Apple with a few products."""
    data: dict[str, Any] = {
        "members": [
            {"id": "xiaomi", "name": "Xiaomi Inc.", "kind": "brand_owner"},
            {"id": "apple", "name": "Apple Inc.", "kind": "brand_owner"},
        ],
        "brands": [
            {
                "name": "Xiaomi",
                "owner": "xiaomi",
                "aliases": ["小米", "MI"],
                "categories": ["phones"],
                "common_word": True,
                "authorized_sellers": [{"platform": "jd", "seller_id": "小米官方旗舰店"}],
            },
            {
                "name": "Apple",
                "owner": "apple",
                "aliases": ["苹果"],
                "categories": ["phones"],
                "common_word": True,
                "authorized_sellers": [{"platform": "tmall", "seller_id": "Apple Store 官方旗舰店"}],
            },
        ],
        "products": [
            {"brand": "Xiaomi", "model": "Xiaomi 14 Ultra", "aliases": ["小米14 Ultra"],
             "category": "phones", "msrp": {"amount": 6499, "currency": "CNY"}},
            {"brand": "Xiaomi", "model": "Xiaomi 14", "aliases": ["小米14"],
             "category": "phones", "msrp": {"amount": 3999, "currency": "CNY"}},
            {"brand": "Apple", "model": "iPhone 15", "aliases": [],
             "category": "phones", "msrp": {"amount": 799, "currency": "USD"}},
        ],
    }  # fmt: skip
    data.update(sections)
    return data


def write_registry(path: Path, data: dict[str, Any] | None = None) -> Path:
    path.write_text(yaml.safe_dump(data or registry_data(), allow_unicode=True), encoding="utf-8")
    return path


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
