"""What every dash-ag-grid of the desks shares: the control room's dark colours (AG Grid's theming API)."""

DARK_GRID_THEME = {"function": "themeQuartz.withParams({backgroundColor: '#0b1422', foregroundColor: '#e6edf5',"
                               " headerBackgroundColor: '#111d30', borderColor: '#1d2940', accentColor: '#4dabf7',"
                               " fontFamily: 'Noto Sans CJK SC, Noto Sans SC, sans-serif'})"}
