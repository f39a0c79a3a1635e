"""Ray wiring: readers -> stages -> packing -> writers, the CLI and job submission.

The only package that knows Ray.
"""
