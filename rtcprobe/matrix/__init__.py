"""`rtcprobe matrix`: offer variants (data, variants.json) tried against one target, tabulated.

Each variant is one real probe session (rtcprobe.probe.session.ProbeSession, the same as
`capture`), whose browser-shaped offer (offer_shape) is then edited as the variant says
(transform.py); classify.py reads each capture's offer, answer and HTTP status into a row.
"""
