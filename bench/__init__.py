"""Benchmarks: `make bench` (bench.run) and the balance-latency check (bench.balance_latency).
Not part of the test run."""
