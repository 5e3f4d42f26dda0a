//! What the scheduler's test files share.

use ballista_proto::v1 as pb;
use ballista_scheduler::session::Catalog;

/// A catalog with the Parquet files in `dir` registered as table `t`.
pub async fn catalog_over(dir: &std::path::Path) -> Catalog {
    let catalog = Catalog::new();
    catalog
        .register_table(&pb::RegisterTable {
            table: Some(pb::TableReference {
                catalog: None,
                schema: None,
                table: "t".to_string(),
            }),
            source: Some(pb::ReadFiles {
                format: pb::FileFormat::Parquet as i32,
                paths: vec![dir.to_str().unwrap().to_string()],
                options: vec![],
                schema: None,
            }),
            replace: false,
        })
        .await
        .unwrap();
    catalog
}
