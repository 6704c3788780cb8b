"""Work orders: 报修 → 派单 → 检修 → 回访. ``core`` files and lists them; ``lifecycle`` moves them along
the declared transitions; ``sla`` computes their clocks; ``dispatch`` suggests teams; ``field`` applies
the crew's taps once each; ``revisits`` records the calls back."""

from store.work_orders.core import (
    WORK_ORDER_COLUMNS,
    add_work_order,
    count_open,
    get_work_order,
    insert_work_order,
    list_open_locations,
    list_work_orders,
    update_work_order_state,
)

__all__ = ["WORK_ORDER_COLUMNS", "add_work_order", "count_open", "get_work_order", "insert_work_order",
           "list_open_locations", "list_work_orders", "update_work_order_state"]
