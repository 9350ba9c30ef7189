"""The JSON API under /api/v1: one module per part of the platform (joined in vigil.web.routes)."""
