//! `switchyard demo`: a believable small shop on a fresh embedded database,
//! with orders flowing in from several channels through the same code path
//! as the API (`parse_order` then `Store::create_order`), and the shop's
//! staff shipping, collecting payments, cancelling and restocking.
//!
//! The database lives in a directory of its own under the system's temporary
//! directory, removed when the demo ends: by Ctrl-C, SIGTERM or SIGHUP, or an
//! error (only a SIGKILL leaves it behind).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use switchyard_core::{Address, Component, Location, LocationCode, LocationKind, Quantity, Sku, SkuDef};
use switchyard_core::{Channel, ChannelDraft, ChannelKind, ChannelName, OrderStatus};
use switchyard_engine::Engine;
use switchyard_server::{parse_order, AppState, CreateOrderBody, OrderLineBody, ShipToBody};
use switchyard_standin::StandIn;
use switchyard_store::OrderFilter;

use crate::settings::Settings;

mod story;

struct Place {
    code: &'static str,
    name: &'static str,
    kind: LocationKind,
    city: &'static str,
    region: &'static str,
    postal: &'static str,
    lat: f64,
    lon: f64,
    can_pickup: bool,
    priority: i32,
}

const PLACES: [Place; 4] = [
    Place {
        code: "FLAGSHIP",
        name: "Flagship store (Pearl District)",
        kind: LocationKind::Store,
        city: "Portland",
        region: "OR",
        postal: "97209",
        lat: 45.5275,
        lon: -122.6819,
        can_pickup: true,
        priority: 2,
    },
    Place {
        code: "EASTSIDE",
        name: "Eastside store",
        kind: LocationKind::Store,
        city: "Portland",
        region: "OR",
        postal: "97214",
        lat: 45.5152,
        lon: -122.6431,
        can_pickup: true,
        priority: 3,
    },
    Place {
        code: "WH-RENO",
        name: "3PL warehouse (Reno)",
        kind: LocationKind::Warehouse,
        city: "Reno",
        region: "NV",
        postal: "89502",
        lat: 39.5296,
        lon: -119.8138,
        can_pickup: false,
        priority: 1,
    },
    Place {
        code: "VENDOR-PAPERCO",
        name: "PaperCo (dropship)",
        kind: LocationKind::Dropship,
        city: "Denver",
        region: "CO",
        postal: "80202",
        lat: 39.7392,
        lon: -104.9903,
        can_pickup: false,
        priority: 9,
    },
];

/// (sku, title, unit price in cents, stock at FLAGSHIP, EASTSIDE, WH-RENO, VENDOR-PAPERCO, weight of demand)
type Product = (&'static str, &'static str, i64, [i64; 4], u32);

const PRODUCTS: [Product; 27] = [
    ("TEE-LOGO-BLK-S", "Logo tee, black, S", 2800, [6, 3, 40, 0], 6),
    ("TEE-LOGO-BLK-M", "Logo tee, black, M", 2800, [8, 4, 60, 0], 10),
    ("TEE-LOGO-BLK-L", "Logo tee, black, L", 2800, [6, 4, 50, 0], 8),
    ("TEE-LOGO-WHT-S", "Logo tee, white, S", 2800, [4, 2, 30, 0], 4),
    ("TEE-LOGO-WHT-M", "Logo tee, white, M", 2800, [6, 3, 45, 0], 7),
    ("TEE-LOGO-WHT-L", "Logo tee, white, L", 2800, [4, 2, 35, 0], 5),
    ("TEE-BRIDGE-NVY-M", "Bridges tee, navy, M", 3200, [3, 1, 20, 0], 4),
    ("TEE-BRIDGE-NVY-L", "Bridges tee, navy, L", 3200, [2, 1, 16, 0], 3),
    ("HOOD-FOREST-M", "Forest hoodie, M", 6800, [2, 1, 18, 0], 3),
    ("HOOD-FOREST-L", "Forest hoodie, L", 6800, [2, 1, 14, 0], 3),
    ("CAP-CANVAS", "Canvas cap", 2400, [5, 3, 30, 0], 4),
    ("BEANIE-RUST", "Rust beanie", 2200, [6, 2, 25, 0], 3),
    ("MUG-STONE", "Stoneware mug", 1800, [10, 6, 80, 0], 8),
    ("MUG-ENAMEL", "Enamel camp mug", 1600, [8, 4, 60, 0], 5),
    ("CANDLE-CEDAR", "Cedar candle", 2400, [6, 4, 40, 0], 6),
    ("CANDLE-FIG", "Fig candle", 2400, [5, 3, 35, 0], 4),
    ("TOTE-CANVAS", "Canvas tote", 2000, [8, 5, 50, 0], 5),
    ("SOCKS-WOOL", "Wool socks", 1600, [10, 6, 70, 0], 6),
    ("NOTEBOOK-A5", "Letterpress notebook A5", 1400, [4, 2, 0, 200], 4),
    ("CARDS-SET", "Greeting card set", 1200, [6, 3, 0, 300], 3),
    ("PRINT-MAP-PDX", "Portland map print", 4500, [2, 1, 0, 120], 2),
    ("STICKER-PACK", "Sticker pack", 600, [20, 10, 100, 0], 6),
    ("PIN-ENAMEL", "Enamel pin", 1000, [12, 6, 60, 0], 4),
    ("BOTTLE-STEEL", "Steel bottle", 3400, [4, 2, 30, 0], 3),
    ("BLANKET-WOOL", "Wool blanket", 14900, [1, 0, 6, 0], 1),
    // The slow seller: rarely ordered, a few units everywhere.
    ("POSTER-VINTAGE", "Vintage rail poster", 5500, [1, 1, 3, 0], 0),
    ("APRON-DENIM", "Denim apron", 4200, [2, 1, 10, 0], 2),
];

