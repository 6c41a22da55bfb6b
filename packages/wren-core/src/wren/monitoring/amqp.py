"""Open AMQP connections with pika, turning its failures into errors a user can act on.

pika is an optional dependency (`pip install 'wren-core[rabbitmq]'`), imported only when the
RabbitMQ monitor is chosen. Connections try once, with short timeouts: the client must say at
once that a broker is unreachable, and a worker must never stall its calls on a dead one.
"""

from __future__ import annotations

from typing import Any

from wren._errors import MonitoringError
from wren.monitoring.settings import mask_url


def require_pika() -> Any:
    try:
        import pika
    except ImportError as exc:
        raise MonitoringError("monitoring 'rabbitmq' needs the pika package: "
                              "pip install 'wren-core[rabbitmq]'") from exc
    return pika


def connect(url: str, timeout: float, name: str) -> Any:
    """A `pika.BlockingConnection` to `url`, or `MonitoringError` saying why not."""
    pika = require_pika()
    from pika import exceptions

    try:
        params = pika.URLParameters(url)
    except Exception as exc:
        raise MonitoringError(f"amqp_url {mask_url(url)!r} is not a valid AMQP URL: {exc}") \
            from exc
    params.connection_attempts = 1
    params.socket_timeout = timeout
    params.stack_timeout = 2 * timeout
    params.blocked_connection_timeout = 2 * timeout
    params.client_properties = {"connection_name": name}
    where = mask_url(url)
    try:
        return pika.BlockingConnection(params)
    except (exceptions.ProbableAuthenticationError, exceptions.AuthenticationError) as exc:
        raise MonitoringError(f"the RabbitMQ broker at {where} refused the user and password "
                              "in amqp_url (section `rabbitmq:`); fix them") from exc
    except exceptions.ProbableAccessDeniedError as exc:
        raise MonitoringError(f"the RabbitMQ broker at {where} denies this user access to the "
                              "virtual host in amqp_url; grant it or pick another vhost") from exc
    except (exceptions.AMQPError, OSError) as exc:
        raise MonitoringError(f"cannot reach the RabbitMQ broker at {where} ({reason(exc)}); "
                              "start it, fix amqp_url in the `rabbitmq:` section, or use "
                              "monitoring 'storage'") from exc


def reason(exc: BaseException) -> str:
    """What went wrong, in words: pika often wraps the cause with an empty message."""
    text = str(exc)
    if text:
        return text
    inner = "; ".join(repr(arg) if not str(arg) else str(arg) for arg in exc.args)
    return inner or type(exc).__name__
