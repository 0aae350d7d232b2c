from engage.consultations import bp  # noqa: F401
