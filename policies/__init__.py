"""llmplane's CrossGuard policy pack: its rules, the builder a pack embeds, the offline runner."""
