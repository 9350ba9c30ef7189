"""Use cases. The CLI and the web call these; they are the only writers to the store."""
