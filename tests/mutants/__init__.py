"""`make mutants`: single-line bugs planted one at a time to show the tests notice them (run.py)."""
