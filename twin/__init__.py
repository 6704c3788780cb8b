"""The pandapipes twin: build, solve, sync, residuals, leaks, scenarios. No Dash, no SQL strings."""
