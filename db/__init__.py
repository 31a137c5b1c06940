"""Database layer: schema, queries, engines and the embedded server. Imports no Qt."""
