"""Access tokens that can be revoked: simplejwt's `BlacklistMixin` on the access token, so
logout blacklists the very token presented and `flushexpiredtokens` purges expired rows."""

from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import BlacklistMixin


class AccessToken(BlacklistMixin, SimpleAccessToken):
    @classmethod
    def for_user(cls, user):
        # BlacklistMixin.for_user would write an OutstandingToken row on every login; the row
        # is created on logout instead (BlacklistMixin.blacklist does get_or_create).
        return SimpleAccessToken.for_user.__func__(cls, user)
