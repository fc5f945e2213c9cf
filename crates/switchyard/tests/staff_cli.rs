//! `switchyard staff …` and `switchyard token …` as the owner runs them,
//! on both backends: a person added with the password from the environment
//! or standard input (never the arguments) signs in; a token's secret is
//! printed once and works until revoked; bad input exits 1 with the reason.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use switchyard_store::testing::{Backend, TestDb};

/// Runs the binary off the runtime's threads with `stdin` on its standard
/// input and `env` set.
async fn switchyard(args: Vec<String>, env: Vec<(&'static str, String)>, stdin: Option<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        cmd.args(&args).env_remove("SWITCHYARD_API_TOKEN").env_remove("SWITCHYARD_STAFF_PASSWORD");
        cmd.envs(env).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run switchyard");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.unwrap_or_default().as_bytes());
        }
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("join")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A database with the location SHOP1.
async fn database(backend: Backend) -> Option<TestDb> {
    let db = TestDb::fresh(backend).await?;
    let clock = std::sync::Arc::new(switchyard_engine::ManualClock::new(1_790_000_000_000));
    let e = switchyard_engine::Engine::open(&db.url, Default::default(), clock, switchyard_engine::IdGen::seeded(1))
        .await
        .expect("open");
    let shop = switchyard_core::Location {
        code: switchyard_core::LocationCode::parse("SHOP1").expect("code"),
        name: "Shop".into(),
        kind: switchyard_core::LocationKind::Store,
        address: switchyard_core::Address {
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
    };
    e.put_location(&shop).await.expect("put");
    Some(db)
}

async fn staff_and_tokens_from_the_command_line(backend: Backend) {
    let Some(db) = database(backend).await else { return };
    let with_db = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend(["--db".to_owned(), db.url.clone()]);
        all
    };
    let add = ["staff", "add", "--name", "Ana Ruiz", "--email", "ana@shop.example", "--role", "store"];
    // The password from the environment.
    let mut args = add.to_vec();
    args.extend(["--location", "SHOP1"]);
    let env = vec![("SWITCHYARD_STAFF_PASSWORD", "correct horse battery".to_owned())];
    let out = switchyard(with_db(&args), env, None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Ana Ruiz <ana@shop.example> (store at SHOP1)"), "{}", text(&out));
    // From standard input.
    let bo = ["staff", "add", "--name", "Bo", "--email", "bo@shop.example", "--role", "ops"];
    let out = switchyard(with_db(&bo), vec![], Some("another long password\n".into())).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Refused: a store role without a location, a short password, a taken e-mail.
    let env = vec![("SWITCHYARD_STAFF_PASSWORD", "correct horse battery".to_owned())];
    let out = switchyard(with_db(&add), env.clone(), None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("needs the location"), "{}", text(&out));
    let out = switchyard(with_db(&bo), vec![("SWITCHYARD_STAFF_PASSWORD", "short".to_owned())], None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("12 to 256 characters"), "{}", text(&out));
    let list = switchyard(with_db(&["staff", "list"]), vec![], None).await;
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("\tAna Ruiz\tana@shop.example\tstore\tSHOP1\tactive"), "{listed}");
    assert!(!listed.contains("argon2") && !listed.contains("correct horse"), "{listed}");
    let out = switchyard(with_db(&["staff", "disable", "ANA@shop.example"]), vec![], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let list = switchyard(with_db(&["staff", "list"]), vec![], None).await;
    assert!(String::from_utf8_lossy(&list.stdout).contains("\tSHOP1\tdisabled"));

    // A token: the secret alone on standard output, once.
    let create = ["token", "create", "--name", "Till 2", "--role", "store", "--location", "SHOP1"];
    let out = switchyard(with_db(&create), vec![], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(secret.starts_with("sy_") && secret.len() == 67, "{secret}");
    let list = switchyard(with_db(&["token", "list"]), vec![], None).await;
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.contains("\tTill 2\tstore\tSHOP1\tlive") && !listed.contains(&secret[3..]), "{listed}");
    let id = listed.split('\t').next().expect("id").to_owned();
    let out = switchyard(with_db(&["token", "revoke", &id]), vec![], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let list = switchyard(with_db(&["token", "list"]), vec![], None).await;
    assert!(String::from_utf8_lossy(&list.stdout).contains("\trevoked\t"));
    let out = switchyard(with_db(&["token", "create", "--name", "x", "--role", "store"]), vec![], None).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // What the commands made is what the engine sees.
    let clock = std::sync::Arc::new(switchyard_engine::ManualClock::new(1_790_000_000_000));
    let e = switchyard_engine::Engine::open(&db.url, Default::default(), clock, switchyard_engine::IdGen::seeded(2))
        .await
        .expect("open");
    assert!(e.authenticate("bo@shop.example", "another long password").await.expect("auth").is_some());
    assert!(e.authenticate("ana@shop.example", "correct horse battery").await.expect("auth").is_none(), "disabled");
    assert!(e.token_principal(&secret).await.expect("read").is_none(), "revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_and_tokens_from_the_command_line_sqlite() {
    staff_and_tokens_from_the_command_line(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_and_tokens_from_the_command_line_postgres() {
    staff_and_tokens_from_the_command_line(Backend::Postgres).await;
}
