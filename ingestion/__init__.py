"""Plain, tested functions that move agent telemetry into the warehouse's raw schema."""
