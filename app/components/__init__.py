"""Shared widgets of the wall (and of later pages): map, legend, KPI tiles, ticker, trend, detail panel."""
