"""Two middleware stacks: the JSON API's requests skip what only the browser pages use.

The admin (and any other page for a browser) needs sessions, the session's user and messages;
the JSON API authenticates every request by its token or API key and keeps no session. Run for
every API request, those three cost CPU for nothing. (CSRF's middleware stays in MIDDLEWARE for
every path: the API's views are exempt from it, and a cookie-authenticated unsafe call is
checked for its Origin by `users.authentication`.)"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class BrowserOnlyMiddleware:
    """`settings.BROWSER_MIDDLEWARE`, in that order, for every request outside /api: a chain of
    its own around the rest of the stack. Django calls the view, exception and template hooks
    only of middleware listed in MIDDLEWARE, so one with such hooks does not belong here."""

    HOOKS = ("process_view", "process_exception", "process_template_response")

    def __init__(self, get_response):
        self.api_response = get_response
        handler = get_response
        for path in reversed(settings.BROWSER_MIDDLEWARE):
            handler = import_string(path)(handler)
            if any(hasattr(handler, hook) for hook in self.HOOKS):
                raise ImproperlyConfigured(f"{path} has view hooks: list it in MIDDLEWARE.")
        self.browser_response = handler

    def __call__(self, request):
        if is_api(request.path_info):
            return self.api_response(request)
        return self.browser_response(request)
