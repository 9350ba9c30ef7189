"""Server-rendered pages for people, one module per part of the site (see vigil.web.routes)."""
