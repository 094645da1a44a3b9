"""A host project that uses django-wxlogistics through its settings only (no glue code)."""
