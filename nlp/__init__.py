"""Text in, structures out: reading, normalising and extracting from policy documents (no SQLite, no HTTP)."""
import logging

import jieba

jieba.setLogLevel(logging.WARNING)  # jieba announces its dictionary load on stderr otherwise
