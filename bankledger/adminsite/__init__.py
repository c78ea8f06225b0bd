"""The admin's look: the site (header, "View site" to the API docs), its stylesheet, base template
and the date format of every admin page. It imports no app: the model admins live in the apps."""
