"""The chat app's own parts: the library of sources, the live index service, HTML rendering and the Gradio page.

``qa.app.webapp`` imports gradio; the rest does not. These modules use only the public ``qa`` API.
"""

from .library import Library, SourceFile
from .service import Change, Service, SourceRow

__all__ = ["Change", "Library", "Service", "SourceFile", "SourceRow"]
