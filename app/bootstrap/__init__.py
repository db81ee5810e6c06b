"""Deploy-time database bootstrap: the app's schema and its least-privilege IAM user.

`sql.py` generates the statements per engine (the single source, also used by the tests);
`handler.py` is the AWS Lambda entry point that runs them through the RDS Data API
(components/db_bootstrap.py deploys and invokes it). Stdlib + boto3 only: the Lambda Python
runtime provides nothing else.
"""
