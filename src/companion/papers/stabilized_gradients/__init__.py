"""Brendel & Bethge's critique of saturating networks (as a published summary tells it): the
masking checks, verdict rules and figures."""
