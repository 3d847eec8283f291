"""llmplane's program, offline engine and command line."""
