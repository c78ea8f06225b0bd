from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AdminSiteConfig(AppConfig):
    """Listed before Django's admin in INSTALLED_APPS so its templates take precedence."""

    default = True
    name = "bankledger.adminsite"
    label = "adminsite"
    verbose_name = "bankledger admin site"


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with this project's site as `admin.site` (Django's documented way)."""

    default = False
    default_site = "bankledger.adminsite.sites.AdminSite"
