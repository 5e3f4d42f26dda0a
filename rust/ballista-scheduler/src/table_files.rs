//! Checks, when a job is submitted, that the files its tables name still
//! exist.
//!
//! DataFusion lists a file table's paths each time it plans a scan, and a
//! path that names a single file it cannot find is retried as a prefix
//! (`ListingTableUrl::list_prefixed_files`): a registered file deleted since
//! then becomes an empty listing, and the query silently returns no rows.
//! The scheduler asks the object store itself first and fails such a job
//! with `NotFound`, naming the table and the path.
//!
//! Files deleted from a directory that still holds others are not errors:
//! the table reads the directory as it is, as DataFusion and Spark do.

use std::sync::Arc;

use ballista_core::{BallistaError, Result};
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::listing::{ListingTable, ListingTableUrl};
use datafusion::datasource::source_as_provider;
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::LogicalPlan;
use datafusion::object_store::{self, ObjectStore, ObjectStoreExt};
use futures::StreamExt;

/// Fails with `NotFound` when a file table scanned by `plan` names a path
/// that no longer exists: a single file (or prefix) with no object left, or
/// a local directory that is gone.
pub async fn check_table_files(plan: &LogicalPlan, runtime: &RuntimeEnv) -> Result<()> {
    let mut tables: Vec<(String, Arc<dyn TableProvider>)> = Vec::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
        {
            tables.push((scan.table_name.to_string(), provider));
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    for (name, provider) in &tables {
        let Some(listing) = provider.downcast_ref::<ListingTable>() else {
            continue;
        };
        for url in listing.table_paths() {
            if !exists(url, runtime).await? {
                return Err(BallistaError::NotFound(format!(
                    "table `{name}` reads {url}, which does not exist any more (deleted or \
                     moved since the table was registered?)"
                )));
            }
        }
    }
    Ok(())
}

/// Whether DataFusion would find anything at `url`.
async fn exists(url: &ListingTableUrl, runtime: &RuntimeEnv) -> Result<bool> {
    if url.is_collection() {
        // A directory. Object stores cannot tell an empty prefix from a
        // missing one; the local file system can.
        return Ok(match url.get_url().to_file_path() {
            Ok(path) if url.get_url().scheme() == "file" => path.is_dir(),
            _ => true,
        });
    }
    let store = runtime.object_store(url.object_store())?;
    match store.head(url.prefix()).await {
        Ok(_) => Ok(true),
        // As DataFusion does: a path that is not an object may be a prefix.
        Err(object_store::Error::NotFound { .. }) => Ok(has_objects(store.as_ref(), url).await?),
        Err(e) => Err(DataFusionError::ObjectStore(Box::new(e)).into()),
    }
}

async fn has_objects(store: &dyn ObjectStore, url: &ListingTableUrl) -> Result<bool> {
    match store.list(Some(url.prefix())).next().await {
        None => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(object_store::Error::NotFound { .. })) => Ok(false),
        Some(Err(e)) => Err(BallistaError::DataFusion(DataFusionError::ObjectStore(
            Box::new(e),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::{CsvReadOptions, SessionContext};

    use super::*;

    async fn check(ctx: &SessionContext, sql: &str) -> Result<()> {
        let plan = ctx.sql(sql).await?.into_optimized_plan()?;
        check_table_files(&plan, &ctx.runtime_env()).await
    }

    #[tokio::test]
    async fn a_deleted_file_is_not_found_not_an_empty_table() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.csv");
        std::fs::write(&file, "a,b\n1,2\n").unwrap();
        let ctx = SessionContext::new();
        ctx.register_csv("t", file.to_str().unwrap(), CsvReadOptions::new())
            .await
            .unwrap();
        check(&ctx, "SELECT a FROM t").await.unwrap();

        std::fs::remove_file(&file).unwrap();
        // What DataFusion does on its own: no error, no rows.
        let rows = ctx.sql("SELECT a FROM t").await.unwrap().collect().await;
        assert_eq!(rows.unwrap().iter().map(|b| b.num_rows()).sum::<usize>(), 0);
        // Also inside a subquery.
        for sql in ["SELECT a FROM t", "SELECT 1 WHERE EXISTS (SELECT a FROM t)"] {
            let err = check(&ctx, sql).await.unwrap_err();
            assert!(matches!(err, BallistaError::NotFound(_)), "{err}");
            let text = err.to_string();
            assert!(text.contains("table `t`"), "{text}");
            assert!(text.contains(file.to_str().unwrap()), "{text}");
        }
    }

    #[tokio::test]
    async fn directories_may_shrink_or_empty_but_not_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("t");
        std::fs::create_dir(&table).unwrap();
        for i in 0..2 {
            std::fs::write(table.join(format!("{i}.csv")), "a\n1\n").unwrap();
        }
        let ctx = SessionContext::new();
        let path = format!("{}/", table.display());
        ctx.register_csv("t", &path, CsvReadOptions::new())
            .await
            .unwrap();
        std::fs::remove_file(table.join("0.csv")).unwrap();
        check(&ctx, "SELECT a FROM t").await.unwrap();
        std::fs::remove_file(table.join("1.csv")).unwrap();
        check(&ctx, "SELECT a FROM t").await.unwrap();

        std::fs::remove_dir(&table).unwrap();
        let err = check(&ctx, "SELECT a FROM t").await.unwrap_err();
        assert!(matches!(err, BallistaError::NotFound(_)), "{err}");
        assert!(err.to_string().contains(&path), "{err}");
    }
}
