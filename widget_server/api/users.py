"""Users of the key's account and the accounts under it: list them, change a role.

Changing a role is services/users.change_role, as in the admin and the command line.
"""

from __future__ import annotations

from widget_server.api.auth import caller
from widget_server.api.blueprint import blueprint
from widget_server.api.endpoint import operation, paginated
from widget_server.api.schemas.common import Id
from widget_server.api.schemas.users import User, UserPage, UserQuery, UserUpdate
from widget_server.models import User as UserRow
from widget_server.services.users import change_role
from widget_server.tenancy import scoped_select

ID = "<int(max=2147483647):user_id>"


@blueprint.get("/users")
@operation("People who sign in to the admin, in the key's subtree", query=UserQuery,
           answer=UserPage)
def list_users(query: UserQuery):
    statement = scoped_select(UserRow, caller())
    if query.account_id is not None:
        statement = statement.where(UserRow.account_id == query.account_id)
    return paginated(query, statement.order_by(UserRow.id), UserPage)


@blueprint.patch(f"/users/{ID}")
@operation("Change a user's role (owners only, never one's own)", body=UserUpdate,
           answer=User, errors=(403, 404))
def update_user(user_id: Id, body: UserUpdate):
    return User.model_validate(change_role(caller(), user_id, body.role))
