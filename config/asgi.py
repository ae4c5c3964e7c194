import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from config.body_limit import BodyLimitMiddleware  # noqa: E402  (needs settings loaded)

# Cap request bodies before Django reads them (and before authentication): 413 past the cap.
application = BodyLimitMiddleware(django_application)
