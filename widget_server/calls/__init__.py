"""The call service (request path) and the queue tasks that place calls."""
