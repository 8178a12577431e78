"""Dagster definitions: thin assets over `ingestion/`, dbt models, GX checks, jobs, schedules."""
