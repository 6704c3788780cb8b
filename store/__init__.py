"""The only place that speaks SQL (psycopg 3 + psycopg_pool)."""
