//! A document's bytes → a `serde_json::Value`, within bounds: an imported file is hostile input,
//! and a small one must not take a core or memory out of proportion to its size.
//!
//! - **Nesting** is limited to [`MAX_DEPTH`] levels of mappings and sequences. `serde_json` and
//!   `yaml_serde` both stop at 128 levels, but `yaml_serde` only after libyaml has scanned the
//!   whole document, and libyaml's scanner takes time proportional to the open flow collections
//!   (`[`, `{`) for every token: 100,000 `[` took seconds. So YAML is first run through the same
//!   libyaml parser event by event, which stops at the first level too many.
//! - **Aliases** may not expand the document past [`value_budget`] values. A YAML alias repeats
//!   its anchor's whole value, so a few kilobytes of aliases to aliases (a "billion laughs") or of
//!   aliases to a large anchor build gigabytes; `yaml_serde`'s own limit catches only the first.
//! - **Merge keys** (`<<: *anchor`, YAML 1.1's merge type) are applied as PyYAML, SnakeYAML and
//!   js-yaml apply them: the mapping's own keys win, then the merged mappings in order. Any `<<`
//!   key counts, quoted or not, since the parsed value no longer tells them apart.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

use libyaml_rs as sys;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::DocumentError;

/// How deeply mappings and sequences may nest.
pub(crate) const MAX_DEPTH: usize = 128;

/// Values an alias-free document of `len` bytes cannot exceed (every value takes at least one
/// byte), plus room for the sharing anchors are meant for.
pub(crate) fn value_budget(len: usize) -> usize {
    len.saturating_add(100_000)
}

/// JSON when it starts like JSON (much faster), YAML otherwise; YAML also reads JSON.
pub(crate) fn read_value(bytes: &[u8]) -> Result<Value, DocumentError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{')
        && let Ok(v) = serde_json::from_slice(bytes)
    {
        return Ok(v);
    }
    check_yaml_depth(bytes)?;
    let budget = Budget { left: Cell::new(value_budget(bytes.len())), spent: Cell::new(false) };
    let value = ValueSeed { budget: &budget }.deserialize(yaml_serde::Deserializer::from_slice(bytes));
    value.map_err(|e| {
        // `yaml_serde` refuses aliases replayed more than 100 times its events before the
        // budget is spent on a small file; its error has no kind to match, only this text.
        let repeated = e.to_string().starts_with("repetition limit exceeded");
        if budget.spent.get() || repeated {
            DocumentError::TooLarge(value_budget(bytes.len()))
        } else {
            DocumentError::Syntax(e.to_string())
        }
    })
}

/// Refuses a YAML stream nesting deeper than [`MAX_DEPTH`], in time linear in its size. A
/// syntax error passes: `yaml_serde` meets it at the same place and reports it better.
fn check_yaml_depth(bytes: &[u8]) -> Result<(), DocumentError> {
    let Some(mut parser) = EventParser::new(bytes) else { return Ok(()) };
    let mut depth = 0usize;
    while let Some(event) = parser.next() {
        match event {
            sys::YAML_SEQUENCE_START_EVENT | sys::YAML_MAPPING_START_EVENT => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(DocumentError::TooDeep);
                }
            }
            sys::YAML_SEQUENCE_END_EVENT | sys::YAML_MAPPING_END_EVENT => depth = depth.saturating_sub(1),
            sys::YAML_STREAM_END_EVENT => break,
            _ => {}
        }
    }
    Ok(())
}

/// libyaml's parser over a byte slice, as `yaml_serde` sets it up, yielding the events' types.
struct EventParser<'input> {
    // Boxed: libyaml keeps pointers into the parser, so it must not move.
    parser: Box<MaybeUninit<sys::yaml_parser_t>>,
    input: PhantomData<&'input [u8]>,
}

impl<'input> EventParser<'input> {
    fn new(input: &'input [u8]) -> Option<Self> {
        let mut parser = Box::new(MaybeUninit::<sys::yaml_parser_t>::uninit());
        // SAFETY: `yaml_parser_initialize` initialises the whole parser (or fails, and then it is
        // neither used nor deleted); the input outlives the parser, as `'input` says.
        unsafe {
            if sys::yaml_parser_initialize(parser.as_mut_ptr()).fail {
                return None;
            }
            sys::yaml_parser_set_encoding(parser.as_mut_ptr(), sys::YAML_UTF8_ENCODING);
            sys::yaml_parser_set_input_string(parser.as_mut_ptr(), input.as_ptr(), input.len() as u64);
        }
        Some(EventParser { parser, input: PhantomData })
    }

