"""cacwatch monitor: archive, parsers, state, change detection, reports and CLI."""
