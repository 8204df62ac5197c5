"""A local web application for clerks without a terminal: classify, review, download, check, rules (`serve`)."""

from .settings import WebSettings, check_binding, default_data_dir  # noqa: F401


def create_app(settings: "WebSettings"):
    """The Starlette application for ``settings`` (see :func:`budget.web.app.create_app`)."""
    from .app import create_app as _create

    return _create(settings)
