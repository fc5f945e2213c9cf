use super::*;
use crate::catalog::Component;
use crate::location::{Address, LocationKind};
use crate::{LocationCode, Quantity, Sku};

fn sku(code: &str, title: &str) -> SkuDef {
    SkuDef {
        sku: Sku::parse(code).expect("sku"),
        title: title.into(),
        components: vec![],
        tags: vec![],
        allow_backorder: false,
    }
}

fn location(code: &str, postal_code: &str, coordinates: bool) -> Location {
    Location {
        code: LocationCode::parse(code).expect("code"),
        name: code.into(),
        kind: LocationKind::Warehouse,
        address: Address {
            line1: "1 Dock".into(),
            city: "Reno".into(),
            region: "NV".into(),
            postal_code: postal_code.into(),
            country: "US".into(),
        },
        lat: coordinates.then_some(39.5),
        lon: coordinates.then_some(-119.8),
        can_ship: true,
        can_pickup: false,
        priority: 1,
        active: true,
        lead_time_days: 0,
        timezone: "UTC".into(),
    }
}

fn kinds(r: &HealthReport) -> Vec<(FindingKind, String)> {
    r.findings.iter().map(|f| (f.kind, f.subject.clone())).collect()
}

fn clean_shop() -> CatalogueFacts {
    let mut mug = sku("MUG", "Stoneware mug");
    mug.tags = vec!["bestseller".into()];
    let mut kit = sku("KIT", "Breakfast kit");
    kit.components = vec![Component { sku: Sku::parse("MUG").expect("sku"), quantity: Quantity::new(2).expect("q") }];
    CatalogueFacts {
        skus: vec![mug, sku("TEE-RED-M", "Red tee, medium"), sku("TEE-RED-L", "Red tee, large"), kit],
        locations: vec![location("WH", "89501", true)],
        on_hand: BTreeMap::from([("MUG".into(), 4), ("TEE-RED-M".into(), 1)]),
        recently_ordered: vec![("MUG".into(), 3), ("KIT".into(), 1), ("TEE-RED-M".into(), 2)],
        window_days: 30,
        held: vec![],
        policies: vec![(
            "active policy v1".into(),
            "[[protection]]\nlocations = [\"WH\"]\ntag = \"bestseller\"\nkeep_units = 1\n".into(),
        )],
    }
}

#[test]
fn a_clean_shop_has_no_findings() {
    let r = check(&clean_shop());
    assert!(r.is_clean(), "{:#?}", r.findings);
    assert_eq!((r.skus_checked, r.locations_checked, r.policies_checked), (4, 1, 1));
}

#[test]
fn each_planted_problem_is_found_with_its_fix() {
    let mut f = clean_shop();
    f.skus.push(sku("tee_red_m", "Tee red M (old)"));
    f.skus.push(sku("CANDLE-1", "Soy candle, lavender 8 oz"));
    f.skus.push(sku("CANDLE-2", "Soy candle, lavendr 8 oz"));
    f.skus.push(sku("POSTER", "Blue Mug 12oz"));
    f.skus.push(sku("POSTER-B", "blue mug, 12 OZ"));
    f.on_hand.remove("MUG");
    f.locations.push(location("EAST", "9720", false));
    f.held = vec![("shopify".into(), "unmapped:Blue#20Mug".into(), 2)];
    // The tag went away from every SKU: the active policy protects nothing.
    f.skus[0].tags.clear();
    let r = check(&f);
    let found = kinds(&r);
    let want = [
        (FindingKind::DuplicateSku, "TEE-RED-M, tee_red_m"),
        (FindingKind::SimilarTitles, "POSTER, POSTER-B"),
        (FindingKind::SimilarTitles, "CANDLE-1, CANDLE-2"),
        (FindingKind::NoStockStillSells, "MUG"),
        (FindingKind::NoStockStillSells, "KIT"),
        (FindingKind::LocationWithoutCoordinates, "EAST"),
        (FindingKind::LocationBadAddress, "EAST"),
        (FindingKind::UnmappedChannelSku, "shopify: \"Blue Mug\""),
        (FindingKind::PolicyUnknownTag, "active policy v1"),
    ];
    for (kind, subject) in want {
        assert!(found.contains(&(kind, subject.to_owned())), "{kind:?} {subject}: {found:#?}");
    }
    assert_eq!(found.len(), want.len(), "{found:#?}");
    for finding in &r.findings {
        assert!(!finding.fix.is_empty() && !finding.problem.is_empty(), "{finding:?}");
    }
    let kit = r.findings.iter().find(|x| x.subject == "KIT").expect("kit");
    assert!(kit.problem.contains("component(s) MUG"), "{kit:?}");
    let tag = r.findings.iter().find(|x| x.kind == FindingKind::PolicyUnknownTag).expect("tag");
    assert!(tag.problem.contains("line 3") && tag.problem.contains("bestseller"), "{tag:?}");
    let address = r.findings.iter().find(|x| x.kind == FindingKind::LocationBadAddress).expect("address");
    assert!(address.problem.contains("9720"), "{address:?}");
}

#[test]
fn a_policy_naming_a_location_that_is_gone_is_found_with_its_line() {
    let mut f = clean_shop();
    f.policies.push(("shadow policy v2".into(), "[eligibility.daily_capacity]\nGONE = 5\n".into()));
    f.policies.push(("draft".into(), "this is not toml".into()));
    let r = check(&f);
    let gone = r.findings.iter().find(|x| x.kind == FindingKind::PolicyUnknownLocation).expect("gone");
    assert_eq!(gone.subject, "shadow policy v2");
    assert!(gone.problem.starts_with("line 2") && gone.problem.contains("GONE"), "{gone:?}");
    assert!(r.findings.iter().any(|x| x.kind == FindingKind::PolicyUnreadable && x.subject == "draft"));
}

#[test]
fn edit_distance_is_bounded_and_exact_within_the_limit() {
    let c = |s: &str| s.chars().collect::<Vec<_>>();
    assert!(edits_within(&c("lavender"), &c("lavendr"), 1));
    assert!(edits_within(&c("kitten"), &c("sitting"), 3));
    assert!(!edits_within(&c("kitten"), &c("sitting"), 2));
    assert!(edits_within(&c(""), &c("ab"), 2));
    assert!(!edits_within(&c("abcdef"), &c("uvwxyz"), 2));
    assert!(edits_within(&c("same"), &c("same"), 0));
}

#[test]
fn short_or_different_titles_are_not_near_duplicates() {
    let mut f = clean_shop();
    // "Mug 1" and "Mug 2" are one edit apart but too short to guess at.
    f.skus.push(sku("M1", "Mug 1"));
    f.skus.push(sku("M2", "Mug 2"));
    // Sizes one letter apart in a short title are real variants.
    f.skus.push(sku("HAT-S", "Wool hat S"));
    f.skus.push(sku("HAT-M", "Wool hat M"));
    // Numbers that differ are other products, however long.
    f.skus.push(sku("P-1200", "Poster number 1200"));
    f.skus.push(sku("P-1201", "Poster number 1201"));
    let r = check(&f);
    assert!(r.is_clean(), "{:#?}", r.findings);
}

#[test]
fn the_keys_ignore_case_spaces_and_punctuation() {
    assert_eq!(sku_key("tee_red m"), "TEEREDM");
    assert_eq!(sku_key("TEE-RED-M"), "TEEREDM");
    assert_eq!(title_key("Blue Mug, 12 oz."), "bluemug12oz");
}
