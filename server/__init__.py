"""The web layer: routes, problem responses, OpenAPI, security headers. Uses model/, never the reverse."""
