//! Staff accounts and scoped API tokens: create, disable, change a password,
//! authenticate; create (the secret is returned once), list and revoke
//! tokens. Who may do what is the core's table (`switchyard_core::staff`);
//! the server asks it with the [`Principal`] these use cases return.
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults) off
//! the async threads; an unknown e-mail address is checked against a dummy
//! hash so that it costs what a wrong password costs. API tokens are 32
//! random bytes shown once; only their SHA-256 is kept, so checking one on
//! every request is a hash and an indexed look-up, never argon2.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchyard_core::staff::{self as rules, Action, Grant, Role, StaffError};
use switchyard_store::catalog;
use switchyard_store::sessions;
use switchyard_store::staff::{self as rows, StaffRecord, StaffView, TokenRecord, TokenView};

use crate::{Engine, Error};

/// The most staff members or tokens a list shows.
pub const MAX_LISTED: i64 = 500;

/// A token's `last_used_at` is written at most this often (it is a write
/// on a read path).
const TOUCH_EVERY_MS: i64 = 60 * 60 * 1000;

/// Who is acting: the admin token (the owner's bootstrap credential), a
/// staff member, or a scoped API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The person's or token's name.
    pub name: String,
    pub grant: Grant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    AdminToken,
    /// A staff member, by id.
    Staff(String),
    /// A scoped API token, by id.
    Token(String),
}

impl Principal {
    /// The holder of `SWITCHYARD_API_TOKEN`: the owner.
    pub fn admin() -> Principal {
        Principal { kind: PrincipalKind::AdminToken, name: "owner".into(), grant: Grant::owner() }
    }

    /// How timelines name them: "owner (admin token)", "Ana Ruiz (store
    /// staff, SHOP1)", "Till 2 (store staff, SHOP1; token)".
    pub fn actor(&self) -> String {
        match &self.kind {
            PrincipalKind::AdminToken => "owner (admin token)".into(),
            PrincipalKind::Staff(_) => rules::actor_label(&self.name, &self.grant),
            PrincipalKind::Token(_) => {
                let label = rules::actor_label(&self.name, &self.grant);
                format!("{}; token)", label.trim_end_matches(')'))
            }
        }
    }

    pub fn may(&self, action: Action<'_>) -> bool {
        self.grant.may(action)
    }

    pub fn role(&self) -> Role {
        self.grant.role()
    }

    /// The staff member's id, when a person (not a token) acts.
    pub fn staff_id(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::Staff(id) => Some(id),
            _ => None,
        }
    }
}

/// What a new staff member is made from (raw text: the core checks it).
#[derive(Clone, Default)]
pub struct StaffDraft {
    pub name: String,
    pub email: String,
    pub role: String,
    pub location: Option<String>,
    pub password: String,
}

/// Never prints the password.
impl std::fmt::Debug for StaffDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffDraft")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("location", &self.location)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A token as made: its view, and the secret (shown once, never stored).
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: TokenView,
    pub secret: String,
}

fn staff_error(e: StaffError) -> Error {
    match e {
        StaffError::Location(id) => Error::Id(id),
        other => Error::Invalid(other.to_string()),
    }
}

/// The SHA-256 of a token's secret, as stored.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

async fn hash_password(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing a password stopped: {e}")))?
}

/// A hash nobody's password matches, checked when the e-mail address is
/// unknown so that a miss takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        Argon2::default().hash_password(&secret, &salt).map(|h| h.to_string()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the dummy password hash failed; unknown e-mails answer faster");
            String::new()
        })
    })
}

async fn verify_password(password: String, stored: Option<String>) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = PasswordHash::new(&phc)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        known && ok
    })
    .await
    .map_err(|e| Error::Internal(format!("checking a password stopped: {e}")))
}

fn grant_of(role: &str, location: Option<&str>) -> Result<Grant, Error> {
    Grant::parse(role, location).map_err(|e| Error::Internal(format!("stored grant ({role}, {location:?}): {e}")))
}

