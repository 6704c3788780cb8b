"""Weather forecasts in, the 1–48 h heat-load forecast out, and the backtest that scores it (issue 18)."""
