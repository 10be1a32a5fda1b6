"""`python -m actions.server --port 5055`: rasa-sdk's action server, answering Rasa and nobody else.

`rasa run actions` listens on every interface, lets any web page call it (CORS `*`) and runs any action for whoever
posts a tracker, so a forged tracker could create cases for any sender or read a queued reference. This runs the
same rasa-sdk endpoint (`rasa_sdk.endpoint.create_app`, with the actions of this package), but:

- it listens on 127.0.0.1 unless told another (private) address with `--host`;
- every request but `GET /health` must carry the secret Rasa sends with each action call (INTAKE_ACTIONS_SECRET, in
  the `X-Intake-Actions-Secret` header; bot/endpoints.yml and deploy/endpoints.production.yml set it); any other
  gets 401 and runs nothing;
- no web page may call it (no CORS origin is allowed).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os

from rasa_sdk import utils
from rasa_sdk.constants import DEFAULT_SERVER_PORT
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

SECRET_VARIABLE = "INTAKE_ACTIONS_SECRET"
SECRET_HEADER = "X-Intake-Actions-Secret"
OPEN_PATHS = frozenset({"/health"})  # readiness checks and load balancers carry no secret


def has_secret(request: Request, secret: str) -> bool:
    """Say whether the request carries the shared secret, compared in constant time."""
    given = request.headers.get(SECRET_HEADER, "")
    return hmac.compare_digest(given.encode(), secret.encode())


def create_action_app(secret: str, package: str = "actions") -> Sanic:
    """Return rasa-sdk's action server for `package`, refusing any request without `secret` (except /health)."""
    if not secret:
        raise SystemExit(f"{SECRET_VARIABLE} is empty: the action server needs the secret Rasa sends.")
    app = create_app(package, cors_origins=[])

    @app.middleware("request")
    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or has_secret(request, secret):
            return None
        logger.warning("action server refused a request without the shared secret")
        return response.json({"error": "This server answers the assistant only."}, status=401)

    return app


def main(argv: list[str] | None = None) -> None:
    """Run the action server until it is stopped."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_SERVER_PORT, help="port (5055)")
    parser.add_argument("--actions", default="actions", help="package of actions (actions)")
    utils.add_logging_level_option_arguments(parser)
    args = parser.parse_args(argv)
    # As `rasa run actions` sets up its logs.
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    app = create_action_app(os.environ.get(SECRET_VARIABLE, ""), args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info("Action endpoint is up and running on http://%s:%s", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
