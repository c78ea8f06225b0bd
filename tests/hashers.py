from django.contrib.auth.hashers import BCryptSHA256PasswordHasher


class FastBCryptSHA256PasswordHasher(BCryptSHA256PasswordHasher):
    """The production hasher with the fewest rounds bcrypt allows, so the suite can register
    hundreds of users. Same algorithm name, same code path: only the cost factor differs."""

    rounds = 4
