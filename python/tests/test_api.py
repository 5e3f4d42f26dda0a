"""The DataFrame API end to end on the embedded cluster: conversions,
streaming, display, catalog, joins and set operations, lifecycle."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as flight
import pytest

import ballista
from ballista import DataFrame, col, lit
from ballista import functions as F

TABLES = Path(__file__).resolve().parents[2] / "integration" / "conformance" / "tables"


def test_conversions_agree(embedded: ballista.BallistaContext) -> None:
    df = embedded.table("nation").select("n_nationkey", "n_name").sort("n_nationkey")
    table = df.to_arrow()
    assert table.num_rows == 25
    assert table.column("n_nationkey").to_pylist() == list(range(25))
    assert df.to_pandas()["n_name"].tolist() == table.column("n_name").to_pylist()
    polars = pytest.importorskip("polars")
    pl = df.to_polars()
    assert isinstance(pl, polars.DataFrame)
    assert pl["n_name"].to_list() == table.column("n_name").to_pylist()
    assert df.count() == 25
    assert df.schema().names == ["n_nationkey", "n_name"]


def test_to_batches_streams_every_partition(embedded: ballista.BallistaContext) -> None:
    df = embedded.table("lineitem").select("l_orderkey")
    batches = list(df.to_batches())
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    assert sum(b.num_rows for b in batches) == df.count() == df.to_arrow().num_rows


def test_to_batches_can_stop_early(embedded: ballista.BallistaContext) -> None:
    stream = embedded.table("lineitem").to_batches()
    first = next(iter(stream))
    assert first.num_rows > 0
    stream.close()  # type: ignore[attr-defined]


def test_results_on_this_host_are_read_from_their_files(
    embedded: ballista.BallistaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ballista._flight import Transport

    df = embedded.table("lineitem").filter(col("l_quantity") > 10).select("l_orderkey", "l_comment")
    info = embedded._run(embedded._query(plan=df._plan))
    assert len(info.endpoints) > 1
    over_flight = Transport(embedded.scheduler_url, local_reads=False)
    try:
        expected = over_flight.fetch_all(info)
        streamed = pa.Table.from_batches(list(over_flight.stream(info)), info.schema)
    finally:
        over_flight.close()

    # The embedded executors are on loopback: no DoGet may be made.
    def no_flight(*_: object) -> None:
        raise AssertionError("fetched over Flight although the result files are on this host")

    monkeypatch.setattr(Transport, "_open", no_flight)
    local = embedded._transport.fetch_all(info)
    local_streamed = pa.Table.from_batches(list(embedded._transport.stream(info)), info.schema)
    assert expected.num_rows > 0
    assert local.equals(expected)
    assert local_streamed.equals(streamed)
    assert local.equals(local_streamed)


def test_fetched_results_are_released(
    embedded: ballista.BallistaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from ballista import proto
    from ballista._flight import Transport

    infos: list[flight.FlightInfo] = []
    execute = Transport.execute

    def capture(self: Transport, query: object) -> flight.FlightInfo:
        infos.append(execute(self, query))
        return infos[-1]

    monkeypatch.setattr(Transport, "execute", capture)
    df = embedded.table("orders").filter(col("o_totalprice") > 1000).select("o_orderkey")
    for fetch in (df.to_arrow, lambda: pa.Table.from_batches(list(df.to_batches()))):
        table = fetch()
        assert table.num_rows > 0  # the tables stay valid after the release
        info = infos[-1]
        paths = [proto.FetchPartition.FromString(e.ticket.ticket).path for e in info.endpoints]
        job_id = proto.FetchPartition.FromString(info.endpoints[0].ticket.ticket).job_id
        deadline = time.monotonic() + 10
        while any(os.path.exists(p) for p in paths) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(os.path.exists(p) for p in paths), paths
        assert table.column("o_orderkey").to_pylist() == fetch().column("o_orderkey").to_pylist()
        assert job_id in [j.job_id for j in embedded.list_jobs()]  # still listed
        # The scheduler's relay of a result partition now says why it is gone.
        relay = flight.FlightClient(embedded.scheduler_url)
        with pytest.raises(ballista.BallistaError, match="released"):
            embedded._transport._call(lambda: relay.do_get(info.endpoints[0].ticket).read_all())


def test_show_explain_and_html(
    embedded: ballista.BallistaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    df = embedded.table("region").select("r_regionkey", "r_name").sort("r_regionkey")
    df.show(3)
    out = capsys.readouterr().out
    assert "| r_regionkey | r_name" in out and "AFRICA" in out
    assert "only the first 3 rows are shown" in out
    df.explain()
    out = capsys.readouterr().out
    assert "== Physical plan ==" in out and "Stage" in out
    html = df._repr_html_()
    assert html.startswith("<table>") and "<th>r_name</th>" in html and "AMERICA" in html
    assert "region" not in repr(df) or "DataFrame" in repr(df)


def test_dataframe_operations(embedded: ballista.BallistaContext) -> None:
    nation = embedded.table("nation")
    region = embedded.table("region")
    joined = (
        nation.join(region, left_on="n_regionkey", right_on="r_regionkey", how="inner")
        .group_by("r_name")
        .agg(F.count_all().alias("n"))
        .sort("r_name")
    )
    assert joined.to_arrow().to_pydict() == {
        "r_name": ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"],
        "n": [5, 5, 5, 5, 5],
    }
    keys = nation.select("n_regionkey")
    assert keys.distinct().count() == 5
    assert keys.union(keys).count() == 5  # SQL UNION: distinct
    assert keys.union_all(keys).count() == 50
    wide = nation.with_column("twice", col("n_nationkey") * 2).filter(col("twice") > 40)
    assert sorted(wide.select("twice").to_arrow().column(0).to_pylist()) == [42, 44, 46, 48]
    page = nation.sort(col("n_nationkey").desc()).limit(3, offset=1).select("n_nationkey")
    assert page.to_arrow().column(0).to_pylist() == [23, 22, 21]
    using = nation.alias("n").join(
        region.with_column_renamed("r_regionkey", "n_regionkey").alias("r"), on="n_regionkey"
    )
    assert using.count() == 25
    assert "n_regionkey" in using.schema().names


def test_csv_registration_and_reads(embedded: ballista.BallistaContext) -> None:
    embedded.register_csv("conf_people", str(TABLES / "people.csv"), has_header=True)
    assert embedded.table("conf_people").count() == embedded.read_csv(
        str(TABLES / "people.csv"), has_header=True
    ).count()
    embedded.deregister_table("conf_people")
    with pytest.raises(ballista.PlanError, match="conf_people"):
        embedded.table("conf_people").to_arrow()


def test_sql_ddl_runs_at_once(embedded: ballista.BallistaContext) -> None:
    embedded.sql("CREATE VIEW py_small_nations AS SELECT * FROM nation WHERE n_nationkey < 3")
    assert embedded.table("py_small_nations").count() == 3
    embedded.sql("DROP VIEW py_small_nations")


def test_values_and_literals(embedded: ballista.BallistaContext) -> None:
    df = embedded.values([[1, "a"], [2, None]], ["n", "s"]).select(
        (col("n") + lit(0.5)).alias("x"), F.coalesce(col("s"), "?").alias("s")
    )
    assert df.to_arrow().to_pydict() == {"x": [1.5, 2.5], "s": ["a", "?"]}


def test_plan_is_the_canonical_message() -> None:
    df = DataFrame.read_table("t").filter(col("x") > 5)
    plan = df.plan()
    assert plan.DESCRIPTOR.full_name == "ballista.v1.Relation"
    assert ballista.proto.Relation.FromString(plan.SerializeToString()) == plan
    plan.filter.input.read_table.table.table = "changed"  # a copy: the DataFrame is unchanged
    assert df.plan().filter.input.read_table.table.table == "t"


def test_context_manager_stops_the_embedded_cluster() -> None:
    with ballista.standalone(executors=1, progress=False) as ctx:
        cluster = ctx.cluster
        assert cluster is not None and cluster.running
        url = ctx.scheduler_url
        with ballista.connect(url, progress=False) as other:
            assert other.sql("SELECT 41 + 1 AS x").to_arrow().column(0).to_pylist() == [42]
    assert not cluster.running
    with pytest.raises(ballista.UnavailableError):
        ballista.connect(url)


def test_fresh_interpreter_starts_and_stops_a_cluster() -> None:
    # The acceptance one-liner, in a process of its own: no binary on PATH,
    # no set-up, and the interpreter exits (clusters stop at exit).
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    out = subprocess.run(
        [sys.executable, "-c", "import ballista; ctx = ballista.standalone(); print(ctx.sql('SELECT 1 AS one').to_arrow().column(0)[0])"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tempfile.gettempdir(),  # not python/, whose source tree would shadow the wheel
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_progress_bar_shows_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    from ballista import _progress

    assert _progress.wanted(False) is False
    assert _progress.wanted(True) is True  # tqdm is a test dependency
    # Not a TTY under pytest: off by default.
    assert _progress.wanted(None) is False


def test_native_stubs_match_the_module() -> None:
    # The config tells mypy that pyarrow and protobuf ship no types.
    config = Path(__file__).resolve().parents[1] / "pyproject.toml"
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "ballista._native", "--mypy-config-file", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        # Not python/: there `-m` would import the source tree, not the wheel.
        cwd=tempfile.gettempdir(),
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_public_api_type_checks() -> None:
    # mypy --strict over the package (configured in pyproject.toml).
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-m", "mypy"], capture_output=True, text=True, timeout=300, cwd=root
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_progress_finds_the_query_by_its_job_name(
    embedded: ballista.BallistaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    # The progress bar finds its job among list_jobs by the unique name each
    # query is sent with; a forced bar with no delay must not disturb the query.
    from ballista import _progress

    delay, interval = _progress.DELAY, _progress.INTERVAL
    _progress.DELAY, _progress.INTERVAL = 0.0, 0.01
    try:
        forced = ballista.connect(embedded.scheduler_url, progress=True)
        n = forced.sql("SELECT count(*) AS n FROM lineitem l JOIN orders o ON l_orderkey = o_orderkey")
        assert n.to_arrow().column(0).to_pylist() == [embedded.table("lineitem").count()]
        forced.close()
    finally:
        _progress.DELAY, _progress.INTERVAL = delay, interval
    jobs = [j for j in embedded.list_jobs() if j.job_name.startswith("python-")]
    assert jobs, "queries are sent with a python-<uuid> job name"
    done = jobs[0].progress
    assert done.tasks_total > 0 and done.tasks_done == done.tasks_total
