//! A streaming, block-style YAML serializer for the documents Portico writes.
//!
//! Why not a YAML crate: `yaml_serde` (and its forks) quote only the strings YAML 1.2 would take
//! for something else, so `yes`, `on`, `2024-05-01`, `1:20` or `=` come out plain, and YAML 1.1
//! readers (PyYAML, hence `openapi-spec-validator`, and many tools besides) read a boolean, a
//! date, a number, or fail; and measured on a 10,000-API export it ran 7× slower than
//! `serde_json` (`serde-saphyr`: 5×). Here a string is plain only when it cannot be anything but a
//! string in either version, and double-quoted with JSON's escapes (which YAML shares) otherwise;
//! the serde data model is written as it arrives, so nothing is built in memory.
//!
//! Layout: `key: scalar`; a non-empty mapping or sequence value starts on the next line (mapping
//! entries indented by two, sequence items at the key's column, `- item`); inside a sequence
//! item the first entry shares the `- ` line; empty collections are `{}` and `[]`.

use std::fmt::Display;
use std::io::{self, Write};

use serde::ser::{self, Impossible, Serialize};

/// Writes `value` as a YAML document.
pub(crate) fn to_writer<W: Write, T: Serialize + ?Sized>(writer: &mut W, value: &T) -> io::Result<()> {
    value.serialize(ValueSerializer { out: writer, at: At::Root }).map_err(|e| e.0)?;
    writer.flush()
}

/// An I/O error, or a value YAML documents here never hold.
#[derive(Debug)]
pub(crate) struct Error(io::Error);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(io::Error::other(msg.to_string()))
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error(e)
    }
}

type Result<T = ()> = std::result::Result<T, Error>;

/// Where the value about to be written sits.
#[derive(Clone, Copy)]
enum At {
    /// The whole document.
    Root,
    /// After `key:` of a mapping entry at this column.
    MapValue(usize),
    /// After `- ` of a sequence item at this column.
    SeqItem(usize),
}

const SPACES: &[u8] = &[b' '; 128];

fn indent<W: Write>(w: &mut W, mut n: usize) -> io::Result<()> {
    while n > 0 {
        let chunk = n.min(SPACES.len());
        w.write_all(&SPACES[..chunk])?;
        n -= chunk;
    }
    Ok(())
}

/// Words that some YAML version reads as a boolean, a null or a special float.
const WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "inf", "infinity", "nan"];

fn is_plain(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else { return false };
    (first.is_ascii_alphabetic() || "_/$".contains(first))
        && chars.all(|c| c.is_ascii_alphanumeric() || "_./{}+:$- ".contains(c))
        && !s.ends_with([':', ' '])
        && !s.contains(": ")
        && !s.contains("://")
        && !(s.len() <= 8 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)))
}

/// Characters YAML allows raw in a document and reads as themselves: YAML 1.1's printable set
/// minus what it reads as line breaks (U+2028/2029) and the byte order mark. JSON exports
/// escape the others too, since many tools read JSON with a YAML parser.
pub(crate) fn printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}')
        || c >= '\u{10000}'
}

fn string<W: Write>(w: &mut W, s: &str) -> io::Result<()> {
    if is_plain(s) {
        return w.write_all(s.as_bytes());
    }
    w.write_all(b"\"")?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\t' => b"\\t",
            '\r' => b"\\r",
            c if printable(c) => continue,
            _ => b"",
        };
        w.write_all(&s.as_bytes()[start..i])?;
        if escape.is_empty() {
            write!(w, "\\u{:04x}", c as u32)?;
        } else {
            w.write_all(escape)?;
        }
        start = i + c.len_utf8();
    }
    w.write_all(&s.as_bytes()[start..])?;
    w.write_all(b"\"")
}

/// YAML 1.1 wants a dot and a signed exponent in a float (`1.0e+20`, not `1e20`).
fn float(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            ".nan".into()
        } else if v > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let text = serde_json::Number::from_f64(v).map(|n| n.to_string()).unwrap_or_default();
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (text.as_str(), None),
    };
    let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
    match exponent {
        None => mantissa,
        Some(e) if e.starts_with(['-', '+']) => format!("{mantissa}e{e}"),
        Some(e) => format!("{mantissa}e+{e}"),
    }
}

struct ValueSerializer<'w, W> {
    out: &'w mut W,
    at: At,
}

impl<'w, W: Write> ValueSerializer<'w, W> {
    fn scalar(self, write: impl FnOnce(&mut W) -> io::Result<()>) -> Result {
        if let At::MapValue(_) = self.at {
            self.out.write_all(b" ")?;
        }
        write(self.out)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn collection(self, mapping: bool) -> Collection<'w, W> {
        let column = match (self.at, mapping) {
            (At::Root, _) => 0,
            (At::MapValue(key), true) => key + 2,
            (At::MapValue(key), false) => key,
            (At::SeqItem(dash), _) => dash + 2,
        };
        Collection { out: self.out, at: self.at, column, mapping, empty: true }
    }
}

/// A mapping or sequence being written; its entries go at `column`.
struct Collection<'w, W> {
    out: &'w mut W,
    at: At,
    column: usize,
    mapping: bool,
    empty: bool,
}

