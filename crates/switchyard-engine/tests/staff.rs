//! Staff accounts and scoped API tokens on SQLite and PostgreSQL (see
//! `both!`): created and authenticated (wrong password, unknown e-mail,
//! disabled all refused alike), disabling ends their sessions, a token's
//! secret works until it is revoked, and the core's rules are applied at
//! the engine's door.

mod common;

use std::sync::Arc;

use common::loc;

use switchyard_core::staff::{Action, Role};
use switchyard_core::{Address, Location, LocationKind};
use switchyard_engine::{Code, Config, Engine, IdGen, ManualClock, NewSession, PrincipalKind, StaffDraft};
use switchyard_store::testing::{Backend, TestDb};

both!(
    a_staff_member_signs_in_with_their_password_and_nothing_else,
    disabling_a_staff_member_refuses_them_and_ends_their_sessions,
    a_token_works_until_revoked_and_its_secret_is_never_stored,
    staff_and_tokens_are_checked_by_the_cores_rules,
    a_password_change_keeps_the_old_one_out,
);

const NOW: i64 = 1_790_000_000_000;

use common::Clocked as T;

fn shop(code: &str) -> Location {
    Location {
        code: loc(code),
        name: format!("{code} shop"),
        kind: LocationKind::Store,
        address: Address {
            line1: "1 Main".into(),
            city: "Portland".into(),
            region: "OR".into(),
            postal_code: "97205".into(),
            country: "US".into(),
        },
        lat: None,
        lon: None,
        can_ship: true,
        can_pickup: true,
        priority: 1,
        active: true,
        lead_time_days: 0,
        timezone: "UTC".into(),
    }
}

async fn open(db: &TestDb) -> T {
    let clock = Arc::new(ManualClock::new(NOW));
    let e = Engine::open(&db.url, Config::default(), clock.clone(), IdGen::seeded(7)).await.expect("open");
    e.put_location(&shop("SHOP1")).await.expect("location");
    T { e: Arc::new(e), clock }
}

fn ana() -> StaffDraft {
    StaffDraft {
        name: "Ana Ruiz".into(),
        email: "Ana@Shop.example".into(),
        role: "store".into(),
        location: Some("SHOP1".into()),
        password: "correct horse battery".into(),
    }
}

async fn a_staff_member_signs_in_with_their_password_and_nothing_else(t: T) {
    let made = t.create_staff(ana()).await.expect("create");
    assert_eq!((made.role.as_str(), made.location.as_deref()), ("store", Some("SHOP1")));
    // The e-mail is matched whatever its case.
    let p = t.authenticate("ana@shop.EXAMPLE", "correct horse battery").await.expect("auth").expect("signed in");
    assert_eq!(p.kind, PrincipalKind::Staff(made.id.clone()));
    assert_eq!(p.actor(), "Ana Ruiz (store staff, SHOP1)");
    assert!(p.may(Action::Floor(&loc("SHOP1"))) && !p.may(Action::Floor(&loc("SHOP2"))));
    assert!(!p.may(Action::Operate));
    assert_eq!(t.authenticate("ana@shop.example", "correct horse batterx").await.expect("auth"), None);
    assert_eq!(t.authenticate("bo@shop.example", "correct horse battery").await.expect("auth"), None);
    assert_eq!(t.authenticate("", "").await.expect("auth"), None);
    // The same address in another case is taken: 409, nothing written.
    let again = StaffDraft { email: "ANA@shop.example".into(), ..ana() };
    let e = t.create_staff(again).await.expect_err("taken");
    assert_eq!(e.code(), Code::InvalidRequest, "{e}");
    assert_eq!(t.list_staff().await.expect("list").len(), 1);
    // The hash is argon2id, never the password.
    let listed = format!("{:?}", t.list_staff().await.expect("list"));
    assert!(!listed.contains("correct horse"), "{listed}");
}

