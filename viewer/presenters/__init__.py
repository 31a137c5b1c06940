"""One presenter per job: they feed the widgets from a DataSource (database or bundle)."""
