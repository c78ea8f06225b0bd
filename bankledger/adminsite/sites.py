from django.contrib import admin


class AdminSite(admin.AdminSite):
    site_header = "bankledger"
    site_title = "bankledger admin"
    index_title = "Ledger administration"
    # "View site" opens the API's documentation: the API is the site.
    site_url = "/api/docs/"
    # The app list is on the index page; without the side bar every list fits 1400 px.
    enable_nav_sidebar = False
