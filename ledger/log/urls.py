from django.urls import re_path

from ledger.log.apis import CheckpointDetailApi, CheckpointLatestApi, LogConsistencyApi, LogKeysApi

# Mounted at /api/; every route answers with and without one trailing slash.
urlpatterns = [
    re_path(
        r"^log/checkpoints/latest/?$", CheckpointLatestApi.as_view(), name="log-checkpoint-latest"
    ),
    re_path(
        r"^log/checkpoints/(?P<tree_size>[^/]+)/?$",
        CheckpointDetailApi.as_view(),
        name="log-checkpoint",
    ),
    re_path(r"^log/consistency/?$", LogConsistencyApi.as_view(), name="log-consistency"),
    re_path(r"^log/keys/?$", LogKeysApi.as_view(), name="log-keys"),
]
