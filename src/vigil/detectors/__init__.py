"""Detectors: pure matchers compiled from a registry snapshot (see base.py for the contract)."""
