//! Portable column types.
//!
//! The same schema runs on PostgreSQL and SQLite, so the types that differ
//! between them are defined once here:
//!
//! | Rust          | SQL type       | PostgreSQL    | SQLite                                   |
//! |---------------|----------------|---------------|------------------------------------------|
//! | `uuid::Uuid`  | [`PUuid`]      | `uuid`        | `TEXT`, hyphenated lower case            |
//! | `DateTime<Utc>` | [`PTimestamp`] | `timestamptz` | `TEXT`, `YYYY-MM-DDTHH:MM:SS.ffffffZ`  |
//! | JSON values   | `Text`         | `text`        | `TEXT` (serialised with serde_json)      |
//! | arrays        | `Text`         | `text`        | `TEXT` (a JSON array)                    |
//! | `NaiveDate`   | `Date`         | `date`        | `TEXT` (diesel's own mapping)            |
//!
//! The SQLite timestamp text is fixed-width, so text order is time order and
//! keyset comparisons work on the raw column. Timestamps are truncated to
//! microseconds before they are written ([`now`], [`truncate`]) because
//! PostgreSQL keeps microseconds: a value must read back equal on both.

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Timelike, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, Text};
use diesel::sqlite::Sqlite;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;

use super::MultiBackend;

/// A UUID column: native `uuid` on PostgreSQL, `TEXT` on SQLite.
#[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug, Clone, Copy, Default)]
#[diesel(postgres_type(name = "uuid"))]
#[diesel(sqlite_type(name = "Text"))]
pub struct PUuid;

/// A UTC timestamp column: `timestamptz` on PostgreSQL, fixed-width `TEXT` on SQLite.
#[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug, Clone, Copy, Default)]
#[diesel(postgres_type(name = "timestamptz"))]
#[diesel(sqlite_type(name = "Text"))]
pub struct PTimestamp;

/// A UUID as stored in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = PUuid)]
pub struct DbUuid(pub uuid::Uuid);

/// A UTC timestamp as stored in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = PTimestamp)]
pub struct DbTimestamp(pub DateTime<Utc>);

/// A JSON document in a `Text` column: lists, objects and nested DTOs
/// (`tags`, `consents`, `address`, …), typed in the row.
#[derive(Debug, Clone, Default, PartialEq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Json<T>(pub T);

impl<T: Serialize> Json<T> {
    fn text(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.0)
    }
}

impl<T, DB> FromSql<Text, DB> for Json<T>
where
    T: DeserializeOwned,
    DB: diesel::backend::Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        Ok(Self(serde_json::from_str(&s)?))
    }
}
impl<T: Serialize + std::fmt::Debug> ToSql<Text, Pg> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.text()?.as_bytes())?;
        Ok(IsNull::No)
    }
}
impl<T: Serialize + std::fmt::Debug> ToSql<Text, Sqlite> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.text()?);
        Ok(IsNull::No)
    }
}
impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> ToSql<Text, MultiBackend> for Json<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

/// The current time, truncated to what both backends keep.
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// Truncates to microseconds (PostgreSQL's precision), leap second normalised.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    normalize_leap_second(t).trunc_subsecs(6)
}

/// A leap second (`…:59:60.f`, which chrono holds as nanoseconds ≥ 10⁹) as
/// the same fraction into the next second, which is what PostgreSQL stores.
/// Every timestamp that reaches either backend passes through here, so both
/// read back the same instant.
pub fn normalize_leap_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let ns = t.nanosecond();
    if ns < 1_000_000_000 {
        return t;
    }
    t.with_nanosecond(ns - 1_000_000_000).map_or(t, |s| s + Duration::seconds(1))
}

/// Deserialises an optional timestamp (bodies and query strings) with any
/// leap second normalised, so validation (the year range, `valid_until >
/// valid_from`) sees the instant that will be stored.
pub fn deserialize_time<'de, D>(d: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let t: Option<DateTime<Utc>> = serde::Deserialize::deserialize(d)?;
    Ok(t.map(normalize_leap_second))
}

/// The text form of a timestamp on SQLite; also used in cursors.
pub fn timestamp_text(t: &DateTime<Utc>) -> String {
    normalize_leap_second(*t).to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl From<uuid::Uuid> for DbUuid {
    fn from(u: uuid::Uuid) -> Self {
        Self(u)
    }
}
impl From<DateTime<Utc>> for DbTimestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self(truncate(t))
    }
}

impl ToSql<PUuid, Pg> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <uuid::Uuid as ToSql<diesel::sql_types::Uuid, Pg>>::to_sql(&self.0, out)
    }
}
impl FromSql<PUuid, Pg> for DbUuid {
    fn from_sql(bytes: <Pg as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <uuid::Uuid as FromSql<diesel::sql_types::Uuid, Pg>>::from_sql(bytes).map(Self)
    }
}
impl ToSql<PUuid, Sqlite> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}
impl FromSql<PUuid, Sqlite> for DbUuid {
    fn from_sql(bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
        Ok(Self(uuid::Uuid::parse_str(&s)?))
    }
}

impl ToSql<PTimestamp, Pg> for DbTimestamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let t = normalize_leap_second(self.0);
        <DateTime<Utc> as ToSql<diesel::sql_types::Timestamptz, Pg>>::to_sql(&t, &mut out.reborrow())
    }
}
impl FromSql<PTimestamp, Pg> for DbTimestamp {
    fn from_sql(bytes: <Pg as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(bytes).map(Self)
    }
}
impl ToSql<PTimestamp, Sqlite> for DbTimestamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(timestamp_text(&self.0));
        Ok(IsNull::No)
    }
}
impl FromSql<PTimestamp, Sqlite> for DbTimestamp {
    fn from_sql(bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
        Ok(Self(DateTime::parse_from_rfc3339(&s)?.with_timezone(&Utc)))
    }
}

// The multi-backend glue: dispatch to whichever backend the connection is.
impl HasSqlType<PUuid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        Self::lookup_sql_type::<PUuid>(lookup)
    }
}
impl HasSqlType<PTimestamp> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        Self::lookup_sql_type::<PTimestamp>(lookup)
    }
}
impl ToSql<PUuid, MultiBackend> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((PUuid, self));
        Ok(IsNull::No)
    }
}
impl FromSql<PUuid, MultiBackend> for DbUuid {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, PUuid>()
    }
}
impl ToSql<PTimestamp, MultiBackend> for DbTimestamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((PTimestamp, self));
        Ok(IsNull::No)
    }
}
impl FromSql<PTimestamp, MultiBackend> for DbTimestamp {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, PTimestamp>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn leap_seconds_become_the_next_second() {
        assert_eq!(normalize_leap_second(at("2016-12-31T23:59:60Z")), at("2017-01-01T00:00:00Z"));
        assert_eq!(normalize_leap_second(at("2016-12-31T23:59:60.25Z")), at("2017-01-01T00:00:00.25Z"));
        assert_eq!(timestamp_text(&at("2016-12-31T23:59:60.5Z")), "2017-01-01T00:00:00.500000Z");
        assert_eq!(truncate(at("2016-12-31T23:59:60.1234567Z")), at("2017-01-01T00:00:00.123456Z"));
        let plain = at("2016-12-31T23:59:59.999999Z");
        assert_eq!(normalize_leap_second(plain), plain);
        use chrono::Datelike;
        assert_eq!(normalize_leap_second(at("9999-12-31T23:59:60.999999Z")).year(), 10000);
    }
}
