from celery import shared_task
from django.db import connection


@shared_task(name="workspaces.tasks.healthcheck")
def healthcheck() -> str:
    """Prove that a worker can reach the database; beat sends it every minute."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"
