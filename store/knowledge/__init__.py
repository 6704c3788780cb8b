"""The hotline's knowledge base: ``core`` adds, changes and retires entries (audited); ``search`` finds the
answer for what a caller says; ``files`` imports entries from YAML, CSV or JSON."""

from store.knowledge.core import (
    ENTRY_COLUMNS,
    add_entry,
    check_entry,
    count_entries,
    get_entry,
    list_entries,
    retire_entry,
    update_entry,
)
from store.knowledge.files import import_entries, read_entries
from store.knowledge.search import SEARCH_COLUMNS, search_knowledge

__all__ = ["ENTRY_COLUMNS", "SEARCH_COLUMNS", "add_entry", "check_entry", "count_entries", "get_entry",
           "import_entries", "list_entries", "read_entries", "retire_entry", "search_knowledge", "update_entry"]
