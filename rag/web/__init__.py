"""The web chat: ask the articles, read the verbatim answer, open the cited article beside the chat.

    rag serve [--corpus DIR] [--index-dir D] [--host H] [--port P]

The API endpoint `/ask` answers a question as JSON for `gradio_client`. Nothing else in `rag` imports this
package, so `import rag` never loads Gradio.
"""

from ..service import ChatService
from .page import create_app
from .server import launch, serve

__all__ = ["ChatService", "create_app", "launch", "serve"]
