//! Splitting Parquet scans into partitions of about equal work.
//!
//! DataFusion splits a scan's files into `target_partitions` byte ranges of
//! equal size (`repartition_file_scans`), and its Parquet reader reads a
//! row group in the range where the row group's first page starts. When
//! row groups are large next to the ranges, the split is uneven. Four TPC-H
//! SF 1 `orders` files of one row group each become three row groups in
//! partition 0 and one in partition 1. Four `lineitem` files of a 1 M-row
//! and a 0.5 M-row group each become 4 M rows against 2 M.
//!
//! In one process that costs little: DataFusion's partitions of a scan
//! share their files, and one that runs out takes the next file from
//! another. Here each partition is a task in a slot (often a process) of
//! its own, nobody shares, and the stage waits for its longest task: TPC-H
//! Q1 at SF 1 took 302 ms in one task and 164 ms in the other.
//!
//! So once DataFusion has planned a query, [`balance_scans`] reads the
//! footers of the files each Parquet scan reads. Footers come from the
//! runtime's file metadata cache, where DataFusion also keeps them, so a
//! table's footers are read once, several files at a time. It then cuts the row groups, in file
//! order, into as many runs as the scan has partitions, of about equal
//! rows. Each run is a list of byte ranges that start where row groups
//! start. The partition count stays the same, so nothing downstream
//! changes; only which rows each partition reads.
//!
//! A scan is left as DataFusion planned it when:
//! - it is not Parquet;
//! - it must keep an order;
//! - a footer can't be read (the scan's own error will say why when it
//!   runs);
//! - its ranges don't cover whole files;
//! - the new split would not shorten its largest partition.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ballista_core::Result;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::object_store::path::Path;
use datafusion::parquet::file::metadata::{ParquetMetaData, RowGroupMetaData};
use datafusion::physical_plan::ExecutionPlan;
use futures::StreamExt;

/// `plan` with every Parquet scan's row groups spread evenly over its
/// partitions (see the module documentation).
pub async fn balance_scans(
    plan: Arc<dyn ExecutionPlan>,
    runtime: &RuntimeEnv,
) -> Result<Arc<dyn ExecutionPlan>> {
    let footers = read_footers(&plan, runtime).await;
    if footers.is_empty() {
        return Ok(plan);
    }
    let balanced = plan.transform_up(|node| {
        let Some(config) = parquet_scan(&node) else {
            return Ok(Transformed::no(node));
        };
        match rebalanced(config, &footers) {
            Some(groups) => {
                let config = FileScanConfigBuilder::from(config.clone())
                    .with_file_groups(groups)
                    .build();
                let scan: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(config);
                Ok(Transformed::yes(scan))
            }
            None => Ok(Transformed::no(node)),
        }
    })?;
    Ok(balanced.data)
}

/// The file scan config of `node` when it is a Parquet scan over more than
/// one partition that may be split freely.
fn parquet_scan(node: &Arc<dyn ExecutionPlan>) -> Option<&FileScanConfig> {
    let config = node
        .downcast_ref::<DataSourceExec>()?
        .data_source()
        .downcast_ref::<FileScanConfig>()?;
    let free = config.file_source().file_type() == "parquet"
        && config.file_groups.len() > 1
        && config.output_ordering.is_empty()
        && !config.preserve_order;
    free.then_some(config)
}

