"""Gunicorn settings for one LMS instance (see docs/deploy.md).

    gunicorn -c deploy/gunicorn.conf.py lms.wsgi:app

Every setting can be overridden on the command line (``--bind``, ``--workers``…).
"""  # noqa: INP001 - a configuration file, not a module of a package

import multiprocessing
import os

#: Where nginx reaches this instance. Loopback when nginx runs on the same host;
#: the host's private address when it runs elsewhere (firewall the port).
bind = "127.0.0.1:8000"

#: Synchronous workers: one request at a time each. nginx buffers requests and
#: responses, so slow clients do not hold a worker. The classic 2 x CPUs + 1, or
#: WEB_CONCURRENCY when set (gunicorn's own variable).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"

#: A worker busy longer than this is killed and its request fails. The longest
#: requests are report downloads: the national learner detail as XLSX (1,000,000
#: enrolments) takes about two minutes. Bigger exports: ``lms report`` on the server.
timeout = 300
#: On reload or stop, requests in flight get this long to finish.
graceful_timeout = 30
#: Seconds an idle connection from nginx stays open. Only for threaded workers
#: (``--worker-class gthread``): a synchronous worker closes every connection after its
#: response, so nginx's pool of upstream connections (deploy/nginx.conf) opens one a
#: request, which on loopback or a private network costs little. A gthread worker
#: instead holds every connection it accepts (``worker_connections``, 1,000 by
#: default): cap that near nginx's ``keepalive`` pool over the workers, or one worker
#: may hold all of them and serve them on one core (bench/results.md, issue #19).
keepalive = 5

#: Recycle workers now and then (memory held by a large import or export is returned).
max_requests = 2000
max_requests_jitter = 200

#: Errors and the app's own log lines on stderr (journald under systemd). No access
#: log here: nginx keeps one, and its addresses are personal data with their own
#: retention (docs/deploy.md, "Logs").
errorlog = "-"
loglevel = "info"
accesslog = None

#: nginx on the same host: gunicorn trusts X-Forwarded-Proto only from loopback
#: (put nginx's address here when it runs elsewhere). The app itself trusts
#: LMS_PROXY_COUNT proxies' X-Forwarded-For/-Proto/-Host (werkzeug's ProxyFix).
forwarded_allow_ips = "127.0.0.1,::1"
proc_name = "lms"
