"""The HTTP edge: routes per resource, auth, limits, error -> HTTP mapping."""
