"""API plumbing every app's API shares: payloads, filters, pagination, routers, throttling,
renderers and the exception handler (REST_FRAMEWORK in ``config/settings.py`` names them)."""
