//! Staff and API tokens: who may do what. A person (or a token) has a
//! [`Role`]; a store staff member also has the one location they work at.
//! [`may`] is the whole permission table, and the server asks it before
//! every page and API call; the engine and the store never decide access.
//!
//! Also here: the rules for a staff member's name, e-mail and password
//! (checked before anything is hashed or stored), and how an actor is named
//! on timelines ("Ana Ruiz (store staff, SHOP1)").

use serde::{Deserialize, Serialize};

use crate::ids::LocationCode;
use crate::notification::EmailAddress;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted (hashing cost is bounded by input size).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The longest staff or token name: with the role and a location it still
/// fits a timeline's "by" (100 characters).
pub const MAX_STAFF_NAME_CHARS: usize = 50;

/// What a person or token may do, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including people and tokens.
    Owner,
    /// Everything but people and tokens.
    Ops,
    /// Only the picks, pickups and returns of one location.
    Store,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Ops, Role::Store];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Ops => "ops",
            Role::Store => "store",
        }
    }

    pub fn parse(raw: &str) -> Result<Role, StaffError> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw.trim()).ok_or_else(|| StaffError::Role(raw.trim().into()))
    }

    /// In words, as timelines show it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Ops => "ops",
            Role::Store => "store staff",
        }
    }
}

/// What is being asked for, in the terms of the permission table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Seeing or acting on one location's picks, pickups and returns.
    Floor(&'a LocationCode),
    /// Anything across locations or about the shop's set-up: orders,
    /// inventory, every location's returns, exceptions, rules, channels,
    /// settings, metrics.
    Operate,
    /// People and API tokens.
    ManageStaff,
}

/// The permission table: whether someone with `role` (working at `home`,
/// for store staff) may do `action`.
pub fn may(role: Role, home: Option<&LocationCode>, action: Action<'_>) -> bool {
    match (role, action) {
        (Role::Owner, _) => true,
        (Role::Ops, Action::ManageStaff) => false,
        (Role::Ops, _) => true,
        (Role::Store, Action::Floor(at)) => home == Some(at),
        (Role::Store, Action::Operate | Action::ManageStaff) => false,
    }
}

/// Why a staff member or token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("name must be 1 to {MAX_STAFF_NAME_CHARS} characters on one line")]
    Name,
    #[error("email must be one address like name@example.com")]
    Email,
    #[error("role must be owner, ops or store (got {0:?})")]
    Role(String),
    #[error("a store staff member or token needs the location they work at")]
    LocationRequired,
    #[error("only store staff have a location; owner and ops see every location")]
    LocationNotAllowed,
    #[error("the password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    Password,
    #[error(transparent)]
    Location(#[from] crate::ids::IdError),
}

/// A role with its location: `location` is `Some` exactly when the role is
/// [`Role::Store`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    role: Role,
    location: Option<LocationCode>,
}

impl Grant {
    /// Checks that a location goes with store staff and only with them.
    pub fn new(role: Role, location: Option<LocationCode>) -> Result<Grant, StaffError> {
        match (role, &location) {
            (Role::Store, None) => Err(StaffError::LocationRequired),
            (Role::Owner | Role::Ops, Some(_)) => Err(StaffError::LocationNotAllowed),
            _ => Ok(Grant { role, location }),
        }
    }

    /// The owner's grant (everything).
    pub const fn owner() -> Grant {
        Grant { role: Role::Owner, location: None }
    }

    /// From raw text (a form, a body, a command line); a blank location is none.
    pub fn parse(role: &str, location: Option<&str>) -> Result<Grant, StaffError> {
        let location = location.map(str::trim).filter(|l| !l.is_empty()).map(LocationCode::parse).transpose()?;
        Grant::new(Role::parse(role)?, location)
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn location(&self) -> Option<&LocationCode> {
        self.location.as_ref()
    }

    pub fn may(&self, action: Action<'_>) -> bool {
        may(self.role, self.location.as_ref(), action)
    }
}

/// A staff member's or token's name: trimmed, one line, 1 to
/// [`MAX_STAFF_NAME_CHARS`] characters.
pub fn parse_name(raw: &str) -> Result<String, StaffError> {
    let name = raw.trim();
    let count = name.chars().count();
    if count == 0 || count > MAX_STAFF_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(StaffError::Name);
    }
    Ok(name.to_owned())
}

/// A staff member's e-mail address, as typed (unique regardless of case).
pub fn parse_email(raw: &str) -> Result<EmailAddress, StaffError> {
    EmailAddress::parse(raw).map_err(|_| StaffError::Email)
}

/// A new password: long enough to resist guessing, short enough to hash
/// cheaply. Counted in characters; any characters are allowed.
pub fn check_password(password: &str) -> Result<(), StaffError> {
    let count = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&count) {
        Ok(())
    } else {
        Err(StaffError::Password)
    }
}

