"""Control (#18): supply-temperature schedules that respect each station's transport delay, station
balancing from room temperatures, and the setpoints a person accepts for the plant."""
