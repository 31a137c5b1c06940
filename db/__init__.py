"""Database layer of Inspection Viewer: schema, queries, engines and the embedded server. Imports no Qt."""
