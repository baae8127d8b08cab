"""The library both SCF functions ship with: COS/CI clients, parsers, tags and use cases."""
