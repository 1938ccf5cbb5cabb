"""callqa: offline quality inspection of recorded customer-service calls."""

__version__ = "0.1.0"
