"""The FastAPI layer: REST under /api/v1 and the pages people use on site."""
