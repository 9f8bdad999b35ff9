"""Text in, structures out: reading, normalising and extracting from policy documents (no SQLite, no HTTP).

Importing the package is cheap: jieba (and its dictionary) is loaded by nlp.pipeline.shared_jieba when a text is
first segmented, quietly, so `xinyi check` never pays for it."""
