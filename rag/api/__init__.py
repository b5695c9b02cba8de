"""The JSON API with its OpenAPI description (FastAPI; docs at /docs):

    POST /ask  POST /retrieve  GET /articles  GET /articles/{id}  POST /articles  DELETE /articles/{id}  GET /health

Served by `rag serve --api` (uvicorn, with the web chat at /) or on Ray Serve by `rag serve --ray` (rag/serving.py).
"""

from .app import create_api
from .local import LocalBackend

__all__ = ["LocalBackend", "create_api"]
