//! The executor's Flight surface answers bad requests with the right gRPC
//! status and a message naming what was wrong. Checked with a plain
//! arrow-flight client, so the status codes are the ones on the wire.

use arrow_flight::error::FlightError;
use arrow_flight::{Action, FlightClient, FlightData, FlightDescriptor, Ticket};
use ballista_executor::{Executor, ExecutorConfig, ExecutorHandle};
use ballista_flight::actions::{LAUNCH_TASK, REMOVE_JOB_DATA};
use ballista_proto::v1 as pb;
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

use crate::support::{StandInScheduler, TempDir, batches, rows, schema};

async fn executor(scheduler: &StandInScheduler) -> ExecutorHandle {
    Executor::start(ExecutorConfig::new(scheduler.url.clone()))
        .await
        .unwrap()
}

async fn client(handle: &ExecutorHandle) -> FlightClient {
    let channel = Channel::from_shared(format!("http://{}", handle.addr()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    FlightClient::new(channel)
}

fn status(e: FlightError) -> tonic::Status {
    match e {
        FlightError::Tonic(s) => *s,
        other => panic!("expected a gRPC status, got {other}"),
    }
}

async fn action_status(client: &mut FlightClient, kind: &str, body: Vec<u8>) -> tonic::Status {
    match client.do_action(Action::new(kind, body)).await {
        Err(e) => status(e),
        Ok(mut results) => match results.next().await {
            Some(Err(e)) => status(e),
            other => panic!("expected `{kind}` to fail, got {other:?}"),
        },
    }
}

async fn get_status(client: &mut FlightClient, ticket: Vec<u8>) -> tonic::Status {
    match client.do_get(Ticket::new(ticket)).await {
        Err(e) => status(e),
        Ok(stream) => status(stream.try_collect::<Vec<_>>().await.unwrap_err()),
    }
}

fn assert_status(s: &tonic::Status, code: Code, needle: &str) {
    assert_eq!(s.code(), code, "{s:?}");
    assert!(
        s.message().contains(needle),
        "`{needle}` not in {:?}",
        s.message()
    );
}

#[tokio::test]
async fn malformed_launch_task_is_invalid_argument() {
    let scheduler = StandInScheduler::start(1000).await;
    let handle = executor(&scheduler).await;
    let mut c = client(&handle).await;

    let s = action_status(&mut c, LAUNCH_TASK, vec![0xff, 0xff, 0xff]).await;
    assert_status(&s, Code::InvalidArgument, "malformed TaskDefinition");

    let s = action_status(
        &mut c,
        LAUNCH_TASK,
        pb::TaskDefinition::default().encode_to_vec(),
    )
    .await;
    assert_status(&s, Code::InvalidArgument, "TaskDefinition.task_id");

    let no_plan = pb::TaskDefinition {
        task_id: Some(pb::TaskId {
            job_id: "j".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let s = action_status(&mut c, LAUNCH_TASK, no_plan.encode_to_vec()).await;
    assert_status(&s, Code::InvalidArgument, "TaskDefinition.plan");

    let escaping = pb::TaskDefinition {
        task_id: Some(pb::TaskId {
            job_id: "../../home".into(),
            ..Default::default()
        }),
        plan: Some(pb::PhysicalPlanNode::default()),
        ..Default::default()
    };
    let s = action_status(&mut c, LAUNCH_TASK, escaping.encode_to_vec()).await;
    assert_status(&s, Code::InvalidArgument, "TaskDefinition.task_id.job_id");

    let s = action_status(&mut c, REMOVE_JOB_DATA, vec![0x0a, 0x05, b'a']).await;
    assert_status(&s, Code::InvalidArgument, "malformed RemoveJobData");
    let remove = pb::RemoveJobData {
        job_id: "..".into(),
        shuffle_only: false,
    };
    let s = action_status(&mut c, REMOVE_JOB_DATA, remove.encode_to_vec()).await;
    assert_status(&s, Code::InvalidArgument, "RemoveJobData.job_id");

    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn do_get_checks_the_path_and_names_a_missing_partition() {
    let scheduler = StandInScheduler::start(1000).await;
    let handle = executor(&scheduler).await;
    let mut c = client(&handle).await;

    let s = get_status(&mut c, vec![0xff, 0x01]).await;
    assert_status(&s, Code::InvalidArgument, "malformed FetchPartition ticket");

    let outside = TempDir::new("outside");
    std::fs::write(outside.path().join("x.arrow"), b"not yours").unwrap();
    for path in [
        outside.path().join("x.arrow").to_str().unwrap().to_string(),
        format!("{}/../x.arrow", handle.work_dir().display()),
        "relative/0.arrow".to_string(),
    ] {
        let ticket = pb::FetchPartition {
            job_id: "j".into(),
            path,
            ..Default::default()
        };
        let s = get_status(&mut c, ticket.encode_to_vec()).await;
        assert_status(
            &s,
            Code::InvalidArgument,
            "not inside this executor's work directory",
        );
    }

    let missing = pb::FetchPartition {
        job_id: "job-7".into(),
        stage_id: 3,
        map_partition: 1,
        output_partition: 2,
        path: handle
            .work_dir()
            .join("job-7/3/2/1.arrow")
            .to_str()
            .unwrap()
            .into(),
    };
    let s = get_status(&mut c, missing.encode_to_vec()).await;
    assert_status(&s, Code::NotFound, "job job-7, stage 3, map 1, output 2");

    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

/// `DoGet` serves a file's IPC messages without decoding them: a whole
/// file arrives as the same batches, and a file cut short or damaged ends
/// the stream with an error, never as a shorter partition.
#[tokio::test]
async fn do_get_serves_files_whole_and_refuses_damaged_ones() {
    let scheduler = StandInScheduler::start(1000).await;
    let handle = executor(&scheduler).await;
    let mut c = client(&handle).await;

    let dir = handle.work_dir().join("job-raw/1/0");
    std::fs::create_dir_all(&dir).unwrap();
    let whole = dir.join("0.arrow");
    let data = batches(0, 3, 100);
    {
        let options = arrow::ipc::writer::IpcWriteOptions::default()
            .try_with_compression(Some(arrow::ipc::CompressionType::LZ4_FRAME))
            .unwrap();
        let file = std::fs::File::create(&whole).unwrap();
        let mut writer =
            arrow::ipc::writer::StreamWriter::try_new_with_options(file, &schema(), options)
                .unwrap();
        for b in &data {
            writer.write(b).unwrap();
        }
        writer.finish().unwrap();
    }
    let ticket = |path: &std::path::Path| pb::FetchPartition {
        job_id: "job-raw".into(),
        stage_id: 1,
        path: path.to_str().unwrap().into(),
        ..Default::default()
    };
    let got: Vec<_> = c
        .do_get(Ticket::new(ticket(&whole).encode_to_vec()))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows(&got), rows(&data));

    let bytes = std::fs::read(&whole).unwrap();
    // Cut inside the last batch, and cut just before the end-of-stream
    // marker (every batch there, but the writer never finished).
    for (name, cut) in [
        ("mid.arrow", bytes.len() - 40),
        ("noeos.arrow", bytes.len() - 8),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let s = get_status(&mut c, ticket(&path).encode_to_vec()).await;
        assert_eq!(s.code(), Code::Internal, "{name}: {s:?}");
        assert!(
            s.message().contains("cut short") || s.message().contains("end-of-stream"),
            "{name}: {s:?}"
        );
    }
    let garbage = dir.join("garbage.arrow");
    std::fs::write(
        &garbage,
        [0xFF, 0xFF, 0xFF, 0xFF, 16, 0, 0, 0]
            .iter()
            .chain([7u8; 16].iter())
            .copied()
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let s = get_status(&mut c, ticket(&garbage).encode_to_vec()).await;
    assert!(s.message().contains("not an Arrow IPC message"), "{s:?}");

    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn other_methods_are_unimplemented_with_a_message() {
    let scheduler = StandInScheduler::start(1000).await;
    let handle = executor(&scheduler).await;
    let mut c = client(&handle).await;

    let s = action_status(&mut c, "cancel_job", vec![]).await;
    assert_status(&s, Code::Unimplemented, "unknown action `cancel_job`");

    let s = status(
        c.get_flight_info(FlightDescriptor::new_cmd(vec![1, 2]))
            .await
            .unwrap_err(),
    );
    assert_status(&s, Code::Unimplemented, "GetFlightInfo");

    let s = match c
        .do_exchange(futures::stream::empty::<Result<FlightData, FlightError>>())
        .await
    {
        Err(e) => status(e),
        Ok(stream) => status(stream.try_collect::<Vec<_>>().await.unwrap_err()),
    };
    assert_status(&s, Code::Unimplemented, "reserved for UDF workers");

    let actions: Vec<String> = c
        .list_actions()
        .await
        .unwrap()
        .map_ok(|a| a.r#type)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        actions,
        vec![LAUNCH_TASK.to_string(), REMOVE_JOB_DATA.to_string()]
    );

    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}
