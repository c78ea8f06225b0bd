"""Background work: Django's tasks API (the django-tasks backport) on django-tasks-db's queue in
the database. `python manage.py db_worker` runs the tasks; `make run` starts one."""

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
