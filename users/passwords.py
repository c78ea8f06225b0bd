"""The password rules, as Django's configured validators (AUTH_PASSWORD_VALIDATORS) enforce
them, for the schema and the weak-password error."""

from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    UserAttributeSimilarityValidator,
    get_default_password_validators,
)


def password_rules() -> list[str]:
    """One sentence per validator ("Your password must contain at least 8 characters."), the
    similarity rule naming the attributes it compares instead of "personal information"."""
    rules = []
    for validator in get_default_password_validators():
        if isinstance(validator, UserAttributeSimilarityValidator):
            attributes = " or ".join(validator.user_attributes)
            rules.append(f"Your password can't be too similar to your {attributes}.")
        else:
            rules.append(validator.get_help_text())
    return rules


def password_min_length() -> int:
    lengths = [
        v.min_length
        for v in get_default_password_validators()
        if isinstance(v, MinimumLengthValidator)
    ]
    return max(lengths, default=1)
