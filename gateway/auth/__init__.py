"""Access control: who is calling (API keys, JWTs), what they may do (scopes), how often.

Kept light on purpose: :mod:`gateway.config` imports :mod:`gateway.auth.scopes` to check the
scopes named in the config file, so nothing here imports the HTTP or JWT machinery.
"""
