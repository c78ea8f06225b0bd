import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower


def normalize_email(email: str) -> str:
    """The one spelling of an email that is stored and looked up: trimmed, in lower case."""
    return email.strip().lower()


class UserManager(BaseUserManager):
    """Creation goes through `users.services`; these exist for Django's own tooling."""

    @classmethod
    def normalize_email(cls, email):
        return normalize_email(email or "")

    def get_by_natural_key(self, username):
        """Django's authentication (the admin's login form too) finds users by any spelling."""
        return super().get_by_natural_key(normalize_email(username))

    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
    is_system = models.BooleanField(
        default=False, help_text="A system user may seed funds, freeze, close and reverse."
    )
    is_staff = models.BooleanField(default=False, help_text="May log into the admin.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="users_email_unique_ci"),
            models.CheckConstraint(condition=~models.Q(email=""), name="users_email_not_empty"),
        ]

    def __str__(self) -> str:
        return self.email


class RateLimitCounter(models.Model):
    """Requests one caller made in the current window of one limit (`users.throttling`), when
    the counters are kept in the database. One row per (limit, caller), reused window after
    window; on PostgreSQL the table is UNLOGGED: a counter lost in a crash costs nothing."""

    key = models.CharField(max_length=200, primary_key=True)
    window_end = models.BigIntegerField(help_text="Unix time at which the window ends.")
    hits = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(hits__gte=1), name="rate_limit_hits_positive")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} until {self.window_end}"


class ApiKey(models.Model):
    """A credential for machine clients that acts as its user within its scopes. Only the
    SHA-256 of the secret is kept: the secret has 256 random bits, so a fast hash is enough
    (no password-style stretching), and lookups by hash are one index probe."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The secret's first characters.")
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="Coarse: written at most once a minute."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(prefix__startswith="blk_"), name="users_api_key_prefix"
            ),
            models.CheckConstraint(
                condition=models.Q(secret_hash__regex=r"^[0-9a-f]{64}$"),
                name="users_api_key_hash_is_sha256",
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="users_api_key_named"),
        ]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}... ({self.name})"
