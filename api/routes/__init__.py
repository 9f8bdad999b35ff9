"""One router per resource: documents, measures, clauses, conditions, check, chat, sessions, and the registry's
enterprises, notifications and push items."""
