"""A package with no __main__: ``python -m gcx run -m nomain`` fails as
``python -m nomain`` does."""
