"""The virtual plant: a stand-in for a utility's SCADA and IoT estate that produces realistic
readings for a network (weather, control, physics from the twin, room temperatures, sensor
faults) and injects faults whose ground truth goes to ``simulated_fault``."""
