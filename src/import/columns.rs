//! The header of an import file, checked against the resource's input
//! schema in our own OpenAPI document (one source of truth for field names
//! and types), and the cells of a record turned into the JSON body the API
//! takes.

use serde_json::{Map, Value};

/// How a column's cells become JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Text,
    Integer,
    Boolean,
    /// Pipe-separated (`a|b`; a literal pipe is `\|`).
    List,
    /// JSON text (`preferences`).
    Json,
}

/// One column: where its value goes in the body, and how it is read.
#[derive(Debug, Clone)]
struct Column {
    path: Vec<String>,
    cell: Cell,
}

/// The checked header.
#[derive(Debug, Clone)]
pub struct Columns {
    columns: Vec<Column>,
}

/// The resource's input schema and its read side (to tell read-only
/// columns from unknown ones).
fn schemas(doc: &Value, resource: &str) -> (Value, Value) {
    let (input, output) = match resource {
        "stakeholders" => ("StakeholderInput", "Stakeholder"),
        "interactions" => ("InteractionInput", "Interaction"),
        "offers" => ("OfferInput", "Offer"),
        _ => ("ComplaintInput", "Complaint"),
    };
    let get = |n: &str| doc.pointer(&format!("/components/schemas/{n}")).cloned().unwrap_or(Value::Null);
    (get(input), get(output))
}

/// Follows `$ref` and drops the `null` branch of `oneOf: [X, null]`.
fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    loop {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            match doc.pointer(r.trim_start_matches('#')) {
                Some(s) => schema = s,
                None => return schema,
            }
        } else if let Some(Value::Array(branches)) = schema.get("oneOf") {
            match branches.iter().find(|b| b.get("type").and_then(Value::as_str) != Some("null")) {
                Some(b) => schema = b,
                None => return schema,
            }
        } else {
            return schema;
        }
    }
}

/// The schema's type other than `null`, and whether it has properties.
fn type_of(schema: &Value) -> (Option<&str>, bool) {
    let t = match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        // An enum or a reference resolved to one: text.
        _ => schema.get("enum").map(|_| "string"),
    };
    (t, schema.get("properties").is_some())
}

/// The schema at a dotted path, if every step is a property.
fn at<'a>(doc: &'a Value, root: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut schema = resolve(doc, root);
    for step in path {
        schema = resolve(doc, schema.get("properties")?.get(*step)?);
    }
    Some(schema)
}

impl Columns {
    /// Checks a header: every column must name a writable field (nested
    /// with dots), once. The error says which column and why.
    pub fn from_header(doc: &Value, resource: &str, header: &[&str]) -> Result<Self, String> {
        let (input, output) = schemas(doc, resource);
        let mut seen = std::collections::HashSet::new();
        let mut columns = Vec::with_capacity(header.len());
        for (i, name) in header.iter().enumerate() {
            let position = i + 1;
            if name.trim().is_empty() {
                return Err(format!("column {position} has no name"));
            }
            if !seen.insert(*name) {
                return Err(format!("column {position} ({name:?}) appears twice"));
            }
            let path: Vec<&str> = name.split('.').collect();
            let Some(schema) = at(doc, &input, &path) else {
                return Err(if at(doc, &output, &path).is_some() {
                    format!("column {position} ({name:?}) is read-only: the server sets it")
                } else {
                    format!("column {position} ({name:?}) is not a field of {resource}")
                });
            };
            let cell = match type_of(schema) {
                (Some("object"), true) => {
                    return Err(format!(
                        "column {position} ({name:?}) is an object: name its fields, such as {name}.{}",
                        schema["properties"].as_object().and_then(|p| p.keys().next()).map_or("…", String::as_str)
                    ));
                }
                (Some("object"), false) => Cell::Json,
                (Some("array"), _) => Cell::List,
                (Some("integer"), _) => Cell::Integer,
                (Some("boolean"), _) => Cell::Boolean,
                _ => Cell::Text,
            };
            columns.push(Column { path: path.into_iter().map(str::to_owned).collect(), cell });
        }
        // `address` and `address.city` together would write one field twice.
        for c in &columns {
            if columns.iter().any(|o| o.path.len() > c.path.len() && o.path.starts_with(&c.path)) {
                return Err(format!("column {:?} and its own fields are both given", c.path.join(".")));
            }
        }
        Ok(Self { columns })
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// A record as the body of a create: empty cells are absent. A cell that
    /// does not read as its type is passed on as text, so that the API's
    /// validation names the field and the problem.
    pub fn body(&self, record: &csv::StringRecord) -> Map<String, Value> {
        let mut body = Map::new();
        for (column, cell) in self.columns.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let value = match column.cell {
                Cell::Text => Value::String(cell.to_owned()),
                Cell::Integer => {
                    cell.trim().parse::<i64>().map_or_else(|_| Value::String(cell.to_owned()), Value::from)
                }
                Cell::Boolean => match cell.trim().to_ascii_lowercase().as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::String(cell.to_owned()),
                },
                Cell::List => Value::Array(split_list(cell).into_iter().map(Value::String).collect()),
                Cell::Json => serde_json::from_str(cell).unwrap_or_else(|_| Value::String(cell.to_owned())),
            };
            insert(&mut body, &column.path, value);
        }
        body
    }
}

