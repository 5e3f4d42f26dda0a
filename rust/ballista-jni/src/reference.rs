//! `dev.ballista.client.embedded.NativeReference` (a class of the Java
//! tests): single-process DataFusion for reference answers.
//!
//! The Java tests compare what a Ballista cluster returns with what plain
//! DataFusion returns for the same SQL over the same files. The JVM has no
//! DataFusion of its own, so it asks this library: the result comes back as
//! an Arrow IPC stream, which Arrow Java reads, so both answers are compared
//! as Arrow Java values by the same code.

use std::path::Path;

use arrow::ipc::writer::StreamWriter;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use jni::JNIEnv;
use jni::objects::{JClass, JObjectArray, JString};
use jni::sys::jbyteArray;

use crate::runtime;
use crate::throw::{Failure, guard};

/// `static native byte[] runSql(String tablesDir, String[] statements)`:
/// registers every subdirectory of `tablesDir` as a Parquet table of that
/// name, runs the statements in order on one DataFusion session (2 target
/// partitions, as the Rust end-to-end tests' reference) and returns the
/// rows of the last one as an Arrow IPC stream.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "system" fn Java_dev_ballista_client_embedded_NativeReference_runSql(
    mut env: JNIEnv<'_>,
    _class: JClass<'_>,
    tables_dir: JString<'_>,
    statements: JObjectArray<'_>,
) -> jbyteArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let dir: String = env.get_string(&tables_dir)?.into();
        let mut sql = Vec::new();
        for i in 0..env.get_array_length(&statements)? {
            let s = JString::from(env.get_object_array_element(&statements, i)?);
            sql.push(String::from(env.get_string(&s)?));
        }
        let bytes = runtime().block_on(run(Path::new(&dir), &sql))?;
        Ok(env.byte_array_from_slice(&bytes)?.into_raw())
    })
}

async fn run(dir: &Path, statements: &[String]) -> Result<Vec<u8>, Failure> {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure(format!("Not found: cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Failure(format!("Not found: {}: {e}", dir.display())))?
            .path();
        let (Some(name), true) = (path.file_name().and_then(|n| n.to_str()), path.is_dir()) else {
            continue;
        };
        let location = path
            .to_str()
            .ok_or_else(|| Failure(format!("Invalid argument: {} is not UTF-8", path.display())))?;
        ctx.register_parquet(name, location, ParquetReadOptions::default())
            .await?;
    }
    let mut last = None;
    for statement in statements {
        let df = ctx.sql(statement).await?;
        let schema = std::sync::Arc::clone(df.schema().inner());
        last = Some((schema, df.collect().await?));
    }
    let (schema, batches) =
        last.ok_or_else(|| Failure("Invalid argument: no SQL statement given".to_string()))?;
    let mut out = Vec::new();
    {
        let mut writer = StreamWriter::try_new(&mut out, &schema)?;
        for batch in &batches {
            writer.write(batch)?;
        }
        writer.finish()?;
    }
    Ok(out)
}
