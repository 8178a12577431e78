"""The self-contained HTML report over the marts: panel queries and their rendering."""
