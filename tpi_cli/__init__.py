"""tpi: log trigger point injections, print aftercare handouts and procedure reports."""

__version__ = "0.1.0"
