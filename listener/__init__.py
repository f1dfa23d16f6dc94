"""listener: find the people a brand should talk to."""

__version__ = "0.1.0"
