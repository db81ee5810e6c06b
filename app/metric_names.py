"""The CloudWatch metrics the app publishes (app/health.py) and the stack alarms on
(components/app_fleet.py): one place for their names."""
NAMESPACE = "aurorakit/App"
DIMENSION = "DbClusterEndpoint"  # value: the writer endpoint the app is configured with
WRITER_REACHABLE, WRITER_WRITABLE, READER_REACHABLE = "DbWriterReachable", "DbWriterWritable", "DbReaderReachable"
