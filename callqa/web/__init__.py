"""The web app (``callqa serve``): review queue, call pages, agent self-view, team heat-map, rule health."""