async fn disabling_a_staff_member_refuses_them_and_ends_their_sessions(t: T) {
    let made = t.create_staff(ana()).await.expect("create");
    let session =
        NewSession { id_hash: "h1".into(), binding: "b".into(), csrf: "c".into(), staff_id: Some(made.id.clone()) };
    t.open_session(session, 60_000).await.expect("session");
    assert!(t.session("h1").await.expect("read").is_some());
    t.clock.advance_ms(5);
    let disabled = t.disable_staff(&made.id).await.expect("disable");
    assert!(disabled.disabled_at.is_some());
    assert!(t.session("h1").await.expect("read").is_none(), "their session ended");
    assert_eq!(t.staff_principal(&made.id).await.expect("read"), None);
    assert_eq!(t.authenticate("ana@shop.example", "correct horse battery").await.expect("auth"), None);
    // Again: harmless; unknown: 404.
    assert_eq!(t.disable_staff(&made.id).await.expect("again").disabled_at, disabled.disabled_at);
    assert_eq!(t.disable_staff("nobody").await.expect_err("unknown").code(), Code::NotFound);
}

async fn a_token_works_until_revoked_and_its_secret_is_never_stored(t: T) {
    let made = t.create_token("Till 2", "store", Some("SHOP1")).await.expect("token");
    assert!(made.secret.starts_with("sy_") && made.secret.len() == 67, "{}", made.secret);
    let p = t.token_principal(&made.secret).await.expect("read").expect("known");
    assert_eq!(p.kind, PrincipalKind::Token(made.token.id.clone()));
    assert_eq!(p.role(), Role::Store);
    assert_eq!(p.actor(), "Till 2 (store staff, SHOP1; token)");
    let listed = t.list_tokens().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "its use is noted");
    assert!(!format!("{listed:?}").contains(&made.secret[3..]), "never listed");
    assert_eq!(t.token_principal("sy_nope").await.expect("read"), None);
    let revoked = t.revoke_token(&made.token.id).await.expect("revoke");
    assert!(revoked.revoked_at.is_some());
    assert_eq!(t.token_principal(&made.secret).await.expect("read"), None, "refused once revoked");
    assert_eq!(t.revoke_token("nope").await.expect_err("unknown").code(), Code::NotFound);
}

async fn staff_and_tokens_are_checked_by_the_cores_rules(t: T) {
    let refused = [
        (StaffDraft { password: "short".into(), ..ana() }, Code::InvalidBody),
        (StaffDraft { location: None, ..ana() }, Code::InvalidBody),
        (StaffDraft { role: "ops".into(), ..ana() }, Code::InvalidBody),
        (StaffDraft { role: "admin".into(), ..ana() }, Code::InvalidBody),
        (StaffDraft { email: "ana".into(), ..ana() }, Code::InvalidBody),
        (StaffDraft { name: " ".into(), ..ana() }, Code::InvalidBody),
        (StaffDraft { location: Some("SHOP9".into()), ..ana() }, Code::UnknownLocation),
    ];
    for (draft, code) in refused {
        let e = t.create_staff(draft.clone()).await.expect_err("refused");
        assert_eq!(e.code(), code, "{draft:?}: {e}");
    }
    assert!(t.list_staff().await.expect("list").is_empty(), "nothing written");
    assert_eq!(t.create_token("x", "store", None).await.expect_err("no location").code(), Code::InvalidBody);
    assert_eq!(t.create_token("x", "store", Some("SHOP9")).await.expect_err("unknown").code(), Code::UnknownLocation);
    assert!(t.list_tokens().await.expect("list").is_empty(), "nothing written");
    let ops = t.create_token("Reports", "ops", None).await.expect("ops token");
    let p = t.token_principal(&ops.secret).await.expect("read").expect("known");
    assert!(p.may(Action::Operate) && !p.may(Action::ManageStaff));
}

async fn a_password_change_keeps_the_old_one_out(t: T) {
    let made = t.create_staff(ana()).await.expect("create");
    assert_eq!(t.change_password(&made.id, "short".into()).await.expect_err("too short").code(), Code::InvalidBody);
    t.change_password(&made.id, "a much newer passphrase".into()).await.expect("change");
    assert_eq!(t.authenticate("ana@shop.example", "correct horse battery").await.expect("auth"), None);
    assert!(t.authenticate("ana@shop.example", "a much newer passphrase").await.expect("auth").is_some());
}
