"""A seeded, realistic sample of an agent-telemetry collector, quirks included."""
