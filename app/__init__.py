"""aurorakit web app: Flask + SQLAlchemy on Aurora (writer/reader endpoints, TLS, IAM database authentication).

Kept import-free so the Pulumi program can import `app.cloud_init` without Flask installed.
The WSGI entry point is `app.web:create_app()`.
"""
