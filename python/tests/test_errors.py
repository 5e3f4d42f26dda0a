"""Bad input gives the named exception with the server's message, naming
what was wrong; on both kinds of cluster."""

from __future__ import annotations

import socket

import pytest

import ballista
from ballista import col


def test_bad_sql_is_a_plan_error(cluster: ballista.BallistaContext) -> None:
    with pytest.raises(ballista.PlanError) as e:
        cluster.sql("SELEC 1").to_arrow()
    assert "SELEC" in e.value.message
    assert e.value.code == "INVALID_ARGUMENT"


def test_unknown_column_names_it_and_the_valid_ones(cluster: ballista.BallistaContext) -> None:
    with pytest.raises(ballista.PlanError) as e:
        cluster.table("region").select(col("r_nope")).to_arrow()
    assert "r_nope" in e.value.message
    assert "r_name" in e.value.message  # the valid columns are listed


def test_unknown_table_is_named(cluster: ballista.BallistaContext) -> None:
    with pytest.raises(ballista.PlanError) as e:
        cluster.table("no_such_table").to_arrow()
    assert "no_such_table" in e.value.message


def test_missing_file_is_named(cluster: ballista.BallistaContext, tmp_path: object) -> None:
    path = f"{tmp_path}/missing.parquet"
    with pytest.raises(ballista.BallistaError) as e:
        cluster.read_parquet(path).to_arrow()
    assert isinstance(e.value, (ballista.PlanError, ballista.NotFoundError))
    assert "missing.parquet" in e.value.message


def test_registering_a_missing_file(cluster: ballista.BallistaContext, tmp_path: object) -> None:
    with pytest.raises(ballista.BallistaError) as e:
        cluster.register_parquet("ghost", f"{tmp_path}/ghost")
        cluster.table("ghost").to_arrow()
    assert isinstance(e.value, (ballista.PlanError, ballista.NotFoundError))
    assert "ghost" in e.value.message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_unreachable_scheduler_is_unavailable() -> None:
    url = f"grpc://127.0.0.1:{free_port()}"
    with pytest.raises(ballista.UnavailableError) as e:
        ballista.connect(url)
    assert url in e.value.message
    assert isinstance(e.value, ConnectionError)


def test_unsupported_url_scheme() -> None:
    with pytest.raises(ballista.BallistaError, match="grpc://"):
        ballista.connect("http://127.0.0.1:1")


def test_builder_errors_need_no_cluster() -> None:
    df = ballista.DataFrame.read_table("t")
    with pytest.raises(ballista.PlanError, match="unknown join type"):
        df.join(df, on="k", how="sideways")
    with pytest.raises(ballista.PlanError, match="over"):
        col("x").over()
    with pytest.raises(ballista.PlanError, match="aggregate"):
        col("x").filter(col("y"))
    with pytest.raises(ballista.BallistaError, match="without a context"):
        df.to_arrow()
    with pytest.raises(TypeError, match="truth value"):
        bool(col("x") > 1)


def test_embedded_cluster_needs_an_executor() -> None:
    with pytest.raises(ballista.BallistaError, match="at least 1 executor"):
        ballista.standalone(executors=0)
