"""Python tooling for the output_kpis dbt package (demo data, validation, summaries)."""
