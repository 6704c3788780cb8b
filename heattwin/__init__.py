"""Shared vocabulary of HeatTwin: settings, units and fixed value lists.

Every other package (``layers``, ``store``, ``twin``, ``app``, ``scripts``) may import from here;
this package imports none of them.
"""
