"""The `token` cookie of the original service: HttpOnly, SameSite=Lax, lives as long as the JWT."""

from django.conf import settings


def set_token_cookie(response, token: str) -> None:
    response.set_cookie(
        settings.AUTH_COOKIE_NAME,
        token,
        max_age=settings.JWT_LIFETIME,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=settings.AUTH_COOKIE_SECURE,
    )


def clear_token_cookie(response) -> None:
    response.delete_cookie(settings.AUTH_COOKIE_NAME, path="/", samesite="Lax")