fn staff_principal(s: &StaffRecord) -> Result<Principal, Error> {
    Ok(Principal {
        kind: PrincipalKind::Staff(s.id.clone()),
        name: s.name.clone(),
        grant: grant_of(&s.role, s.location.as_deref())?,
    })
}

impl Engine {
    /// Adds a staff member. The name, e-mail, role, location and password
    /// are checked by the core's rules; a store location must exist; an
    /// e-mail address already used (in any case) is refused.
    pub async fn create_staff(&self, d: StaffDraft) -> Result<StaffView, Error> {
        let name = rules::parse_name(&d.name).map_err(staff_error)?;
        let email = rules::parse_email(&d.email).map_err(staff_error)?;
        let grant = Grant::parse(&d.role, d.location.as_deref()).map_err(staff_error)?;
        rules::check_password(&d.password).map_err(staff_error)?;
        let password_hash = hash_password(d.password).await?;
        let now = self.now_ms();
        let record = StaffRecord {
            id: String::new(),
            name,
            email: email.to_string(),
            password_hash,
            role: grant.role().as_str().into(),
            location: grant.location().map(|l| l.to_string()),
            created_at: now,
            disabled_at: None,
        };
        self.run(move |tx, ctx| {
            Box::pin(async move {
                if let Some(at) = grant.location() {
                    if !catalog::location_exists(tx, at).await? {
                        return Err(Error::UnknownLocation(at.to_string()));
                    }
                }
                let record = StaffRecord { id: ctx.ids.next(now), ..record };
                if !rows::insert_staff(tx, &record).await? {
                    return Err(Error::Conflict(format!("a staff member with e-mail {} exists", record.email)));
                }
                Ok(StaffView::from(&record))
            })
        })
        .await
    }

    /// Disables a staff member: they can no longer sign in, and every
    /// session they have open ends now. Disabling twice is harmless.
    pub async fn disable_staff(&self, id: &str) -> Result<StaffView, Error> {
        let (id, now) = (id.to_owned(), self.now_ms());
        self.run(move |tx, _| {
            Box::pin(async move {
                rows::disable_staff(tx, &id, now).await?;
                sessions::delete_for_staff(tx, &id).await?;
                let s = rows::get_staff(tx, &id).await?;
                s.map(|s| StaffView::from(&s)).ok_or(Error::NotFound { what: "staff member", key: id })
            })
        })
        .await
    }

    /// Sets a new password; every session the person has open ends.
    pub async fn change_password(&self, id: &str, password: String) -> Result<(), Error> {
        rules::check_password(&password).map_err(staff_error)?;
        let hash = hash_password(password).await?;
        let id = id.to_owned();
        self.run(move |tx, _| {
            Box::pin(async move {
                if !rows::set_password(tx, &id, &hash).await? {
                    return Err(Error::NotFound { what: "staff member", key: id });
                }
                sessions::delete_for_staff(tx, &id).await?;
                Ok(())
            })
        })
        .await
    }

