//! Statements on the SQLite writer's own connection (rusqlite): cached
//! prepared statements, `$n` parameters read as SQLite's `?n`, rows copied
//! out as owned values.

use rusqlite::types::Value as Lite;

use super::Value;
use crate::StoreError;

/// `$1` → `?1`: SQLite's numbered parameters, so a reused or out-of-order
/// `$n` binds by its number (as on PostgreSQL), not by first appearance.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Value]) -> Result<(), StoreError> {
    for (i, v) in args.iter().enumerate() {
        let n = i + 1;
        match v {
            Value::I64(x) => stmt.raw_bind_parameter(n, x)?,
            Value::F64(x) => stmt.raw_bind_parameter(n, x)?,
            Value::Text(x) => stmt.raw_bind_parameter(n, x.as_deref())?,
            Value::Bool(x) => stmt.raw_bind_parameter(n, x)?,
        }
    }
    Ok(())
}

pub(super) fn execute(conn: &rusqlite::Connection, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(&numbered(sql))?;
    bind(&mut stmt, args)?;
    Ok(stmt.raw_execute()? as u64)
}

pub(super) fn query(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Value],
    limit: usize,
) -> Result<Vec<Vec<Lite>>, StoreError> {
    let mut stmt = conn.prepare_cached(&numbered(sql))?;
    bind(&mut stmt, args)?;
    let columns = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(row) = rows.next()? else { break };
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(row.get::<_, Lite>(i)?);
        }
        out.push(values);
    }
    Ok(out)
}

fn corrupt(i: usize, want: &str, got: Option<&Lite>) -> StoreError {
    StoreError::Corrupt(format!("column {i}: expected {want}, found {got:?}"))
}

pub(super) fn i64(v: Option<&Lite>, i: usize) -> Result<i64, StoreError> {
    match v {
        Some(Lite::Integer(x)) => Ok(*x),
        other => Err(corrupt(i, "an integer", other)),
    }
}

pub(super) fn opt_i64(v: Option<&Lite>, i: usize) -> Result<Option<i64>, StoreError> {
    match v {
        Some(Lite::Null) => Ok(None),
        other => i64(other, i).map(Some),
    }
}

pub(super) fn string(v: Option<&Lite>, i: usize) -> Result<String, StoreError> {
    match v {
        Some(Lite::Text(s)) => Ok(s.clone()),
        other => Err(corrupt(i, "text", other)),
    }
}

pub(super) fn opt_string(v: Option<&Lite>, i: usize) -> Result<Option<String>, StoreError> {
    match v {
        Some(Lite::Null) => Ok(None),
        other => string(other, i).map(Some),
    }
}

pub(super) fn bool(v: Option<&Lite>, i: usize) -> Result<bool, StoreError> {
    match v {
        Some(Lite::Integer(x)) => Ok(*x != 0),
        other => Err(corrupt(i, "a boolean", other)),
    }
}

pub(super) fn opt_f64(v: Option<&Lite>, i: usize) -> Result<Option<f64>, StoreError> {
    match v {
        Some(Lite::Null) => Ok(None),
        Some(Lite::Real(x)) => Ok(Some(*x)),
        Some(Lite::Integer(x)) => Ok(Some(*x as f64)),
        other => Err(corrupt(i, "a number", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_bind_by_number() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        let rows = query(&conn, "SELECT $2, $1, $2", &[Value::from(1_i64), Value::from("b")], 10).expect("query");
        assert_eq!(rows, vec![vec![Lite::Text("b".into()), Lite::Integer(1), Lite::Text("b".into())]]);
        assert!(i64(rows[0].first(), 0).is_err(), "text is not read as a number");
        assert_eq!(string(rows[0].first(), 0).expect("text"), "b");
    }
}
