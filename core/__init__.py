"""What every app shares: the domain error, limits, API plumbing, admin mixins, credentials.

``core`` imports no other app of the project (``tests/test_app_graph.py`` checks it).
"""
