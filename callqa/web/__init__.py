"""The web app (``callqa serve``): review queue, call pages, agent self-view, team heat-map, rule health.

``create_app(db_path)`` makes the FastAPI app; ``callqa.cli_web`` serves it with uvicorn.
"""

from callqa.web.app import create_app

__all__ = ["create_app"]
