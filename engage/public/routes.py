from engage.public import bp  # noqa: F401
