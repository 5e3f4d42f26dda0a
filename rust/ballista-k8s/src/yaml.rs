//! YAML in and out: templates read strictly, manifests printed for `render`.
//!
//! k8s-openapi's deserialisers skip fields they do not know, so a typo in a
//! template (`imagePullPolicyy`) would vanish silently. [`from_value_strict`]
//! serialises what was read back and names the first field of the input that
//! did not survive the round trip.

use std::path::Path;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{K8sError, Result};
use crate::manifests::ClusterManifests;

/// Deserialises `value` as `T`, refusing input that `T` would not keep:
/// an unknown field, or a value of another shape. `what` names the input in
/// messages.
pub fn from_value_strict<T: DeserializeOwned + Serialize>(value: Value, what: &str) -> Result<T> {
    let typed: T = serde_json::from_value(value.clone())
        .map_err(|e| K8sError::InvalidArgument(format!("{what}: {e}")))?;
    let back = serde_json::to_value(&typed)
        .map_err(|e| K8sError::InvalidArgument(format!("{what}: cannot serialise: {e}")))?;
    if let Some(path) = first_lost(&value, &back, String::new()) {
        return Err(K8sError::InvalidArgument(format!(
            "{what}: `{path}` is not a field of this Kubernetes object (or has the wrong type)"
        )));
    }
    Ok(typed)
}

/// The path of the first part of `input` that `output` does not hold the
/// same. Fields `output` adds (defaults) are fine.
fn first_lost(input: &Value, output: &Value, path: String) -> Option<String> {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(key, value)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match b.get(key) {
                // An explicit null is an absent optional field.
                None if value.is_null() => None,
                None => Some(path),
                Some(out) => first_lost(value, out, path),
            }
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_lost(x, y, format!("{path}[{i}]"))),
        (a, b) if a == b => None,
        _ => Some(path),
    }
}

/// Reads a YAML (or JSON) file into a JSON value.
fn read_yaml(path: &Path) -> Result<(Value, String)> {
    let what = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| K8sError::io(format!("cannot read {what}"), e))?;
    let value = serde_saphyr::from_str::<Value>(&text)
        .map_err(|e| K8sError::InvalidArgument(format!("{what} is not valid YAML: {e}")))?;
    Ok((value, what))
}

/// Reads a pod template: a `Pod` or `PodTemplate` manifest, or a bare
/// pod template (`metadata` and `spec`), as `kubectl` and Spark's pod
/// templates take them.
pub fn read_pod_template(path: &Path) -> Result<PodTemplateSpec> {
    let (mut value, what) = read_yaml(path)?;
    let Value::Object(map) = &mut value else {
        return Err(K8sError::InvalidArgument(format!(
            "{what}: expected a Pod manifest or a pod template (a mapping)"
        )));
    };
    let kind = map.get("kind").and_then(Value::as_str).map(str::to_owned);
    match kind.as_deref() {
        Some("PodTemplate") => {
            value = map.remove("template").unwrap_or(Value::Null);
        }
        Some("Pod") | None => {
            map.remove("apiVersion");
            map.remove("kind");
            // A Pod's status is not part of a template.
            map.remove("status");
        }
        Some(other) => {
            return Err(K8sError::InvalidArgument(format!(
                "{what}: kind `{other}` is not a pod template: give a Pod, a PodTemplate or \
                 `metadata` + `spec`"
            )));
        }
    }
    from_value_strict(value, &what)
}

/// Reads a Job manifest (`apiVersion: batch/v1`, `kind: Job`).
pub fn read_job(path: &Path) -> Result<Job> {
    let (value, what) = read_yaml(path)?;
    let kind = value.get("kind").and_then(Value::as_str);
    if kind != Some("Job") {
        return Err(K8sError::InvalidArgument(format!(
            "{what}: expected a Job manifest (apiVersion: batch/v1, kind: Job), found kind {}",
            kind.map_or("(none)".to_string(), |k| format!("`{k}`"))
        )));
    }
    from_value_strict(value, &what)
}

/// One object as a YAML document.
pub fn to_yaml<T: Serialize>(object: &T) -> Result<String> {
    serde_saphyr::to_string(object)
        .map_err(|e| K8sError::InvalidArgument(format!("cannot print YAML: {e}")))
}

/// The cluster's objects (and a Job, if given) as a YAML stream for
/// `kubectl apply -f -`: documents separated by `---`, in creation order.
pub fn render(manifests: &ClusterManifests, job: Option<&Job>) -> Result<String> {
    let mut docs = vec![
        to_yaml(&manifests.scheduler)?,
        to_yaml(&manifests.service)?,
        to_yaml(&manifests.executors)?,
    ];
    if let Some(job) = job {
        docs.push(to_yaml(job)?);
    }
    Ok(docs
        .iter()
        .map(|doc| format!("---\n{}", doc.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_fields_are_refused_with_their_path() {
        let value = json!({"spec": {"containers": [{"name": "x", "imagee": "y"}]}});
        let err = from_value_strict::<PodTemplateSpec>(value, "t.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.yaml: `spec.containers[0].imagee` is not a field"),
            "{err}"
        );
        let ok = json!({"spec": {"containers": [{"name": "x", "image": "y"}]}});
        assert!(from_value_strict::<PodTemplateSpec>(ok, "t").is_ok());
    }

    #[test]
    fn pod_templates_and_jobs_are_read_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let pod = dir.path().join("pod.yaml");
        std::fs::write(
            &pod,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: b}\nspec:\n  containers:\n  \
             - name: executor\n    image: x\n",
        )
        .unwrap();
        let template = read_pod_template(&pod).unwrap();
        assert_eq!(template.spec.unwrap().containers[0].name, "executor");

        std::fs::write(&pod, "kind: Deployment\n").unwrap();
        let err = read_pod_template(&pod).unwrap_err().to_string();
        assert!(
            err.contains("kind `Deployment` is not a pod template"),
            "{err}"
        );
        let err = read_job(&pod).unwrap_err().to_string();
        assert!(err.contains("expected a Job manifest"), "{err}");
        std::fs::write(&pod, "spec: [unclosed\n").unwrap();
        let err = read_pod_template(&pod).unwrap_err().to_string();
        assert!(err.contains("is not valid YAML"), "{err}");
        let err = read_job(&dir.path().join("missing.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read") && err.contains("missing.yaml"),
            "{err}"
        );
    }
}
