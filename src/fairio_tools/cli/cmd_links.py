"""``fairio links``: external link health of the catalogue, and the curator report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import write_json, write_text_atomic
from fairio_tools.links.limits import RUN_DEADLINE, URL_DEADLINE

DEFAULT_STATE = Path("portal/links-state.jsonl")

catalogue_option = click.option(
    "--catalogue",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=options.DEFAULT_CATALOGUE,
    show_default=True,
    help="Catalogue directory whose links are checked.",
)
state_option = click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_STATE,
    show_default=True,
    help="State file (one JSON line per URL, committed): read, then updated in place.",
)
doi_resolver_option = click.option(
    "--doi-resolver",
    default="https://doi.org/",
    show_default=True,
    help="Resolver that DOIs are checked through.",
)


@click.group("links")
def group() -> None:
    """External link health of the training catalogue."""


@group.command("check")
@catalogue_option
@state_option
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Check only the entries in these files (e.g. those a pull request changed); "
    "the state of other links is kept. Repeatable.",
)
@click.option("--per-host", default=4, show_default=True, help="Requests at once per host.")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds per request.")
@click.option(
    "--url-deadline",
    default=URL_DEADLINE,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds per URL, its retries, Retry-After waits and redirect hops included.",
)
@click.option(
    "--deadline",
    "run_deadline",
    default=RUN_DEADLINE,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds for the whole run; links not finished by then are reported 'not-checked' "
    "and keep their last state.",
)
@click.option(
    "--deprecate-after",
    default=3,
    show_default=True,
    help="Consecutive failing runs after which a link counts as deprecated.",
)
@click.option(
    "--allow-network",
    multiple=True,
    metavar="CIDR",
    help="Permit connections to this non-public network despite the SSRF guard (for tests "
    "against a local server or an intranet catalogue). Cloud metadata stays refused.",
)
@doi_resolver_option
@options.json_output
@options.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the curator report (Markdown) to this file.",
)
@options.aliased("--report", dest="markdown_path")
@options.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also add this run's counts by status to this history file (one JSON line per run; "
    "the curator dashboard shows the trends).",
)
@options.option(
    "--issue",
    "issue_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the curator issue (JSON: title, label, body with the changes since the "
    "last run, and the news as lists) that the weekly workflow opens or updates.",
)
def check_command(
    directory: Path,
    state_path: Path,
    only: tuple[Path, ...],
    per_host: int,
    timeout: float,
    url_deadline: float,
    run_deadline: float,
    deprecate_after: int,
    allow_network: tuple[str, ...],
    doi_resolver: str,
    json_path: Path | None,
    markdown_path: Path | None,
    history_path: Path | None,
    issue_path: Path | None,
) -> None:
    """Check every link of the catalogue (DOIs through the resolver): classify it, detect
    changed pages, count failing runs and deprecate dead links. Exit 1 when a link fails."""
    import datetime

    from fairio_tools import extras

    extras.require("links", "fairio links check")
    from fairio_tools.catalogue.store import load_catalogue
    from fairio_tools.errors import InputError
    from fairio_tools.links.catalogue_links import deprecated_entry_ids, links_by_url
    from fairio_tools.links.check import CheckSettings, run_check
    from fairio_tools.links.guard import AddressPolicy
    from fairio_tools.links.report import curator_report
    from fairio_tools.links.state import apply_results, read_state, write_state
    from fairio_tools.links.status import LinkStatus

    try:
        policy = AddressPolicy.allowing(allow_network)
    except ValueError as error:
        raise InputError(str(error), field="--allow-network", hint="e.g. 127.0.0.0/8") from None
    catalogue = load_catalogue(directory)
    if catalogue.errors:
        click.echo(f"{len(catalogue.errors)} invalid entries not checked (see: fairio catalogue "
                   f"check --catalogue {directory})", err=True)  # fmt: skip
    chosen = {path.stem for path in only}
    entries = [e for e in catalogue.entries if not only or e.id in chosen]
    users = links_by_url(entries, doi_resolver)
    previous = read_state(state_path)
    settings = CheckSettings(
        per_host=per_host,
        timeout=timeout,
        url_deadline=url_deadline,
        run_deadline=run_deadline,
        policy=policy,
    )
    with _progress(len(users)) as advance:
        results = run_check(
            users, {url: rec.known for url, rec in previous.items()}, settings, advance
        )
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    outcome = apply_results(
        previous, results, today, deprecate_after, keep=previous if only else None
    )
    write_state(outcome.state, state_path)
    if markdown_path is not None:
        report = curator_report(outcome.state, catalogue.entries, doi_resolver=doi_resolver)
        write_text_atomic(markdown_path, report)
    counts: dict[str, int] = {}
    for result in results:
        counts[str(result.status)] = counts.get(str(result.status), 0) + 1
    if history_path is not None:
        from fairio_tools.links.history import Run, add_run

        add_run(history_path, Run(today, counts))
    if issue_path is not None:
        from fairio_tools.links.issue import curator_issue

        issue = curator_issue(outcome, results, catalogue.entries, previous=previous,
                              today=today, doi_resolver=doi_resolver)  # fmt: skip
        write_json(issue, issue_path)
    deprecated = deprecated_entry_ids(catalogue.entries, outcome.state, doi_resolver)
    write_json(
        {
            "checked": len(results),
            "counts": dict(sorted(counts.items())),
            "changed": outcome.changed,
            "newly_failing": outcome.newly_failing,
            "recovered": outcome.recovered,
            "newly_deprecated": outcome.newly_deprecated,
            "deprecated_entries": deprecated,
            "results": [{**r.to_dict(), "entries": users[r.url]} for r in results],
        },
        json_path,
    )
    failing = sum(1 for r in results if r.status.is_failure)
    late = counts.get(str(LinkStatus.NOT_CHECKED), 0)
    unfinished = f", {late} not checked (run deadline reached)" if late else ""
    click.echo(
        f"{len(results)} links checked: {failing} failing, {len(outcome.changed)} changed, "
        f"{len(outcome.newly_deprecated)} newly deprecated{unfinished}; state in {state_path}",
        err=True,
    )
    if failing:
        click.get_current_context().exit(exit_codes.INVALID)


@group.command("report")
@catalogue_option
@state_option
@doi_resolver_option
@options.option(
    "--output",
    "-o",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown page here instead of standard output.",
)
@options.aliased("--out", dest="output_path")
def report_command(
    directory: Path, state_path: Path, doi_resolver: str, output_path: Path | None
) -> None:
    """Write the curator report (broken, moved, changed and deprecated materials with dates)
    from the state file, without checking anything (no state file: nothing checked yet)."""
    from fairio_tools import extras

    extras.require("links", "fairio links report")
    from fairio_tools.catalogue.store import load_catalogue
    from fairio_tools.links.report import curator_report
    from fairio_tools.links.state import read_state

    catalogue = load_catalogue(directory)
    page = curator_report(read_state(state_path), catalogue.entries, doi_resolver=doi_resolver)
    if output_path is None:
        click.echo(page, nl=False)
    else:
        output_path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(output_path, page)


class _progress:
    """A rich progress bar on an interactive stderr; silence in Galaxy and CI logs."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar = None

    def __enter__(self):
        if not sys.stderr.isatty():
            return lambda _result: None
        from rich.progress import Progress

        self.bar = Progress(transient=True)
        self.bar.start()
        task = self.bar.add_task("checking links", total=self.total)
        return lambda _result: self.bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
