"""Curation: add a source, find quotes, reconcile a CSV of names."""
