"""Tests of the CrossGuard policy pack: its rules, the offline runner and the pack server."""
