"""GIS in and out: read, snap, validate, and style the network for the map. No database, no Dash."""
