"""Local stand-ins for third-party services, for tests and benchmarks (bound to 127.0.0.1 only)."""
