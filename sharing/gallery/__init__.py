"""The client's gallery at ``/s/<token>/`` (SPEC §18, issue 23 item 3): no login.

``access`` finds a live link by its token and guards its password; ``selectors`` lists what a
link shows; ``signing`` makes and checks the gallery's image URLs; ``files`` picks the file of
each kind and draws the watermark; ``services`` records picks, views and downloads with their
events; ``views`` and ``urls`` are the HTTP face.
"""
