"""Test suite: unit, client (responses), handler and end-to-end (emulator) tests."""
