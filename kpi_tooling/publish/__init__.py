"""Write-audit-publish: the shared audit and one publisher per engine (DuckDB file, Postgres)."""