/// The shop's routing rules, active from the start so every order explains
/// itself: nearest first, warehouse first for high-volume SKUs, one apparel
/// unit kept at the flagship for walk-ins, splits only above $75.
const DEMO_POLICY: &str = r#"# Demo shop routing policy (edit it on the Rules page).
[eligibility]
daily_capacity = { FLAGSHIP = 40, EASTSIDE = 25 }

[[eligibility.channels]]
channel = "wholesale"
except_locations = ["FLAGSHIP", "EASTSIDE"]

[[protection]]
locations = ["FLAGSHIP"]
tag = "apparel"
keep_units = 1

[protection.release_to]
min_order_value = { minor = 7500, currency = "USD" }
service_levels = ["same_day", "pickup"]
channels = ["pos"]

[ranking]
mode = "lexicographic"
criteria = [
  { kind = "warehouse_first", tag = "high-volume" },
  { kind = "distance" },
  { kind = "priority" },
]

[split]
strategy = "above_value"
min_order_value = { minor = 7500, currency = "USD" }
max_shipments = 2

[fallback]
chain = ["dropship", "backorder", "hold"]
backorder_restock_days = 7
"#;

/// The shop's return policy: 30 days, final-sale prints stay sold.
const DEMO_RETURN_POLICY: &str = r#"# Demo shop return policy (see the README's returns section).
[window]
default_days = 30

[final_sale]
tags = ["final-sale"]
except_reasons = ["defective", "damaged_in_transit", "wrong_item"]

[refund]
method = "original_payment"
auto_approve_up_to = { minor = 15000, currency = "USD" }
"#;

/// The map print is sold as final sale (the demo's out-of-policy return).
const FINAL_SALE_SKU: &str = "PRINT-MAP-PDX";

/// The bundle: a gift set of a mug, a candle and a tote.
const BUNDLE: (&str, &str, i64) = ("GIFT-SET-HOME", "Home gift set (mug + candle + tote)", 5500);

const CHANNELS: [(&str, u32); 5] = [("shopify", 45), ("amazon", 25), ("etsy", 12), ("pos", 12), ("wholesale", 6)];

const CUSTOMERS: [(&str, &str, &str, &str, &str, f64, f64); 8] = [
    ("Ana Ruiz", "Portland", "OR", "97205", "US", 45.5202, -122.6842),
    ("Ben Okafor", "Seattle", "WA", "98101", "US", 47.6101, -122.3344),
    ("Chloe Martin", "San Francisco", "CA", "94103", "US", 37.7726, -122.4099),
    ("Dev Patel", "Boise", "ID", "83702", "US", 43.6150, -116.2023),
    ("Emma Schulz", "Denver", "CO", "80203", "US", 39.7312, -104.9826),
    ("Farah Ali", "Austin", "TX", "78701", "US", 30.2711, -97.7437),
    ("Gus Novak", "Chicago", "IL", "60601", "US", 41.8858, -87.6181),
    ("Hana Kim", "Brooklyn", "NY", "11201", "US", 40.6943, -73.9903),
];

