//! Views private to a client session, layered over the shared catalog.
//!
//! Tables are the cluster's: every client sees what any client registered.
//! Views are the session's (`ExecuteQuery.session_id`): two clients running
//! TPC-H Q15 at once each create and drop their own `revenue0`. A session
//! with views plans its queries against [`OverlayCatalogList`], which looks
//! names up in the session's views first and in the shared catalog after,
//! and sends every other change (a `CREATE EXTERNAL TABLE` in that session)
//! on to the shared catalog.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemorySchemaProvider, SchemaProvider, TableProvider,
};
use datafusion::error::Result as DfResult;

/// A session's views by (bare) name.
pub type Views = HashMap<String, Arc<dyn TableProvider>>;

#[derive(Debug)]
struct Session {
    views: Arc<Views>,
    last_used: Instant,
}

/// The views of every session, with when each session was last used.
#[derive(Debug, Default)]
pub struct SessionViews {
    sessions: Mutex<HashMap<String, Session>>,
}

impl SessionViews {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The views of `session` (none for an unknown one), marking it used.
    pub fn views(&self, session: &str) -> Arc<Views> {
        let mut sessions = self.lock();
        match sessions.get_mut(session) {
            Some(s) => {
                s.last_used = Instant::now();
                Arc::clone(&s.views)
            }
            None => Arc::default(),
        }
    }

    /// Changes the views of `session` with `f` (creating the session).
    pub fn update<T>(&self, session: &str, f: impl FnOnce(&mut Views) -> T) -> T {
        let mut sessions = self.lock();
        let entry = sessions
            .entry(session.to_string())
            .or_insert_with(|| Session {
                views: Arc::default(),
                last_used: Instant::now(),
            });
        entry.last_used = Instant::now();
        f(Arc::make_mut(&mut entry.views))
    }

    /// Forgets sessions idle for longer than `ttl`; returns how many.
    pub fn expire(&self, ttl: Duration) -> usize {
        let mut sessions = self.lock();
        let before = sessions.len();
        sessions.retain(|_, s| s.last_used.elapsed() <= ttl);
        before - sessions.len()
    }
}

/// The shared catalog list with a session's views added to its default
/// schema.
#[derive(Debug)]
pub struct OverlayCatalogList {
    base: Arc<dyn CatalogProviderList>,
    default_catalog: String,
    default_schema: String,
    views: Arc<Views>,
}

impl OverlayCatalogList {
    /// `views` over `base`, visible in `default_catalog.default_schema`.
    pub fn new(
        base: Arc<dyn CatalogProviderList>,
        default_catalog: &str,
        default_schema: &str,
        views: Arc<Views>,
    ) -> Self {
        Self {
            base,
            default_catalog: default_catalog.to_string(),
            default_schema: default_schema.to_string(),
            views,
        }
    }
}

impl CatalogProviderList for OverlayCatalogList {
    fn register_catalog(
        &self,
        name: String,
        catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        self.base.register_catalog(name, catalog)
    }

    fn catalog_names(&self) -> Vec<String> {
        self.base.catalog_names()
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        let base = self.base.catalog(name)?;
        if name != self.default_catalog {
            return Some(base);
        }
        Some(Arc::new(OverlayCatalog {
            base,
            default_schema: self.default_schema.clone(),
            views: Arc::clone(&self.views),
        }))
    }
}

#[derive(Debug)]
struct OverlayCatalog {
    base: Arc<dyn CatalogProvider>,
    default_schema: String,
    views: Arc<Views>,
}

impl CatalogProvider for OverlayCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.base.schema_names()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let base = self.base.schema(name);
        if name != self.default_schema {
            return base;
        }
        let base = base.unwrap_or_else(|| Arc::new(MemorySchemaProvider::new()));
        Some(Arc::new(OverlaySchema {
            base,
            views: Arc::clone(&self.views),
        }))
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        self.base.register_schema(name, schema)
    }

    fn deregister_schema(
        &self,
        name: &str,
        cascade: bool,
    ) -> DfResult<Option<Arc<dyn SchemaProvider>>> {
        self.base.deregister_schema(name, cascade)
    }
}

#[derive(Debug)]
struct OverlaySchema {
    base: Arc<dyn SchemaProvider>,
    views: Arc<Views>,
}

#[async_trait]
impl SchemaProvider for OverlaySchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.base.table_names();
        names.extend(self.views.keys().cloned());
        names.sort();
        names.dedup();
        names
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        match self.views.get(name) {
            Some(view) => Ok(Some(Arc::clone(view))),
            None => self.base.table(name).await,
        }
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        self.base.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        self.base.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.views.contains_key(name) || self.base.table_exist(name)
    }
}
