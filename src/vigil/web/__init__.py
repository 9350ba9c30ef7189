"""The web platform: a JSON API under /api/v1 and server-rendered pages, in Chinese and English."""
