"""A package whose __main__ ``python -m gcx run -m runpkg`` runs (see
__main__.py)."""
