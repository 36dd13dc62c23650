"""Built-in step plugins, registered through the waypost.steps entry points like any other."""
