"""Every operation that changes data, once: the command line, the API and the admin call these."""
