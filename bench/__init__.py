"""Benchmarks: each script prints its figures with the command that made them (`make bench`)."""
