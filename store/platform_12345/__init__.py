"""The city's 12345 platform (市民服务热线): its tickets come in (``intake``: CSV, JSON, the webhook) as work
orders of origin ``platform_12345``, and each one's handling goes back in its reply format (``replies``)."""

from store.platform_12345.intake import file_ticket, find_place, import_tickets, receive_rows
from store.platform_12345.replies import REPLY_FIELDS, list_replies, write_replies
from store.platform_12345.tickets import Ticket, check_ticket

__all__ = ["REPLY_FIELDS", "Ticket", "check_ticket", "file_ticket", "find_place", "import_tickets",
           "list_replies", "receive_rows", "write_replies"]
