"""Renders the host's cloud-init user data. PLACEHOLDER until the web-app issue fills it in.

Contract (stable, used by components/app_host.py): plain values in, a `#cloud-config` string
out; no secret values are ever passed in (only the secret's ARN).
"""


def render_user_data(*, region: str, secret_arn: str, writer_endpoint: str,
                     reader_endpoint: str, port: int, db_name: str, engine: str,
                     app_port: int = 80) -> str:
    return (
        "#cloud-config\n"
        "packages: [nginx]\n"
        "runcmd:\n"
        "  - [systemctl, enable, --now, nginx]\n"
    )
