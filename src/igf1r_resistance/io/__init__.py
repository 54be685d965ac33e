"""Reading and fetching: GEO layout, downloads, series matrices, local matrices, atomic writers."""