    /// The next event's type; `None` at a syntax error.
    fn next(&mut self) -> Option<sys::yaml_event_type_t> {
        let mut event = MaybeUninit::<sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new`; a successful `yaml_parser_parse` fills
        // the event, which is read once and then freed.
        unsafe {
            if sys::yaml_parser_parse(self.parser.as_mut_ptr(), event.as_mut_ptr()).fail {
                return None;
            }
            let kind = (*event.as_ptr()).type_;
            sys::yaml_event_delete(event.as_mut_ptr());
            Some(kind)
        }
    }
}

impl Drop for EventParser<'_> {
    fn drop(&mut self) {
        // SAFETY: the parser was initialised in `new` and is deleted once, here.
        unsafe { sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

/// What is left of the values a document may build.
struct Budget {
    left: Cell<usize>,
    spent: Cell<bool>,
}

impl Budget {
    fn take<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => {
                self.spent.set(true);
                Err(E::custom("the document expands past its budget of values"))
            }
        }
    }
}

/// Builds a `serde_json::Value` as `serde_json`'s own visitor does, counting every value against
/// the budget and applying merge keys.
#[derive(Clone, Copy)]
struct ValueSeed<'b> {
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.budget.take()?;
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Map::new();
        let mut merged = None;
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self)?;
            if key == "<<" {
                merged = Some(value);
            } else {
                entries.insert(key, value);
            }
        }
        if let Some(merged) = merged {
            merge(&mut entries, merged).map_err(de::Error::custom)?;
        }
        Ok(Value::Object(entries))
    }
}

/// Adds the keys of the mapping (or of each mapping of the sequence, the first one first) that
/// `entries` does not have yet.
fn merge(entries: &mut Map<String, Value>, merged: Value) -> Result<(), &'static str> {
    let mappings = match merged {
        Value::Object(mapping) => vec![mapping],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(mapping) => Ok(mapping),
                _ => Err("a merge key (`<<`) takes a mapping or a sequence of mappings"),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("a merge key (`<<`) takes a mapping or a sequence of mappings"),
    };
    for mapping in mappings {
        for (key, value) in mapping {
            entries.entry(key).or_insert(value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn nesting_up_to_the_limit_reads_and_one_more_level_is_refused() {
        assert!(read_value(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(read_value(nested(MAX_DEPTH + 1).as_bytes()), Err(DocumentError::TooDeep));
        let block: String = (0..=MAX_DEPTH).map(|level| format!("{}- \n", "  ".repeat(level))).collect();
        assert_eq!(read_value(block.as_bytes()), Err(DocumentError::TooDeep));
    }

    #[test]
    fn merge_keys_add_what_the_mapping_lacks_first_source_first() {
        let doc = "
a: &a {x: 1, y: 1}
b: &b {<<: *a, y: 2, z: 2}
c: {<<: [*b, {w: 3, x: 3}], x: 4}
";
        let value = read_value(doc.as_bytes()).unwrap();
        assert_eq!(value["b"], json!({"y": 2, "z": 2, "x": 1}));
        assert_eq!(value["c"], json!({"x": 4, "y": 2, "z": 2, "w": 3}));
        let scalar = read_value(b"a: {<<: 1}").unwrap_err();
        assert!(matches!(scalar, DocumentError::Syntax(ref m) if m.contains("merge key")), "{scalar}");
    }

    #[test]
    fn aliases_expanding_past_the_budget_are_refused() {
        let anchor = vec!["x"; 1000].join(",");
        let aliases = vec!["*a"; 1000].join(",");
        let doc = format!("a: &a [{anchor}]\nb: [{aliases}]\n");
        assert_eq!(read_value(doc.as_bytes()), Err(DocumentError::TooLarge(value_budget(doc.len()))));
        // Sharing within the budget is what anchors are for.
        let doc = format!("a: &a [{anchor}]\nb: [*a, *a]\n");
        assert_eq!(read_value(doc.as_bytes()).unwrap()["b"][1][999], "x");

        let laughs: String = (1..10)
            .map(|level| format!("l{level}: &l{level} [{}]\n", vec![format!("*l{}", level - 1); 10].join(",")))
            .collect();
        let laughs = format!("l0: &l0 [lol]\n{laughs}");
        assert_eq!(read_value(laughs.as_bytes()), Err(DocumentError::TooLarge(value_budget(laughs.len()))));
    }
}
