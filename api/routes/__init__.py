"""One router per resource: documents, measures, clauses, conditions, check, chat, sessions."""
