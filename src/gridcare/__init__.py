"""GridCare: customer service for power-supply companies (95598)."""

__version__ = "0.1.0"
