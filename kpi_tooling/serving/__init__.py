"""What BI reads: the generated semantic layer and catalogue, the dashboard, the build summary."""
