"""Prometheus metrics (prometheus-client): requests, latency, documents scored, errors."""

import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401  (re-exported for the route)


class Metrics:
    """One registry per app, so tests can build many apps."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("voc_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("voc_request_seconds", "Server time per request", ["route"],
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10),
                                 registry=self.registry)
        self.documents = Counter("voc_documents_scored_total", "Texts analysed", registry=self.registry)
        self.errors = Counter("voc_errors_total", "Coded errors returned or recorded", ["code"],
                              registry=self.registry)

    def middleware(self):
        async def record(request, call_next):
            t = time.perf_counter()
            response = await call_next(request)
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            took = time.perf_counter() - t
            self.requests.labels(request.method, path, str(response.status_code)).inc()
            self.latency.labels(path).observe(took)
            # Server time for clients and benches: the whole request inside the app (queue included),
            # next to any finer entries a route added (analyze;dur=...).
            timing = response.headers.get("server-timing")
            response.headers["server-timing"] = f"app;dur={took * 1000:.3f}" + (f", {timing}" if timing else "")
            return response

        return record

    def render(self) -> bytes:
        # With several uvicorn workers (voc serve --workers N sets PROMETHEUS_MULTIPROC_DIR), each
        # process writes its values to files there; a scrape, whichever worker answers it, adds
        # them up.
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
