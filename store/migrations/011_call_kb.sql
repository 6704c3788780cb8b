-- A call answered from the knowledge base names the entry it was answered with.
ALTER TABLE call_event ADD CONSTRAINT call_event_kb_entry_fk FOREIGN KEY (kb_entry_id) REFERENCES kb_entry(id);