/// The demo's own temporary directory, removed (with the database, its WAL
/// and shared-memory files) when dropped, so every way out of [`run`] cleans
/// up. Open files in it are fine to remove on Unix: they vanish when closed.
struct DemoDir(std::path::PathBuf);

impl DemoDir {
    fn create() -> anyhow::Result<DemoDir> {
        let path = std::env::temp_dir().join(format!("switchyard-demo-{}", std::process::id()));
        // A directory left by an earlier process with the same id (killed with
        // SIGKILL) holds nothing of ours.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(DemoDir(path))
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("warning: could not remove the demo database {}: {e}", self.0.display());
        }
    }
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT), SIGTERM or
/// SIGHUP.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn run(settings: Settings, orders_per_minute: u32) -> anyhow::Result<()> {
    let dir = DemoDir::create()?;
    let db = dir.0.join("demo.db").display().to_string();
    let result = shop(&settings, &db, orders_per_minute).await;
    drop(dir);
    if result.is_ok() {
        println!("Switchyard demo stopped; its database was removed.");
    }
    result
}

/// Seeds the shop at `db` and serves it until a stop signal.
async fn shop(settings: &Settings, db: &str, orders_per_minute: u32) -> anyhow::Result<()> {
    let engine = Arc::new(settings.engine_at(db).await?);
    seed(&engine).await?;
    let told = story::tell(&engine).await.context("the demo's first stories")?;
    // Local stand-ins of Shopify and Amazon: both connections are live, so
    // the Channels page shows stock levels going out, their lag, and (every
    // seventh Amazon call answers 429) retries.
    let shopify = StandIn::start(ChannelKind::Shopify).await.context("starting the Shopify stand-in")?;
    let amazon = StandIn::start(ChannelKind::Amazon).await.context("starting the Amazon stand-in")?;
    amazon.throttle_every(7);
    connect_stand_ins(&engine, &shopify, &amazon).await?;
    let (config, _) = settings.server_config()?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {} (choose another with --listen)", settings.listen))?;
    let addr = listener.local_addr()?;
    println!("Switchyard demo shop is open.");
    println!("  Dashboard: http://{addr}/");
    println!("  API token: {}", config.api_token.expose());
    println!("  Database:  {db} (SQLite, fresh)");
    println!("  Try:       curl -H 'Authorization: Bearer {}' http://{addr}/api/v1/orders", config.api_token.expose());
    println!("{}", told.render(&format!("http://{addr}")));
    println!("Orders arrive from shopify, amazon, etsy, pos and wholesale. Ctrl-C to stop.");
    println!(
        "Stock levels go out to stand-ins of Shopify ({}) and Amazon ({}): see the Channels page.",
        shopify.url(),
        amazon.url()
    );
    let state = AppState::new(engine.clone(), config);
    let traffic = tokio::spawn(traffic(engine.clone(), orders_per_minute.max(1)));
    // `serve` stops on Ctrl-C once its connections close; the demo stops at
    // once on any stop signal (a browser's keep-alive connection must not
    // keep it, and its files, around).
    let result = tokio::select! {
        r = switchyard_server::serve(listener, state) => r.map_err(anyhow::Error::from),
        () = stop_signal() => Ok(()),
    };
    traffic.abort();
    let _ = traffic.await;
    result
}

/// Connects `shopify` and `amazon` live to their stand-ins, every product
/// mapped (Shopify by inventory item id).
async fn connect_stand_ins(engine: &Engine, shopify: &StandIn, amazon: &StandIn) -> anyhow::Result<()> {
    let pairs = |p: &[(&str, &str)]| p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    for (name, standin, settings, credentials) in [
        // The stand-ins know nothing of the demo's orders, so shipments and
        // cancellations are not told back (`tell_origin: off`).
        (
            "shopify",
            shopify,
            pairs(&[("location_id", "1001"), ("tell_origin", "off")]),
            pairs(&[("access_token", "shpat_demo")]),
        ),
        (
            "amazon",
            amazon,
            pairs(&[
                ("seller_id", "A1DEMO"),
                ("marketplace_id", "ATVPDKIKX0DER"),
                ("poll_orders", "off"),
                ("tell_origin", "off"),
            ]),
            pairs(&[("client_id", "amzn1.demo"), ("client_secret", "demo"), ("refresh_token", "Atzr|demo")]),
        ),
    ] {
        let c = Channel::parse(ChannelDraft {
            name: name.into(),
            kind: Some(name.into()),
            mode: Some("live".into()),
            base_url: Some(standin.url()),
            display_name: Some(format!("{} (local stand-in)", name[..1].to_uppercase() + &name[1..])),
            buffer_units: Some(if name == "amazon" { 1 } else { 0 }),
            settings,
            active: true,
            ..ChannelDraft::default()
        })?;
        engine.put_connection(&c, None, Some(credentials)).await?;
    }
    let shop = ChannelName::parse("shopify")?;
    for (i, (sku, ..)) in PRODUCTS.iter().enumerate() {
        engine.map_channel_sku(&shop, sku, &Sku::parse(sku)?, Some(&(40_000 + i).to_string())).await?;
    }
    engine.map_channel_sku(&shop, BUNDLE.0, &Sku::parse(BUNDLE.0)?, Some("49999")).await?;
    Ok(())
}