/// How an actor is named where actions are logged:
/// "Ana Ruiz (store staff, SHOP1)", "Bo Lind (ops)".
pub fn actor_label(name: &str, grant: &Grant) -> String {
    match grant.location() {
        Some(at) => format!("{name} ({}, {at})", grant.role().label()),
        None => format!("{name} ({})", grant.role().label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(raw: &str) -> LocationCode {
        LocationCode::parse(raw).unwrap()
    }

    #[test]
    fn the_permission_table() {
        let (shop1, shop2) = (code("SHOP1"), code("SHOP2"));
        // (role, home, action, allowed): every row of the table.
        let table: Vec<(Role, Option<&LocationCode>, Action<'_>, bool)> = vec![
            (Role::Owner, None, Action::Floor(&shop1), true),
            (Role::Owner, None, Action::Operate, true),
            (Role::Owner, None, Action::ManageStaff, true),
            (Role::Ops, None, Action::Floor(&shop1), true),
            (Role::Ops, None, Action::Floor(&shop2), true),
            (Role::Ops, None, Action::Operate, true),
            (Role::Ops, None, Action::ManageStaff, false),
            (Role::Store, Some(&shop1), Action::Floor(&shop1), true),
            (Role::Store, Some(&shop1), Action::Floor(&shop2), false),
            (Role::Store, Some(&shop1), Action::Operate, false),
            (Role::Store, Some(&shop1), Action::ManageStaff, false),
            // A store role without a home (never built by Grant) may do nothing.
            (Role::Store, None, Action::Floor(&shop1), false),
        ];
        for (role, home, action, allowed) in table {
            assert_eq!(may(role, home, action), allowed, "{role:?} at {home:?} doing {action:?}");
        }
    }

    #[test]
    fn location_codes_are_compared_exactly() {
        let home = code("shop1");
        assert!(!may(Role::Store, Some(&home), Action::Floor(&code("SHOP1"))), "location codes keep their case");
    }

    #[test]
    fn a_location_goes_with_store_staff_only() {
        assert_eq!(Grant::parse("store", None), Err(StaffError::LocationRequired));
        assert_eq!(Grant::parse("store", Some("  ")), Err(StaffError::LocationRequired));
        assert_eq!(Grant::parse("ops", Some("SHOP1")), Err(StaffError::LocationNotAllowed));
        assert_eq!(Grant::parse("owner", Some("SHOP1")), Err(StaffError::LocationNotAllowed));
        assert_eq!(Grant::parse("admin", None), Err(StaffError::Role("admin".into())));
        let g = Grant::parse(" store ", Some(" SHOP1 ")).unwrap();
        assert_eq!((g.role(), g.location().map(LocationCode::as_str)), (Role::Store, Some("SHOP1")));
        assert!(g.may(Action::Floor(&code("SHOP1"))));
        assert!(!g.may(Action::Operate));
        assert_eq!(Grant::parse("ops", Some("")).map(|g| g.role()), Ok(Role::Ops));
    }

    #[test]
    fn names_emails_and_passwords() {
        assert_eq!(parse_name("  Ana Ruiz "), Ok("Ana Ruiz".into()));
        assert_eq!(parse_name(" "), Err(StaffError::Name));
        assert_eq!(parse_name("a\nb"), Err(StaffError::Name));
        assert!(parse_name(&"x".repeat(MAX_STAFF_NAME_CHARS)).is_ok());
        assert_eq!(parse_name(&"x".repeat(MAX_STAFF_NAME_CHARS + 1)), Err(StaffError::Name));
        assert_eq!(parse_email("Ana@Shop.example").map(|e| e.to_string()), Ok("Ana@Shop.example".into()));
        assert_eq!(parse_email("ana"), Err(StaffError::Email));
        assert_eq!(check_password(&"p".repeat(MIN_PASSWORD_CHARS - 1)), Err(StaffError::Password));
        assert_eq!(check_password(&"p".repeat(MIN_PASSWORD_CHARS)), Ok(()));
        assert_eq!(check_password(&"é".repeat(MIN_PASSWORD_CHARS)), Ok(()), "counted in characters");
        assert_eq!(check_password(&"p".repeat(MAX_PASSWORD_CHARS + 1)), Err(StaffError::Password));
    }

    #[test]
    fn actors_are_named_with_role_and_location() {
        let store = Grant::parse("store", Some("SHOP1")).unwrap();
        assert_eq!(actor_label("Ana Ruiz", &store), "Ana Ruiz (store staff, SHOP1)");
        assert_eq!(actor_label("Bo", &Grant::parse("ops", None).unwrap()), "Bo (ops)");
        let longest =
            actor_label(&"x".repeat(MAX_STAFF_NAME_CHARS), &Grant::parse("store", Some(&"L".repeat(32))).unwrap());
        assert!(longest.chars().count() <= crate::text::MAX_NAME_CHARS, "fits a timeline's by: {longest}");
    }
}
