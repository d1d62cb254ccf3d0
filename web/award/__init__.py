"""The results' pages (issue 14): the publicity, objections and complaints (web/award/publicity.py)."""
