"""Background jobs for consultations."""
