//! The OTLP JSON reader: one `ExportTraceServiceRequest` per line (the
//! OpenTelemetry Collector's file exporter format), decoded with borrowed
//! strings so that a line costs no allocation per attribute.
//!
//! Only the fields calibration uses are declared; everything else in a span
//! (status, events, links, flags, ...) is skipped by serde. Real collectors
//! differ in two places the contract allows: 64-bit integers as decimal
//! strings or JSON numbers, and `kind` as an integer or its enum name.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request<'a> {
    #[serde(borrow)]
    pub resource_spans: Vec<ResourceSpans<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSpans<'a> {
    #[serde(default, borrow)]
    pub resource: Option<Resource<'a>>,
    #[serde(default, borrow)]
    pub scope_spans: Vec<ScopeSpans<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Resource<'a> {
    #[serde(default, borrow)]
    pub attributes: Vec<KeyValue<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct ScopeSpans<'a> {
    #[serde(default, borrow)]
    pub spans: Vec<Span<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Span<'a> {
    #[serde(borrow)]
    pub trace_id: Cow<'a, str>,
    #[serde(borrow)]
    pub span_id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub parent_span_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    #[serde(default, deserialize_with = "kind")]
    pub kind: u8,
    #[serde(deserialize_with = "uint")]
    pub start_time_unix_nano: u64,
    #[serde(deserialize_with = "uint")]
    pub end_time_unix_nano: u64,
    #[serde(default, borrow)]
    pub attributes: Vec<KeyValue<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct KeyValue<'a> {
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    #[serde(default, borrow)]
    pub value: AnyValue<'a>,
}

/// An attribute value. Arrays, maps and bytes are skipped: no attribute
/// calibration reads has them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnyValue<'a> {
    #[serde(default, borrow)]
    pub string_value: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "opt_int")]
    pub int_value: Option<i64>,
    #[serde(default)]
    pub bool_value: Option<bool>,
    #[serde(default)]
    pub double_value: Option<f64>,
}

pub const INTERNAL: u8 = 1;
pub const SERVER: u8 = 2;
pub const CLIENT: u8 = 3;
pub const PRODUCER: u8 = 4;
pub const CONSUMER: u8 = 5;

/// Looks an attribute up by key (spans carry a handful: a scan is faster
/// than building a map).
pub fn attr<'s, 'a>(attrs: &'s [KeyValue<'a>], key: &str) -> Option<&'s AnyValue<'a>> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
}

pub fn attr_str<'s>(attrs: &'s [KeyValue<'_>], key: &str) -> Option<&'s str> {
    attr(attrs, key).and_then(|v| v.string_value.as_deref())
}

pub fn attr_int(attrs: &[KeyValue<'_>], key: &str) -> Option<i64> {
    let v = attr(attrs, key)?;
    // A collector may have turned an int into a string or a double.
    v.int_value
        .or_else(|| v.string_value.as_deref().and_then(|s| s.parse().ok()))
        .or_else(|| v.double_value.map(|d| d as i64))
}

pub fn attr_bool(attrs: &[KeyValue<'_>], key: &str) -> Option<bool> {
    let v = attr(attrs, key)?;
    v.bool_value.or(match v.string_value.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    })
}

/// Parses a lowercase or uppercase hex id of at most 32 digits; `None` for a
/// malformed one. All-zero ids are "no id" in OTLP.
pub fn hex_id(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > 32 {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

struct UintVisitor;

impl Visitor<'_> for UintVisitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an unsigned 64-bit integer, as a number or a decimal string")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("negative time {v}")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        if (0.0..1.9e19).contains(&v) {
            Ok(v as u64)
        } else {
            Err(E::custom(format!("time {v} out of range")))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.parse()
            .map_err(|_| E::custom(format!("\"{v}\" is not an unsigned integer")))
    }
}

fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(UintVisitor)
}

struct IntVisitor;

impl Visitor<'_> for IntVisitor {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer, as a number or a decimal string")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format!("intValue {v} out of range")))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.parse()
            .map(Some)
            .map_err(|_| E::custom(format!("intValue \"{v}\" is not an integer")))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(IntVisitor)
}

struct KindVisitor;

