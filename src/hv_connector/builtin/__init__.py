"""Built-in plugins, registered exactly as external ones are (see ``BUILTIN_PLUGINS``)."""
