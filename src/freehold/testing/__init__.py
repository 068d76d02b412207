"""Fakes shared by freehold's tests and by users' tests: mock upstreams that are real HTTP
servers speaking the providers' wire formats, and a helper that serves an ASGI app on
127.0.0.1 in a background thread."""
