"""Dash app: the wall, supervisor, scenarios, hotline and field pages. Thin: no physics, no SQL."""
