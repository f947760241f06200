"""Speed and memory targets of the provider, measured against the emulator. Run with ``make bench``."""