    /// The staff member with this e-mail and password, unless disabled.
    /// `None` for any failure, which costs about what a success costs.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<Principal>, Error> {
        let found = if email.trim().is_empty() {
            None
        } else {
            let mut tx = self.read().await?;
            let found = rows::staff_by_email(&mut tx, email.trim()).await?;
            tx.rollback().await?;
            found
        };
        let live = found.filter(|s| s.disabled_at.is_none());
        // Passwords over the limit are never hashed (bounded work).
        let password = password.chars().take(rules::MAX_PASSWORD_CHARS + 1).collect::<String>();
        let ok = verify_password(password, live.as_ref().map(|s| s.password_hash.clone())).await?;
        match live {
            Some(s) if ok => Ok(Some(staff_principal(&s)?)),
            _ => Ok(None),
        }
    }

    /// The staff member a session belongs to, unless since disabled.
    pub async fn staff_principal(&self, id: &str) -> Result<Option<Principal>, Error> {
        let mut tx = self.read().await?;
        let found = rows::get_staff(&mut tx, id).await?;
        tx.rollback().await?;
        found.filter(|s| s.disabled_at.is_none()).map(|s| staff_principal(&s)).transpose()
    }

    /// Every staff member, by name (at most [`MAX_LISTED`]).
    pub async fn list_staff(&self) -> Result<Vec<StaffView>, Error> {
        let mut tx = self.read().await?;
        let found = rows::list_staff(&mut tx, MAX_LISTED).await?;
        tx.rollback().await?;
        Ok(found.iter().map(StaffView::from).collect())
    }

    /// Makes an API token with this name and scope. The secret is in the
    /// answer and nowhere else: only its SHA-256 is stored.
    pub async fn create_token(&self, name: &str, role: &str, location: Option<&str>) -> Result<NewToken, Error> {
        let name = rules::parse_name(name).map_err(staff_error)?;
        let grant = Grant::parse(role, location).map_err(staff_error)?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("sy_{}", hex::encode(bytes));
        let now = self.now_ms();
        let record = TokenRecord {
            id: String::new(),
            name,
            secret_hash: token_hash(&secret),
            role: grant.role().as_str().into(),
            location: grant.location().map(|l| l.to_string()),
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        };
        let token = self
            .run(move |tx, ctx| {
                Box::pin(async move {
                    if let Some(at) = grant.location() {
                        if !catalog::location_exists(tx, at).await? {
                            return Err(Error::UnknownLocation(at.to_string()));
                        }
                    }
                    let record = TokenRecord { id: ctx.ids.next(now), ..record };
                    rows::insert_token(tx, &record).await?;
                    Ok(TokenView::from(&record))
                })
            })
            .await?;
        Ok(NewToken { token, secret })
    }

    /// Who a presented API token is, unless unknown or revoked. Notes its
    /// use (at most hourly).
    pub async fn token_principal(&self, secret: &str) -> Result<Option<Principal>, Error> {
        let hash = token_hash(secret);
        let mut tx = self.read().await?;
        let found = rows::live_token(&mut tx, &hash).await?;
        tx.rollback().await?;
        let Some(t) = found.filter(|t| bool::from(t.secret_hash.as_bytes().ct_eq(hash.as_bytes()))) else {
            return Ok(None);
        };
        let now = self.now_ms();
        if t.last_used_at.is_none_or(|at| now.saturating_sub(at) >= TOUCH_EVERY_MS) {
            let id = t.id.clone();
            self.run(move |tx, _| Box::pin(async move { Ok(rows::touch_token(tx, &id, now).await?) })).await?;
        }
        Ok(Some(Principal {
            kind: PrincipalKind::Token(t.id.clone()),
            name: t.name.clone(),
            grant: grant_of(&t.role, t.location.as_deref())?,
        }))
    }

    /// Every token, newest first (at most [`MAX_LISTED`]); never a secret.
    pub async fn list_tokens(&self) -> Result<Vec<TokenView>, Error> {
        let mut tx = self.read().await?;
        let found = rows::list_tokens(&mut tx, MAX_LISTED).await?;
        tx.rollback().await?;
        Ok(found.iter().map(TokenView::from).collect())
    }

    /// Revokes a token: from now on it gets 401. Revoking twice is harmless.
    pub async fn revoke_token(&self, id: &str) -> Result<TokenView, Error> {
        let (id, now) = (id.to_owned(), self.now_ms());
        self.run(move |tx, _| {
            Box::pin(async move {
                rows::revoke_token(tx, &id, now).await?;
                let t = rows::get_token(tx, &id).await?;
                t.map(|t| TokenView::from(&t)).ok_or(Error::NotFound { what: "API token", key: id })
            })
        })
        .await
    }
}
