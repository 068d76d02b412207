"""Routing: which model answers a request.

The gateway side lives in :mod:`freehold.routing.rules`.
The replay side (this package's records, features, learners, policies, metrics and
cross-validation) scores recorded outcomes offline; ``freehold bench route`` and
``freehold router train`` drive it. Nothing here imports another stage: the arithmetic
check a cascade reads is passed in as a callable.
"""
