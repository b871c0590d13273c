"""The machinery of the book: run a chapter (``chapters``), compare it with its reference
(``comparison``), the measured tolerances (``calibration``), the scorecard and its sources."""
