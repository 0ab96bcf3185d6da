"""Billing: prices over time, and usage read back from the meter's rows and priced."""
