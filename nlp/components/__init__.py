"""spaCy components of the listener pipeline; importing a module registers its factory."""