/// The footers of the files of every Parquet scan in `plan`. A footer that
/// can't be read is left out, which leaves its scan as it was.
async fn read_footers(
    plan: &Arc<dyn ExecutionPlan>,
    runtime: &RuntimeEnv,
) -> HashMap<Path, Arc<ParquetMetaData>> {
    let mut wanted: Vec<(ObjectStoreUrl, PartitionedFile)> = Vec::new();
    let _ = plan.apply(|node| {
        if let Some(config) = parquet_scan(node) {
            for file in config.file_groups.iter().flat_map(|g| g.iter()) {
                wanted.push((config.object_store_url.clone(), file.clone()));
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    // Each file once, even when a scan reads it in several ranges or
    // several scans read it.
    let mut seen = HashSet::new();
    wanted.retain(|(_, file)| seen.insert(file.object_meta.location.clone()));
    let cache = runtime.cache_manager.get_file_metadata_cache();
    // Uncached footers on a remote store cost a round trip each: a few at
    // a time.
    futures::stream::iter(wanted)
        .map(|(url, file)| {
            let cache = Arc::clone(&cache);
            async move {
                let store = runtime.object_store(&url).ok()?;
                let location = file.object_meta.location.clone();
                let footer = DFParquetMetadata::new(store.as_ref(), &file.object_meta)
                    .with_metadata_size_hint(file.metadata_size_hint)
                    .with_file_metadata_cache(Some(cache))
                    .fetch_metadata()
                    .await;
                match footer {
                    Ok(footer) => Some((location, footer)),
                    Err(e) => {
                        tracing::debug!("no footer for {location}, its scan keeps its split: {e}");
                        None
                    }
                }
            }
        })
        .buffer_unordered(FOOTERS_AT_ONCE)
        .filter_map(futures::future::ready)
        .collect()
        .await
}

/// How many footers are read at once.
const FOOTERS_AT_ONCE: usize = 16;

/// One row group of a scan: its file (index into the scan's files), where
/// it starts, and its rows.
#[derive(Debug, Clone, Copy)]
struct RowGroup {
    file: usize,
    start: i64,
    rows: u64,
}

/// New file groups for `config`, or `None` when it stays as it is.
fn rebalanced(
    config: &FileScanConfig,
    footers: &HashMap<Path, Arc<ParquetMetaData>>,
) -> Option<Vec<FileGroup>> {
    let partitions = config.file_groups.len();
    // The scan's files in order, each once, with the partition each row
    // group is read in today.
    let mut files: Vec<&PartitionedFile> = Vec::new();
    let mut covered: HashMap<&Path, Vec<(i64, i64)>> = HashMap::new();
    for file in config.file_groups.iter().flat_map(|g| g.iter()) {
        let location = &file.object_meta.location;
        let size = file.object_meta.size as i64;
        let range = file.range.as_ref().map_or((0, size), |r| (r.start, r.end));
        let ranges = covered.entry(location).or_default();
        if ranges.is_empty() {
            files.push(file);
        }
        ranges.push(range);
    }
    let mut row_groups = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let footer = footers.get(&file.object_meta.location)?;
        if !covers_whole_file(&covered[&file.object_meta.location], file.object_meta.size) {
            return None;
        }
        for group in footer.row_groups() {
            row_groups.push(RowGroup {
                file: index,
                start: first_page(group),
                rows: rows_of(group),
            });
        }
    }
    let today = current_rows(config, footers);
    let split = even_split(&row_groups, partitions);
    let mut proposed = vec![0u64; partitions];
    for (group, &p) in row_groups.iter().zip(&split) {
        proposed[p] += group.rows;
    }
    if proposed.iter().max() >= today.iter().max() {
        return None;
    }
    Some(file_groups(&files, &row_groups, &split, partitions))
}

/// Where a row group's first page starts: the offset DataFusion's Parquet
/// reader tests against a file range to decide which range reads it.
fn first_page(group: &RowGroupMetaData) -> i64 {
    let column = group.column(0);
    column
        .dictionary_page_offset()
        .unwrap_or_else(|| column.data_page_offset())
}

/// Whether `ranges` together cover `0..size` (DataFusion's split yields
/// adjacent ranges; anything else was chosen by someone who meant it).
fn covers_whole_file(ranges: &[(i64, i64)], size: u64) -> bool {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut end = 0;
    for (s, e) in sorted {
        if s > end {
            return false;
        }
        end = end.max(e);
    }
    end >= size as i64
}

/// The rows each partition of `config` reads as planned: a row group is
/// read by the range its first page is in.
fn current_rows(
    config: &FileScanConfig,
    footers: &HashMap<Path, Arc<ParquetMetaData>>,
) -> Vec<u64> {
    let rows_in = |file: &PartitionedFile| {
        footers.get(&file.object_meta.location).map_or(0, |footer| {
            footer
                .row_groups()
                .iter()
                .filter(|g| {
                    file.range
                        .as_ref()
                        .is_none_or(|r| r.contains(first_page(g)))
                })
                .map(rows_of)
                .sum::<u64>()
        })
    };
    config
        .file_groups
        .iter()
        .map(|group| group.iter().map(rows_in).sum())
        .collect()
}

/// A row group's rows.
fn rows_of(group: &RowGroupMetaData) -> u64 {
    group.num_rows().max(0) as u64
}

/// The partition of each row group: contiguous runs, a row group going to
/// the partition its middle row falls in when rows are shared out evenly.
fn even_split(row_groups: &[RowGroup], partitions: usize) -> Vec<usize> {
    let total: u64 = row_groups.iter().map(|g| g.rows).sum();
    let mut before = 0u64;
    row_groups
        .iter()
        .map(|g| {
            let middle = before as f64 + g.rows as f64 / 2.0;
            before += g.rows;
            if total == 0 {
                return 0;
            }
            ((middle * partitions as f64 / total as f64) as usize).min(partitions - 1)
        })
        .collect()
}

/// The file groups that read `row_groups` in the partitions of `split`:
/// a run of one file's row groups is one byte range, from the run's first
/// row group to the next row group's start (or the file's end). A file read
/// whole keeps no range.
fn file_groups(
    files: &[&PartitionedFile],
    row_groups: &[RowGroup],
    split: &[usize],
    partitions: usize,
) -> Vec<FileGroup> {
    let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); partitions];
    let mut placed = vec![false; files.len()];
    let mut i = 0;
    while i < row_groups.len() {
        let (file, partition) = (row_groups[i].file, split[i]);
        let mut j = i;
        while j + 1 < row_groups.len()
            && row_groups[j + 1].file == file
            && split[j + 1] == partition
        {
            j += 1;
        }
        let size = files[file].object_meta.size as i64;
        let first_of_file = i == 0 || row_groups[i - 1].file != file;
        let last_of_file = j + 1 == row_groups.len() || row_groups[j + 1].file != file;
        let start = if first_of_file {
            0
        } else {
            row_groups[i].start
        };
        let end = if last_of_file {
            size
        } else {
            row_groups[j + 1].start
        };
        let mut part = (*files[file]).clone();
        part.range = None;
        if !(first_of_file && last_of_file) {
            part = part.with_range(start, end);
        }
        groups[partition].push(part);
        placed[file] = true;
        i = j + 1;
    }
    // Files without row groups still belong to the scan (their schema is
    // the table's); they read nothing, wherever they go.
    for (file, _) in files.iter().zip(placed).filter(|(_, placed)| !placed) {
        let mut part = (*file).clone();
        part.range = None;
        groups[0].push(part);
    }
    groups.into_iter().map(FileGroup::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(rows: &[(usize, u64)]) -> Vec<RowGroup> {
        rows.iter()
            .enumerate()
            .map(|(i, &(file, rows))| RowGroup {
                file,
                start: 4 + i as i64 * 100,
                rows,
            })
            .collect()
    }

    #[test]
    fn uneven_row_groups_split_into_equal_rows() {
        // TPC-H SF 1 lineitem: four files of a 1 M- and a 0.5 M-row group.
        let lineitem = groups(&[
            (0, 10),
            (0, 5),
            (1, 10),
            (1, 5),
            (2, 10),
            (2, 5),
            (3, 10),
            (3, 5),
        ]);
        assert_eq!(even_split(&lineitem, 2), vec![0, 0, 0, 0, 1, 1, 1, 1]);
        // Four files of one row group each, over 2 and 3 partitions.
        let orders = groups(&[(0, 4), (1, 4), (2, 4), (3, 4)]);
        assert_eq!(even_split(&orders, 2), vec![0, 0, 1, 1]);
        assert_eq!(even_split(&orders, 3), vec![0, 1, 1, 2]);
        // One row group can't be split; more partitions than row groups
        // leave some empty.
        assert_eq!(even_split(&groups(&[(0, 7)]), 2), vec![1]);
        assert_eq!(even_split(&groups(&[(0, 0), (1, 0)]), 2), vec![0, 0]);
    }

    #[test]
    fn whole_files_need_whole_coverage() {
        assert!(covers_whole_file(&[(0, 100)], 100));
        assert!(covers_whole_file(&[(50, 100), (0, 50)], 100));
        assert!(!covers_whole_file(&[(0, 40), (50, 100)], 100));
        assert!(!covers_whole_file(&[(0, 60)], 100));
    }
}
