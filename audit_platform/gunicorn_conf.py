"""gunicorn's settings for the service, under bin/serve and in production.

    gunicorn -c python:audit_platform.gunicorn_conf -b 0.0.0.0:8000

The model: WEB_CONCURRENCY worker processes (2 by default), each running up to
WEB_THREADS requests at once on a thread pool (gthread, 8 by default). Idle and slow
keep-alive clients wait in each worker's event loop, not on a thread, so a thousand
open client connections do not mean a thousand threads. Each worker process has its
own PostgreSQL connection pool (DB_POOL_MAX_SIZE, settings.py) that every request
borrows from and returns to, so the service holds at most
WEB_CONCURRENCY x DB_POOL_MAX_SIZE database connections however many clients come.
Every variable is in README.md.
"""

from __future__ import annotations

from audit_platform.env import env_int

wsgi_app = "audit_platform.wsgi:application"
worker_class = "gthread"
workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
threads = env_int("WEB_THREADS", 8, minimum=1)
# Open client connections one worker keeps (idle keep-alive ones included); past that
# new clients wait in the listen backlog.
worker_connections = env_int("WEB_MAX_CLIENTS", 1000, minimum=1)
# A worker whose event loop has not reported for this long is restarted. Requests run
# on threads and do not hold the loop, so this is not a limit on request time.
timeout = env_int("WEB_TIMEOUT", 60, minimum=1)
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# gunicornc's control socket has one default path per user: two servers of one user
# (bin/serve and a load test) would fight over it, and we do not use it.
control_socket_disable = True
