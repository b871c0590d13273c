"""Gilmer et al. (2018), adversarial spheres: the concentric-spheres theory (``theory``), the
networks and attacks of the experiments, verdict rules and figures."""
