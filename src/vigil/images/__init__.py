"""Image intelligence: decoding, fetching, perceptual hashes and logo matching."""
