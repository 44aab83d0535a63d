"""Desired state: manifest models, YAML loading with locations, value sources, merge."""
