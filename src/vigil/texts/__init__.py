"""Text intelligence: reading registered works, shingling, containment search over works and
near-duplicate clusters of listing descriptions (see docs/texts.md)."""
