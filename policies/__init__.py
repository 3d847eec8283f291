"""llmplane's CrossGuard policy pack and its offline runner (rules arrive with the policy issue)."""