fn insert(body: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            body.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let inner = body.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                insert(inner, rest, value);
            }
        }
    }
}

/// `a|b|c` → `[a, b, c]`; `\|` is a literal pipe.
fn split_list(cell: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut chars = cell.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                items.last_mut().expect("never empty").push('|');
            }
            '|' => items.push(String::new()),
            ch => items.last_mut().expect("never empty").push(ch),
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        serde_json::to_value(crate::startup::openapi()).unwrap()
    }

    #[test]
    fn lists_split_on_unescaped_pipes() {
        assert_eq!(split_list("a|b"), ["a", "b"]);
        assert_eq!(split_list(r"a\|b|c"), ["a|b", "c"]);
        assert_eq!(split_list(r"a\b"), [r"a\b"]);
    }

    #[test]
    fn header_checks_name_the_column() {
        let doc = doc();
        let ok = Columns::from_header(&doc, "stakeholders", &["display_name", "address.city", "tags", "preferences"]);
        assert_eq!(ok.unwrap().len(), 4);
        let e = Columns::from_header(&doc, "stakeholders", &["display_name", "nickname"]).unwrap_err();
        assert!(e.contains("nickname") && e.contains("not a field"), "{e}");
        let e = Columns::from_header(&doc, "stakeholders", &["id"]).unwrap_err();
        assert!(e.contains("read-only"), "{e}");
        let e = Columns::from_header(&doc, "stakeholders", &["email", "email"]).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = Columns::from_header(&doc, "stakeholders", &["address"]).unwrap_err();
        assert!(e.contains("address."), "{e}");
        assert!(Columns::from_header(&doc, "offers", &["price.amount_minor", "price.currency"]).is_ok());
    }

    #[test]
    fn cells_become_typed_json() {
        let doc = doc();
        let h = ["household_size", "tags", "consents.marketing_email", "preferences", "address.city", "segment"];
        let c = Columns::from_header(&doc, "stakeholders", &h).unwrap();
        let rec = csv::StringRecord::from(vec!["3", r"a|b\|c", "TRUE", r#"{"x":1}"#, "Jakarta", ""]);
        let body = Value::Object(c.body(&rec));
        assert_eq!(
            body,
            serde_json::json!({"household_size": 3, "tags": ["a", "b|c"], "consents": {"marketing_email": true},
                               "preferences": {"x": 1}, "address": {"city": "Jakarta"}})
        );
        let rec = csv::StringRecord::from(vec!["three", "", "yes", "{", "", ""]);
        let body = Value::Object(c.body(&rec));
        assert_eq!(
            body,
            serde_json::json!({"household_size": "three", "consents": {"marketing_email": "yes"}, "preferences": "{"})
        );
    }
}
