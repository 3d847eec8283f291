"""The `llmplane` command: its entry point, subcommands, reports and terminal output."""

__all__: list[str] = []
