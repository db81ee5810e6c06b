"""gunicorn settings of the app host; how they fit the ALB and the DB budgets: docs/FAILOVER.md."""
workers = 2
worker_class = "gthread"
threads = 4             # a request waiting on the database pins a thread; at most threads - 1 do (app/admission.py)
timeout = 30            # gthread: the worker's heartbeat; requests are bounded by the DB timeouts
graceful_timeout = 25   # < the target group's deregistration delay (30 s)
keepalive = 75          # > the ALB's idle timeout (60 s): the ALB closes idle connections first
accesslog = "-"
control_socket_disable = True


def post_worker_init(worker) -> None:
    from app.admission import Gate
    from app.health import start_publisher

    svc = getattr(worker.wsgi, "extensions", {}).get("aurorakit")
    if svc is not None:  # the running thread count (GUNICORN_CMD_ARGS may override this file)
        svc.gate = Gate(getattr(getattr(worker, "cfg", None), "threads", threads))
    start_publisher(worker.wsgi)
