"""The HTTP face of voc (FastAPI). The library (`voc/`) knows nothing of it."""