impl Visitor<'_> for KindVisitor {
    type Value = u8;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a span kind, 0 to 5 or SPAN_KIND_*")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u8, E> {
        match v {
            0..=5 => Ok(v as u8),
            _ => Err(E::custom(format!("span kind {v} is not 0 to 5"))),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u8, E> {
        self.visit_u64(u64::try_from(v).unwrap_or(u64::MAX))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u8, E> {
        let name = v.strip_prefix("SPAN_KIND_").unwrap_or(v);
        match name.to_ascii_uppercase().as_str() {
            "UNSPECIFIED" => Ok(0),
            "INTERNAL" => Ok(INTERNAL),
            "SERVER" => Ok(SERVER),
            "CLIENT" => Ok(CLIENT),
            "PRODUCER" => Ok(PRODUCER),
            "CONSUMER" => Ok(CONSUMER),
            _ => match v.parse::<u64>() {
                Ok(n) => self.visit_u64(n),
                Err(_) => Err(E::custom(format!("unknown span kind \"{v}\""))),
            },
        }
    }
}

fn kind<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    d.deserialize_any(KindVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Request<'_> {
        serde_json::from_str(line).unwrap()
    }

    const SPAN: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeSpans":[{"scope":{"name":"x"},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","name":"GET /items/{id}","kind":KIND,"startTimeUnixNano":START,"endTimeUnixNano":"1700000000005000000","attributes":[{"key":"http.route","value":{"stringValue":"/items/{id}"}},{"key":"http.response.status_code","value":{"intValue":INT}},{"key":"capsim.cache.hit","value":{"boolValue":true}}],"status":{},"flags":256}]}]}]}"#;

    fn line(kind: &str, start: &str, int: &str) -> String {
        SPAN.replace("KIND", kind)
            .replace("START", start)
            .replace("INT", int)
    }

    #[test]
    fn contract_span_with_strings() {
        let l = line("2", "\"1700000000000000000\"", "\"200\"");
        let r = parse(&l);
        let rs = &r.resource_spans[0];
        assert_eq!(
            attr_str(&rs.resource.as_ref().unwrap().attributes, "service.name"),
            Some("api")
        );
        let s = &rs.scope_spans[0].spans[0];
        assert_eq!(s.kind, SERVER);
        assert_eq!(s.start_time_unix_nano, 1_700_000_000_000_000_000);
        assert_eq!(s.end_time_unix_nano - s.start_time_unix_nano, 5_000_000);
        assert_eq!(
            attr_int(&s.attributes, "http.response.status_code"),
            Some(200)
        );
        assert_eq!(attr_bool(&s.attributes, "capsim.cache.hit"), Some(true));
        assert_eq!(attr_str(&s.attributes, "http.route"), Some("/items/{id}"));
        assert_eq!(
            hex_id(&s.trace_id),
            Some(0x0af7651916cd43dd8448eb211c80319c)
        );
        assert_eq!(s.parent_span_id.as_deref(), Some(""));
    }

    #[test]
    fn int_value_as_number_and_kind_as_string() {
        let l = line("\"SPAN_KIND_SERVER\"", "1700000000000000000", "200");
        let s = &parse(&l).resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(s.kind, SERVER);
        assert_eq!(
            attr_int(&s.attributes, "http.response.status_code"),
            Some(200)
        );
        assert_eq!(s.start_time_unix_nano, 1_700_000_000_000_000_000);
        for (k, want) in [
            ("\"SPAN_KIND_CLIENT\"", CLIENT),
            ("\"SPAN_KIND_CONSUMER\"", CONSUMER),
            ("\"PRODUCER\"", PRODUCER),
            ("1", INTERNAL),
        ] {
            let l = line(k, "1", "1");
            assert_eq!(
                parse(&l).resource_spans[0].scope_spans[0].spans[0].kind,
                want
            );
        }
    }

    #[test]
    fn rejects_bad_kinds_and_times() {
        for (k, start) in [
            ("9", "1"),
            ("\"SPAN_KIND_BOGUS\"", "1"),
            ("2", "\"soon\""),
            ("2", "-5"),
        ] {
            let l = line(k, start, "1");
            assert!(serde_json::from_str::<Request>(&l).is_err(), "{k} {start}");
        }
    }

    #[test]
    fn missing_resource_spans_is_an_error() {
        assert!(serde_json::from_str::<Request>(r#"{"foo": 1}"#).is_err());
        let r = parse(r#"{"resourceSpans": []}"#);
        assert!(r.resource_spans.is_empty());
    }

    #[test]
    fn hex_ids() {
        assert_eq!(hex_id("b7ad6b7169203331"), Some(0xb7ad6b7169203331));
        assert_eq!(hex_id(""), None);
        assert_eq!(hex_id("xyz"), None);
        assert_eq!(hex_id(&"f".repeat(33)), None);
    }
}
