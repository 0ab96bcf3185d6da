"""Where deployments meet the gateway: the route feed, per-session instances, the mux probe.

The one package that imports both ``deploy`` and ``gateway``; neither of them imports it.
"""
