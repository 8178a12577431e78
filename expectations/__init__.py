"""Great Expectations (GX Core 1.x) suites for every stage, and the code that runs them."""
