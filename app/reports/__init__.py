"""The supervisor's reports — daily dispatch sheet (日调度), weekly analysis (周分析), monthly bulletin (月通报) —
as Excel and PDF, from the same KPI definitions the dashboard shows (``store.kpis``)."""
