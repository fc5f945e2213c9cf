//! Walking a platform's JSON with the path in hand, so every refusal says
//! exactly where (`line_items[2].price`) and what.

use serde_json::Value;

use crate::{Kind, ParseError};

static NULL: Value = Value::Null;

/// A value and where it sits in the payload.
#[derive(Clone)]
pub(crate) struct At<'a> {
    kind: Kind,
    v: &'a Value,
    path: String,
}

impl<'a> At<'a> {
    pub(crate) fn root(kind: Kind, v: &'a Value) -> Self {
        At { kind, v, path: String::new() }
    }

    pub(crate) fn value(&self) -> &'a Value {
        self.v
    }

    pub(crate) fn err(&self, problem: impl Into<String>) -> ParseError {
        let at = if self.path.is_empty() { "the payload".to_owned() } else { self.path.clone() };
        ParseError::new(self.kind, at, problem)
    }

    /// A member (absent members are null).
    pub(crate) fn get(&self, key: &str) -> At<'a> {
        let path = if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) };
        At { kind: self.kind, v: self.v.get(key).unwrap_or(&NULL), path }
    }

    pub(crate) fn is_null(&self) -> bool {
        self.v.is_null()
    }

    pub(crate) fn object(&self) -> Result<&'a serde_json::Map<String, Value>, ParseError> {
        self.v.as_object().ok_or_else(|| self.err(format!("expected an object, found {}", describe(self.v))))
    }

    pub(crate) fn array(&self) -> Result<Vec<At<'a>>, ParseError> {
        let items =
            self.v.as_array().ok_or_else(|| self.err(format!("expected a list, found {}", describe(self.v))))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| At { kind: self.kind, v, path: format!("{}[{i}]", self.path) })
            .collect())
    }

    /// A list, or nothing when absent or null.
    pub(crate) fn opt_array(&self) -> Result<Vec<At<'a>>, ParseError> {
        if self.is_null() {
            Ok(vec![])
        } else {
            self.array()
        }
    }

    pub(crate) fn str(&self) -> Result<&'a str, ParseError> {
        self.opt_str()?.ok_or_else(|| self.err("is missing"))
    }

    /// A string; `None` when absent or null.
    pub(crate) fn opt_str(&self) -> Result<Option<&'a str>, ParseError> {
        match self.v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(self.err(format!("expected a string, found {}", describe(other)))),
        }
    }

    /// The customer's e-mail address, when this member holds one the core's
    /// intake accepts (`EmailAddress::parse`); otherwise `None`. Never an
    /// error: a marketplace's masked, blank or malformed address must not
    /// cost the order, only the mail.
    pub(crate) fn email(&self) -> Option<String> {
        let raw = self.v.as_str()?.trim();
        switchyard_core::EmailAddress::parse(raw).ok().map(|e| e.as_str().to_owned())
    }

    /// A string, or `""` when absent or null.
    pub(crate) fn text(&self) -> Result<&'a str, ParseError> {
        Ok(self.opt_str()?.unwrap_or(""))
    }

    /// An identifier written as a string or an integer.
    pub(crate) fn id(&self) -> Result<String, ParseError> {
        match self.v {
            Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
            Value::Null => Err(self.err("is missing")),
            other => Err(self.err(format!("expected an id, found {}", describe(other)))),
        }
    }

    /// A whole number written as an integer or an integer string.
    pub(crate) fn int(&self) -> Result<i64, ParseError> {
        match self.v {
            Value::Number(n) => n.as_i64().ok_or_else(|| self.err(format!("{n} is not a whole number"))),
            Value::String(s) => s.trim().parse().map_err(|_| self.err(format!("{s:?} is not a whole number"))),
            Value::Null => Err(self.err("is missing")),
            other => Err(self.err(format!("expected a whole number, found {}", describe(other)))),
        }
    }

    /// A decimal amount written as a string (`"19.99"`) — or, leniently, a
    /// JSON number read from its exact text, never through a float.
    pub(crate) fn decimal(&self, exponent: u32) -> Result<i64, ParseError> {
        let text = match self.v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Null => return Err(self.err("is missing")),
            other => return Err(self.err(format!("expected an amount, found {}", describe(other)))),
        };
        crate::money::decimal_minor(&text, exponent).map_err(|e| self.err(e))
    }

    /// An ISO 4217 currency code the core knows.
    pub(crate) fn currency(&self) -> Result<switchyard_core::Currency, ParseError> {
        switchyard_core::Currency::parse(self.str()?).map_err(|e| self.err(e.to_string()))
    }

    /// `true` or `false`; `false` when absent or null.
    pub(crate) fn flag(&self) -> Result<bool, ParseError> {
        match self.v {
            Value::Null => Ok(false),
            Value::Bool(b) => Ok(*b),
            other => Err(self.err(format!("expected true or false, found {}", describe(other)))),
        }
    }

    /// Like [`At::decimal`], 0 when absent or null.
    pub(crate) fn opt_decimal(&self, exponent: u32) -> Result<i64, ParseError> {
        if self.is_null() {
            Ok(0)
        } else {
            self.decimal(exponent)
        }
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Parses the payload as JSON, with the position of a syntax error.
pub(crate) fn parse(kind: Kind, payload: &[u8]) -> Result<Value, ParseError> {
    serde_json::from_slice(payload).map_err(|e| {
        ParseError::new(kind, format!("line {}, column {}", e.line(), e.column()), format!("not valid JSON: {e}"))
    })
}
