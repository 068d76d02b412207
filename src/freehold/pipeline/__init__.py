"""The request path: ordered stages over a RequestContext, run by the Gateway."""
