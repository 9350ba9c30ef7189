"""The `vigil` command line: one command group per module, all calling services."""
