//! The canonical protobuf JSON mapping of spec messages.
//!
//! Golden vectors in `integration/conformance/` store every plan twice: as
//! binary protobuf and as the canonical proto3 JSON mapping (lowerCamelCase
//! field names, enums by name, 64-bit integers as strings, default values
//! omitted), which every language's protobuf library can print and parse.
//! The JSON is produced by `prost-reflect` from the descriptors in
//! [`ballista_proto::DESCRIPTOR_POOL`], so there is no hand-written mapping
//! to drift from the `.proto` files.
//!
//! This module only converts between representations; it must not interpret
//! plans (that is [`crate::serde`]'s job).

use ballista_proto::DESCRIPTOR_POOL;
use prost::{Message, Name};
use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::error::{BallistaError, Result};

fn descriptor<M: Name>() -> Result<MessageDescriptor> {
    let name = M::full_name();
    DESCRIPTOR_POOL.get_message_by_name(&name).ok_or_else(|| {
        BallistaError::Internal(format!(
            "message `{name}` is missing from the descriptor pool"
        ))
    })
}

/// Converts a spec message to its canonical protobuf JSON value.
pub fn to_json_value<M: Message + Name>(message: &M) -> Result<serde_json::Value> {
    // Going through the binary encoding keeps prost's generated types free
    // of any serde derive: the descriptors are the single source of truth.
    let dynamic = DynamicMessage::decode(descriptor::<M>()?, message.encode_to_vec().as_slice())?;
    serde_json::to_value(&dynamic).map_err(|e| {
        BallistaError::Internal(format!("cannot render `{}` as JSON: {e}", M::full_name()))
    })
}

/// Renders a spec message as canonical protobuf JSON, pretty-printed with a
/// 2-space indent and a trailing newline (the format of golden files).
pub fn to_json<M: Message + Name>(message: &M) -> Result<String> {
    let value = to_json_value(message)?;
    let mut text = serde_json::to_string_pretty(&value).map_err(|e| {
        BallistaError::Internal(format!("cannot render `{}` as JSON: {e}", M::full_name()))
    })?;
    text.push('\n');
    Ok(text)
}

/// Parses canonical protobuf JSON (any whitespace) into a spec message.
/// Unknown fields are rejected, so a typo in a golden file is an error
/// rather than a silently dropped field.
pub fn from_json<M: Message + Name + Default>(text: &str) -> Result<M> {
    let name = M::full_name();
    let invalid = |e: &dyn std::fmt::Display| {
        BallistaError::InvalidArgument(format!("invalid JSON for `{name}`: {e}"))
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let dynamic = DynamicMessage::deserialize(descriptor::<M>()?, &mut deserializer)
        .map_err(|e| invalid(&e))?;
    deserializer.end().map_err(|e| invalid(&e))?;
    Ok(dynamic.transcode_to::<M>()?)
}

#[cfg(test)]
mod tests {
    use ballista_proto::v1 as pb;

    use super::*;

    fn sample() -> pb::Relation {
        pb::Relation {
            plan_id: Some(7),
            rel_type: Some(pb::relation::RelType::Limit(Box::new(pb::Limit {
                input: Some(Box::new(pb::Relation {
                    plan_id: None,
                    rel_type: Some(pb::relation::RelType::ReadTable(pb::ReadTable {
                        table: Some(pb::TableReference {
                            catalog: None,
                            schema: None,
                            table: "t".to_string(),
                        }),
                    })),
                })),
                offset: 0,
                fetch: Some(3),
            }))),
        }
    }

    #[test]
    fn renders_the_canonical_mapping() {
        let text = to_json(&sample()).unwrap();
        assert!(text.ends_with("}\n"), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        // int64 as a string, default `offset` omitted, camelCase names.
        assert_eq!(value["planId"], "7");
        assert_eq!(value["limit"]["fetch"], "3");
        assert!(value["limit"].get("offset").is_none());
        assert_eq!(value["limit"]["input"]["readTable"]["table"]["table"], "t");
    }

    #[test]
    fn round_trips() {
        let text = to_json(&sample()).unwrap();
        let back: pb::Relation = from_json(&text).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn rejects_unknown_fields_and_trailing_text() {
        let err = from_json::<pb::Relation>(r#"{"planID": "1"}"#).unwrap_err();
        assert!(err.to_string().contains("ballista.v1.Relation"), "{err}");
        assert!(from_json::<pb::Relation>(r#"{} {}"#).is_err());
    }
}
