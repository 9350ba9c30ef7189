"""Plain models of the domain. Nothing here does I/O or imports the rest of the package."""