async fn seed(engine: &Engine) -> anyhow::Result<()> {
    for p in &PLACES {
        engine
            .put_location(&Location {
                code: LocationCode::parse(p.code)?,
                name: p.name.into(),
                kind: p.kind,
                address: Address {
                    line1: "1 Main St".into(),
                    city: p.city.into(),
                    region: p.region.into(),
                    postal_code: p.postal.into(),
                    country: "US".into(),
                },
                lat: Some(p.lat),
                lon: Some(p.lon),
                can_ship: true,
                can_pickup: p.can_pickup,
                priority: p.priority,
                active: true,
                lead_time_days: if p.kind == LocationKind::Dropship { 3 } else { 0 },
                timezone: if p.region == "CO" { "America/Denver" } else { "America/Los_Angeles" }.into(),
            })
            .await?;
    }
    for (sku, title, _, stock, _) in &PRODUCTS {
        let sku = Sku::parse(sku)?;
        let mut def = SkuDef::plain(sku.clone(), *title);
        if matches!(def.sku.as_str(), "TEE-LOGO-BLK-M" | "MUG-STONE" | "STICKER-PACK" | "SOCKS-WOOL") {
            def.tags.push("high-volume".into());
        }
        if def.sku.as_str().starts_with("TEE-") {
            def.tags.push("apparel".into());
        }
        if def.sku.as_str() == FINAL_SALE_SKU {
            def.tags.push("final-sale".into());
        }
        def.allow_backorder = def.sku.as_str() != "POSTER-VINTAGE";
        engine.put_sku(&def).await?;
        for (place, units) in PLACES.iter().zip(stock) {
            if *units > 0 {
                let safety = if place.kind == LocationKind::Store { Some(1) } else { None };
                engine.set_stock(&sku, &LocationCode::parse(place.code)?, *units, safety, "opening count").await?;
            }
        }
    }
    let components = ["MUG-STONE", "CANDLE-CEDAR", "TOTE-CANVAS"]
        .iter()
        .map(|c| Ok(Component { sku: Sku::parse(c)?, quantity: Quantity::new(1)? }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    engine
        .put_sku(&SkuDef { components, tags: vec!["gift".into()], ..SkuDef::plain(Sku::parse(BUNDLE.0)?, BUNDLE.1) })
        .await?;
    let locations: Vec<LocationCode> = engine.list_locations().await?.into_iter().map(|l| l.code).collect();
    let tags = vec!["apparel".to_owned(), "gift".to_owned(), "high-volume".to_owned()];
    switchyard_core::routing::Policy::from_toml_validated(DEMO_POLICY, &locations, &tags)
        .map_err(|e| anyhow::anyhow!("the demo policy is invalid: {e}"))?;
    let policy = engine.save_policy(DEMO_POLICY, "demo shop rules", "demo").await?;
    engine.activate_policy(policy.version, "demo").await?;
    let returns = engine.save_return_policy(DEMO_RETURN_POLICY, "demo shop returns", "demo").await?;
    engine.activate_return_policy(returns.version, "demo").await?;
    Ok(())
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum::<u32>().max(1);
    let mut roll = rng.gen_range(0..total);
    for item in items {
        let w = weight(item);
        if roll < w {
            return item;
        }
        roll -= w;
    }
    &items[0]
}

fn random_order(rng: &mut StdRng, n: u64) -> CreateOrderBody {
    let (channel, _) = *pick(rng, &CHANNELS, |c| c.1);
    let line_count = if channel == "wholesale" { rng.gen_range(2..=4) } else { *pick(rng, &[1, 1, 1, 2, 2, 3], |_| 1) };
    let mut lines: Vec<OrderLineBody> = Vec::new();
    for _ in 0..line_count {
        let (sku, price) = if rng.gen_ratio(1, 12) {
            (BUNDLE.0, BUNDLE.2)
        } else if rng.gen_ratio(1, 60) {
            ("POSTER-VINTAGE", 5500)
        } else {
            let p = pick(rng, &PRODUCTS, |p| p.4);
            (p.0, p.2)
        };
        if lines.iter().any(|l| l.sku == sku) {
            continue;
        }
        let quantity =
            if channel == "wholesale" { rng.gen_range(3..=12) } else { *pick(rng, &[1, 1, 1, 1, 2, 3], |_| 1) };
        lines.push(OrderLineBody { sku: sku.into(), quantity, unit_price: price, currency: None });
    }
    let c = CUSTOMERS[rng.gen_range(0..CUSTOMERS.len())];
    let pickup = channel == "pos" && rng.gen_ratio(1, 2);
    CreateOrderBody {
        channel: channel.into(),
        external_id: format!("{}-{}", channel.to_uppercase(), 100_000 + n),
        currency: "USD".into(),
        lines,
        ship_to: ShipToBody {
            name: c.0.into(),
            line1: format!("{} Oak St", rng.gen_range(1..900)),
            city: c.1.into(),
            region: c.2.into(),
            postal_code: c.3.into(),
            country: c.4.into(),
            lat: Some(c.5),
            lon: Some(c.6),
        },
        service_level: Some(
            if pickup {
                "pickup"
            } else if rng.gen_ratio(1, 8) {
                "expedited"
            } else {
                "standard"
            }
            .into(),
        ),
        pickup_location: pickup.then(|| "FLAGSHIP".into()),
        payment: Some(if channel == "shopify" && rng.gen_ratio(1, 6) { "pending" } else { "paid" }.into()),
        email: None,
    }
}

/// The shop's day: orders arrive; staff ship, take payments, cancel, restock.
async fn traffic(engine: Arc<Engine>, orders_per_minute: u32) {
    let mut rng = StdRng::from_entropy();
    let mut tick = tokio::time::interval(Duration::from_millis(60_000 / u64::from(orders_per_minute)));
    let mut n = 0u64;
    loop {
        tick.tick().await;
        n += 1;
        // Same path as POST /api/v1/orders.
        match parse_order(random_order(&mut rng, n)) {
            Ok(order) => {
                if let Err(e) = engine.create_order(&order).await {
                    tracing::warn!(error = %e, "demo order refused");
                }
            }
            Err(e) => tracing::warn!(error = %e.message, "demo order invalid"),
        }
        if let Err(e) = staff(&engine, &mut rng).await {
            tracing::warn!(error = %e, "demo staff action failed");
        }
    }
}

async fn staff(engine: &Engine, rng: &mut StdRng) -> anyhow::Result<()> {
    let roll = rng.gen_range(0..10);
    if roll < 5 {
        // Ship the oldest accepted order, location by location.
        let page = engine
            .list_orders(&OrderFilter {
                status: Some(OrderStatus::Accepted.as_str().into()),
                limit: 20,
                ..Default::default()
            })
            .await?;
        if let Some(o) = page.orders.last() {
            let tracking = format!("1Z{:010}", rng.gen_range(0..9_999_999_999u64));
            let carrier = |loc: &str| (if loc.starts_with("WH") { "UPS" } else { "USPS" }.to_owned(), tracking.clone());
            story::ship_open(engine, o, carrier).await?;
        }
    } else if roll < 7 {
        let page = engine
            .list_orders(&OrderFilter {
                status: Some(OrderStatus::PendingPayment.as_str().into()),
                limit: 5,
                ..Default::default()
            })
            .await?;
        if let Some(o) = page.orders.last() {
            engine.mark_paid(&o.id).await?;
        }
    } else if roll < 8 && rng.gen_ratio(1, 3) {
        let page = engine
            .list_orders(&OrderFilter {
                status: Some(OrderStatus::Accepted.as_str().into()),
                limit: 10,
                ..Default::default()
            })
            .await?;
        if let Some(o) = page.orders.first() {
            engine.cancel_order(&o.id, "customer changed their mind").await?;
        }
    } else {
        // Restock whatever ran low at the warehouse.
        for row in engine.all_positions().await? {
            if row.location == "WH-RENO" && row.available < 5 {
                engine
                    .adjust_stock(
                        &Sku::parse(&row.sku)?,
                        &LocationCode::parse(&row.location)?,
                        30,
                        "receipt: weekly delivery",
                    )
                    .await?;
            }
        }
    }
    Ok(())
}
