from tests.hashers import FastBCryptSHA256PasswordHasher


class CountingHasher(FastBCryptSHA256PasswordHasher):
    """The suite's bcrypt hasher, counting how many hashes it computes. Checking a password
    (`verify`) and hashing a new one (`make_password`) both end in exactly one `encode`."""

    calls = 0

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)
