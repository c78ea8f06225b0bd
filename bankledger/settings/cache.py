"""The shared cache, used for login throttling: the database by default, Redis when `REDIS_URL`
is set. Both are shared between server processes, unlike the local-memory cache."""

from .environment import env

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "bankledger_cache",
        }
    }
