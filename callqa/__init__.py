"""callqa: offline quality inspection of recorded customer-service calls (the CLI and the web app)."""

from core import __version__

__all__ = ["__version__"]
