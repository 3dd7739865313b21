"""Spiders, one per publication series."""
