"""The REST API and the review dashboard, on FastAPI, over the same engine as the CLI."""