impl<W: Write> Collection<'_, W> {
    /// Moves to where the next entry starts.
    fn entry(&mut self) -> Result {
        match (self.empty, self.at) {
            // The first entry of a sequence item's collection shares the `- ` line.
            (true, At::SeqItem(_)) => {}
            (true, At::MapValue(_)) => {
                self.out.write_all(b"\n")?;
                indent(self.out, self.column)?;
            }
            _ => indent(self.out, self.column)?,
        }
        self.empty = false;
        Ok(())
    }

    fn end(self) -> Result {
        if self.empty {
            let text: &[u8] = if self.mapping { b"{}\n" } else { b"[]\n" };
            if let At::MapValue(_) = self.at {
                self.out.write_all(b" ")?;
            }
            self.out.write_all(text)?;
        }
        Ok(())
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.entry()?;
        self.out.write_all(b"- ")?;
        value.serialize(ValueSerializer { out: &mut *self.out, at: At::SeqItem(self.column) })
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.entry()?;
        key.serialize(KeySerializer { out: &mut *self.out })?;
        self.out.write_all(b":")?;
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(ValueSerializer { out: &mut *self.out, at: At::MapValue(self.column) })
    }
}

impl<'w, W: Write> ser::Serializer for ValueSerializer<'w, W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Collection<'w, W>;
    type SerializeTuple = Collection<'w, W>;
    type SerializeTupleStruct = Collection<'w, W>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Collection<'w, W>;
    type SerializeStruct = Collection<'w, W>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result {
        self.scalar(|w| w.write_all(if v { b"true" } else { b"false" }))
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.scalar(|w| write!(w, "{v}"))
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.scalar(|w| write!(w, "{v}"))
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result {
        self.scalar(|w| w.write_all(float(v).as_bytes()))
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        self.scalar(|w| string(w, v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(ser::Error::custom("bytes have no place in an OpenAPI document"))
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.scalar(|w| w.write_all(b"null"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        let mut map = self.collection(true);
        map.key(variant)?;
        map.value(value)?;
        map.end()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Ok(self.collection(false))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Ok(self.collection(false))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Ok(self.collection(false))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(ser::Error::custom("tuple variants have no place in an OpenAPI document"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(self.collection(true))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Ok(self.collection(true))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(ser::Error::custom("struct variants have no place in an OpenAPI document"))
    }
}

impl<W: Write> ser::SerializeSeq for Collection<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }
    fn end(self) -> Result {
        Collection::end(self)
    }
}

impl<W: Write> ser::SerializeTuple for Collection<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }
    fn end(self) -> Result {
        Collection::end(self)
    }
}

impl<W: Write> ser::SerializeTupleStruct for Collection<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.item(value)
    }
    fn end(self) -> Result {
        Collection::end(self)
    }
}

impl<W: Write> ser::SerializeMap for Collection<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.value(value)
    }
    fn end(self) -> Result {
        Collection::end(self)
    }
}

impl<W: Write> ser::SerializeStruct for Collection<'_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.key(key)?;
        self.value(value)
    }
    fn end(self) -> Result {
        Collection::end(self)
    }
}

/// Mapping keys: strings and numbers, written as scalars.
struct KeySerializer<'w, W> {
    out: &'w mut W,
}

fn not_a_key() -> Error {
    ser::Error::custom("a mapping key must be a string or a number")
}

impl<W: Write> ser::Serializer for KeySerializer<'_, W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result {
        Ok(string(self.out, v)?)
    }
    fn serialize_bool(self, v: bool) -> Result {
        self.serialize_str(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.serialize_str(&v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.serialize_str(&v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.serialize_str(&v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.serialize_str(&v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.serialize_str(&v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.serialize_str(&v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.serialize_str(&v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.serialize_str(&v.to_string())
    }
    fn serialize_f32(self, _: f32) -> Result {
        Err(not_a_key())
    }
    fn serialize_f64(self, _: f64) -> Result {
        Err(not_a_key())
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Err(not_a_key())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(not_a_key())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(not_a_key())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(not_a_key())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(not_a_key())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn yaml(value: &Value) -> String {
        let mut out = Vec::new();
        super::to_writer(&mut out, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn layout_is_block_style() {
        let doc = json!({
            "a": 1, "b": {"c": "x", "d": []}, "e": [{"f": true, "g": [1, [2, 3]]}, "h"], "i": {}, "j": [[]]
        });
        let expected =
            "a: 1\nb:\n  c: x\n  d: []\ne:\n- f: true\n  g:\n  - 1\n  - - 2\n    - 3\n- h\ni: {}\nj:\n- []\n";
        assert_eq!(yaml(&doc), expected);
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in ["yes", "On", "2024-05-01", "1:20", "=", "", " x", "a: b", "1e3", "null", "http://x", "#c", "-"] {
            let text = yaml(&json!({ "k": s }));
            assert!(text.starts_with("k: \""), "{s:?} -> {text}");
        }
        assert_eq!(yaml(&json!({"k": "/orders/{id}"})), "k: /orders/{id}\n");
        assert_eq!(yaml(&json!({"k": 1.0e20})), "k: 1.0e+20\n");
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1.0e300..1.0e300f64).prop_map(Value::from),
            ".*".prop_map(Value::String),
            "[a-z0-9 :#{}/._-]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec(("[a-z0-9 :._-]{0,8}", inner), 0..5)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever the value, a YAML reader gets it back.
        #[test]
        fn every_value_reads_back(value in any_json()) {
            let text = yaml(&value);
            let back: Value = yaml_serde::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert!(same(&back, &value), "{text}");
        }
    }

    /// Equal, numbers compared as numbers (a float may come back as an integer and vice versa).
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }
}
