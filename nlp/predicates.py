def parse_predicate(text, role):
    return None
