-- A network's own design conditions (heating curve, design outdoor/supply/return temperature, soil,
-- minimum station differential pressure) and the CRS its file was drawn in, kept with each import.
-- layers.design.DesignSettings.to_dict() is the settings' shape; "assumed" lists the defaulted ones.
CREATE TABLE network_design (
    network_version integer PRIMARY KEY REFERENCES network_version(id),
    settings        jsonb NOT NULL,
    source_crs      text,
    mapping_path    text
);
