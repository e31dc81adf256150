"""Great Expectations validation: suites from files and declarations, planned, run, reported."""
