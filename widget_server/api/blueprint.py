"""The API's blueprint: every view module of the package adds its routes to it.

As in the admin (admin/views.py), the blueprint is made in a module the views
import, and the package imports the views, so nothing imports the package
half-built.
"""

from flask import Blueprint, current_app

from widget_server.api import auth, problems
from widget_server.extensions import limiter
from widget_server.services.errors import ServiceError

blueprint = Blueprint("api", __name__, url_prefix=problems.PREFIX)
# Per client address, before the key is even looked at: guessing keys costs.
limiter.limit(lambda: current_app.config["LIMIT_API"])(blueprint)
blueprint.before_request(auth.authenticate)
blueprint.record_once(lambda state: problems.install(state.app))
# The services' refusals (services/errors.py), raised from any view of the API.
blueprint.register_error_handler(ServiceError, problems.service_problem)
blueprint.register_error_handler(ExceptionGroup, problems.service_problem)
