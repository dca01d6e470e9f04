"""Flask extensions, created unbound here and bound in ``create_app``."""

from typing import TYPE_CHECKING

from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from widget_server.abuse import limiter_storage  # noqa: F401  (registers memory://)
from widget_server.abuse.client_ip import client_ip_key


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
# The models' base: db.Model is an attribute, which a type checker cannot subclass; to it,
# the declarative Base has every column and relationship the models declare.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
compress = Compress()
limiter = Limiter(
    key_func=client_ip_key,
    default_limits=[],
    headers_enabled=True,
)
csrf = CSRFProtect()
login_manager = LoginManager()
