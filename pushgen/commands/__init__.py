"""The commands layer: printing, progress and exit codes, one module per command group."""
