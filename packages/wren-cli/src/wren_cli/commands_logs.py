"""`wren logs`: what calls printed, read back from storage.

`wren logs list` shows the jobs that left output (oldest first); `wren logs get JOB_KEY`
prints every call's output of a job, `wren logs get JOB_KEY CALL_ID` one call's. A job key
is `<executor_id>/<job_id>`, as the client's log and `future.job_key` show it.
"""

from __future__ import annotations

import time

import click

from wren_cli.options import Target, common_options, fail, global_options, usage_error


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else "-"


@global_options
@click.group()
def logs() -> None:
    """Show the output (stdout and stderr) that calls printed.

    Example: wren logs get 1a2b3c-0/M000 (also: wren logs list, wren logs get JOB CALL)
    """


@logs.command("list")
@common_options
def list_jobs(target: Target) -> None:
    """List the jobs that left output in storage, oldest first.

    Example: wren logs list -s localhost
    """
    from wren.client.logs import list_logged_jobs

    storage = target.open_storage()
    bucket = storage.default_bucket
    jobs = list_logged_jobs(storage, bucket)
    if not jobs:
        click.echo(f"no call output in {storage.name}://{bucket}")
        return
    click.echo(f"{'JOB KEY':<28} {'PARTS':>5} {'BYTES':>10}  LAST WRITTEN")
    for job in jobs:
        click.echo(f"{job.job_key:<28} {job.parts:>5} {job.size:>10}  "
                   f"{_when(job.last_modified)}")


@logs.command("get")
@click.argument("job_key")
@click.argument("call_id", required=False)
@common_options
def get_logs(target: Target, job_key: str, call_id: str | None) -> None:
    """Print the output of a job's calls, or of one call (CALL_ID: 7 or 00007).

    Example: wren logs get 1a2b3c-0/M000 7
    """
    from wren.client.logs import read_job_logs
    from wren.worker.output import OUTSIDE_CALLS

    if job_key.count("/") != 1:
        usage_error(f"{job_key!r} is not a job key; expected <executor_id>/<job_id>, e.g. "
             "1a2b3c-0/M000 (see `wren logs list`)")
    if call_id is not None and not call_id.isdigit():
        usage_error(f"call id {call_id!r} must be a number, e.g. 7 or 00007")
    storage = target.open_storage()
    bucket = storage.default_bucket
    found = read_job_logs(storage, bucket, job_key)
    if not found:
        fail(f"no output of job {job_key} in {storage.name}://{bucket}: it printed nothing, "
             "its logs were cleaned, or the key is wrong (see `wren logs list`)")
    if call_id is not None:
        index = int(call_id)
        if index not in found:
            fail(f"call {index:05d} of job {job_key} printed nothing")
        click.echo(found[index], nl=False)
        return
    for index, text in found.items():
        title = "outside any call" if index == OUTSIDE_CALLS else f"call {index:05d}"
        click.echo(click.style(f"--- {job_key} {title} ---", bold=True))
        click.echo(text, nl=not text.endswith("\n"))
