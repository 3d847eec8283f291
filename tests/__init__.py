"""llmplane's tests."""
