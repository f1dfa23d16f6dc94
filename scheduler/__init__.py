"""Continuous listening: scheduled crawls, answer re-checks, SLA clocks, spikes and alerts."""
