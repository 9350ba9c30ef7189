"""Tamper-evident evidence: the Merkle transparency log, its signed tree heads and proofs."""
