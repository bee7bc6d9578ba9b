"""The portal's routes, one small module per concern: JSON API (``api_*``) and HTML pages (``pages``,
``dashboard``)."""
