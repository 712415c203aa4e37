"""Live: a streaming detector, alerts, an embedded store and an HTTP service with a map.

``patrolwatch.serve.stream`` (the :class:`Detector`) and ``patrolwatch.serve.joint`` (the
:class:`FormationTracker`) need only the core dependencies;
the service (``app``, ``service``, ``store``, ``feeds``) needs FastAPI, uvicorn, DuckDB,
PyYAML, httpx and pyais, which ``pip install patrolwatch`` brings.

Examples
--------
>>> from patrolwatch.serve import Detector, FixBatch
>>> Detector.__name__, FixBatch.__name__
('Detector', 'FixBatch')
"""

from .joint import FormationTracker
from .stream import Detector, FixBatch, StreamEvent

__all__ = ["Detector", "FixBatch", "FormationTracker", "StreamEvent", "run"]


def run(config: object) -> None:
    """Serve until interrupted (uvicorn on ``config.host:config.port``).

    ``config`` is a :class:`patrolwatch.serve.service.ServeConfig`.
    """
    from .app import create_app
    from .service import ServeConfig

    if not isinstance(config, ServeConfig):
        raise TypeError("run() takes a ServeConfig")
    import uvicorn

    app = create_app(config)
    uvicorn.run(app, host=config.host, port=config.port, log_level="info", access_log=False)
