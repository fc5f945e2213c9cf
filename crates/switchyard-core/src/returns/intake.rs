//! A return request and a receipt as they arrive, parsed
//! ([`NewReturn::parse`], [`Receipt::parse`]), and the rules that match
//! them to an order's lines and a return's lines: what the decision is
//! asked ([`OrderForReturn::request`]) and which line each received unit
//! belongs to ([`assign_receipt`]).
//!
//! An order may carry one SKU on several lines (at different prices): a
//! requested or received quantity is spread over those lines in line
//! order, each up to what it may still take.

use super::decision::{ReturnLine, ReturnRequest, ReturnRequestError};
use super::disposition::ReturnGrade;
use super::policy::{ItemCondition, ReturnReason};
use crate::intake::IntakeError;
use crate::text::{checked, TextRule};
use crate::{ChannelName, Currency, Money, Quantity, Sku};

/// The most lines one return or receipt may have.
pub const MAX_RETURN_LINES: usize = 200;

/// A return request as an adapter received it, unchecked.
#[derive(Debug, Clone, Default)]
pub struct ReturnDraft {
    pub order_id: String,
    /// (SKU, units).
    pub lines: Vec<(String, i64)>,
    /// A canonical reason code or the channel's own code or words.
    pub reason: String,
    pub condition: Option<String>,
    pub note: String,
    /// Who asks (a name or role); logged.
    pub by: String,
}

/// A parsed return request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReturn {
    pub order_id: String,
    /// Distinct SKUs (repeats added up), in the order first named.
    pub lines: Vec<(Sku, Quantity)>,
    /// What the customer or channel said; mapped onto a [`ReturnReason`] by
    /// the policy in force.
    pub reason_text: String,
    pub condition: Option<ItemCondition>,
    pub note: String,
    pub by: String,
}

/// A receipt as an adapter received it: (SKU, units, grade) per line.
#[derive(Debug, Clone, Default)]
pub struct ReceiptDraft {
    pub lines: Vec<(String, i64, String)>,
    pub note: String,
    pub by: String,
}

/// A parsed receipt: what arrived, graded. One SKU may appear once per
/// grade (repeats of a SKU and grade are added up).
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub lines: Vec<(Sku, Quantity, ReturnGrade)>,
    pub note: String,
    pub by: String,
}

/// Why a return request or receipt was refused. [`ReturnInputError::code`]
/// is the stable code the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnInputError {
    /// An identifier, quantity or text field.
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error("a return needs at least one line")]
    NoLines,
    #[error("a return may have at most {MAX_RETURN_LINES} lines (got {count})")]
    TooManyLines { count: usize },
    #[error("condition must be unopened, like_new, used or damaged (got {0:?})")]
    UnknownCondition(String),
    #[error("line {line}: grade must be resellable, damaged, defective or wrong_item (got {raw:?})")]
    UnknownGrade { line: usize, raw: String },
    #[error("{sku} is not on this order")]
    NotOnOrder { sku: Sku },
    #[error("{sku} is not on this return")]
    NotOnReturn { sku: Sku },
    #[error("cannot receive {received} × {sku}: the return expects {expected} more")]
    TooManyReceived { sku: Sku, received: i64, expected: i64 },
    /// The decision's own refusals (more than shipped and not yet
    /// returned, amounts too large).
    #[error(transparent)]
    Request(#[from] ReturnRequestError),
}

impl ReturnInputError {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Intake(e) => e.code(),
            Self::Request(ReturnRequestError::TooMany { .. }) | Self::TooManyReceived { .. } => "exceeds_returnable",
            Self::Request(ReturnRequestError::LineCurrency { .. }) => "currency_mismatch",
            Self::Request(ReturnRequestError::NegativePrice { .. }) => "invalid_amount",
            Self::Request(ReturnRequestError::Overflow) => "amount_overflow",
            Self::Request(ReturnRequestError::NoLines)
            | Self::NoLines
            | Self::TooManyLines { .. }
            | Self::UnknownCondition(_)
            | Self::UnknownGrade { .. }
            | Self::NotOnOrder { .. }
            | Self::NotOnReturn { .. } => "invalid_body",
        }
    }
}

fn line_sku(line: usize, raw: &str) -> Result<Sku, ReturnInputError> {
    Sku::parse(raw).map_err(|error| IntakeError::LineId { line, error }.into())
}

fn line_quantity(line: usize, raw: i64) -> Result<Quantity, ReturnInputError> {
    Quantity::new(raw).map_err(|error| IntakeError::LineId { line, error }.into())
}

fn check_count(count: usize) -> Result<(), ReturnInputError> {
    match count {
        0 => Err(ReturnInputError::NoLines),
        n if n > MAX_RETURN_LINES => Err(ReturnInputError::TooManyLines { count: n }),
        _ => Ok(()),
    }
}

/// Adds `more` to the units already listed under `key`, or lists it.
fn add_up<K: PartialEq>(
    list: &mut Vec<(K, Quantity)>,
    key: K,
    more: Quantity,
    line: usize,
) -> Result<(), ReturnInputError> {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some((_, q)) => *q = line_quantity(line, q.as_i64().saturating_add(more.as_i64()))?,
        None => list.push((key, more)),
    }
    Ok(())
}

impl NewReturn {
    /// Checks a request draft: an order id, 1–200 lines of a SKU and a
    /// positive quantity, a reason (required text), an optional condition
    /// from the closed list, a note and who asks.
    pub fn parse(d: ReturnDraft) -> Result<NewReturn, ReturnInputError> {
        let order_id = checked("order_id", d.order_id, TextRule::NAME.required()).map_err(IntakeError::from)?;
        check_count(d.lines.len())?;
        let mut lines: Vec<(Sku, Quantity)> = Vec::new();
        for (i, (sku, quantity)) in d.lines.into_iter().enumerate() {
            let (sku, quantity) = (line_sku(i + 1, &sku)?, line_quantity(i + 1, quantity)?);
            add_up(&mut lines, sku, quantity, i + 1)?;
        }
        let reason_text = checked("reason", d.reason, TextRule::REASON.required()).map_err(IntakeError::from)?;
        let condition = match d.condition.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(ItemCondition::parse(raw).ok_or_else(|| ReturnInputError::UnknownCondition(raw.into()))?),
        };
        let note = checked("note", d.note, TextRule::NOTE).map_err(IntakeError::from)?;
        let by = checked("by", d.by, TextRule::NAME.required()).map_err(IntakeError::from)?;
        Ok(NewReturn { order_id, lines, reason_text, condition, note, by })
    }
}

impl Receipt {
    /// Checks a receipt draft: 1–200 lines of a SKU, a positive quantity
    /// and a grade from the closed list.
    pub fn parse(d: ReceiptDraft) -> Result<Receipt, ReturnInputError> {
        check_count(d.lines.len())?;
        let mut graded: Vec<((Sku, ReturnGrade), Quantity)> = Vec::new();
        for (i, (sku, quantity, grade)) in d.lines.into_iter().enumerate() {
            let line = i + 1;
            let (sku, quantity) = (line_sku(line, &sku)?, line_quantity(line, quantity)?);
            let Some(grade) = ReturnGrade::parse(grade.trim()) else {
                return Err(ReturnInputError::UnknownGrade { line, raw: grade });
            };
            add_up(&mut graded, (sku, grade), quantity, line)?;
        }
        let note = checked("note", d.note, TextRule::NOTE).map_err(IntakeError::from)?;
        let by = checked("by", d.by, TextRule::NAME.required()).map_err(IntakeError::from)?;
        Ok(Receipt { lines: graded.into_iter().map(|((s, g), q)| (s, q, g)).collect(), note, by })
    }
}

/// An order line as a return sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnableLine {
    pub line_no: i64,
    pub sku: Sku,
    /// The SKU's tags in the catalogue.
    pub tags: Vec<String>,
    pub quantity_ordered: i64,
    pub quantity_shipped: i64,
    /// Units of this line held by other returns (requested or authorized).
    pub quantity_returned: i64,
    pub unit_price: Money,
}

/// What a return decision needs to know about a stored order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderForReturn {
    pub channel: ChannelName,
    pub currency: Currency,
    pub shipped_at_ms: Option<i64>,
    pub delivered_at_ms: Option<i64>,
    pub lines: Vec<ReturnableLine>,
}

/// Splits `want` units over `capacities` (key, room) in order, each up to
/// its room; returns the takes and the units left over.
fn spread<K: Copy>(want: i64, capacities: impl IntoIterator<Item = (K, i64)>) -> (Vec<(K, i64)>, i64) {
    let mut left = want;
    let mut takes = Vec::new();
    for (key, room) in capacities {
        let take = left.min(room.max(0));
        if take > 0 {
            takes.push((key, take));
            left -= take;
        }
    }
    (takes, left)
}

impl OrderForReturn {
    /// The decision's request for `ask` with the reason the policy mapped
    /// it to, and the order line number of each request line (in the same
    /// order). A SKU the order does not carry is refused; more units than
    /// its lines shipped and did not return yet is
    /// [`ReturnRequestError::TooMany`] with the SKU's totals.
    pub fn request(
        &self,
        ask: &NewReturn,
        reason: ReturnReason,
    ) -> Result<(ReturnRequest, Vec<i64>), ReturnInputError> {
        let mut lines = Vec::new();
        let mut line_nos = Vec::new();
        for (sku, quantity) in &ask.lines {
            let on_order: Vec<(usize, &ReturnableLine)> =
                self.lines.iter().enumerate().filter(|(_, l)| &l.sku == sku).collect();
            if on_order.is_empty() {
                return Err(ReturnInputError::NotOnOrder { sku: sku.clone() });
            }
            let rooms = on_order.iter().map(|(i, l)| (*i, returnable(l)));
            let (takes, left) = spread(quantity.as_i64(), rooms);
            if left > 0 {
                let returnable = on_order.iter().map(|(_, l)| returnable(l)).sum();
                let requested = quantity.as_i64();
                return Err(ReturnRequestError::TooMany { sku: sku.clone(), requested, returnable }.into());
            }
            for (i, take) in takes {
                let l = &self.lines[i];
                lines.push(ReturnLine {
                    sku: l.sku.clone(),
                    tags: l.tags.clone(),
                    quantity_ordered: l.quantity_ordered,
                    quantity_shipped: l.quantity_shipped,
                    quantity_returned: l.quantity_returned,
                    unit_price: l.unit_price,
                    quantity: line_quantity(i + 1, take)?,
                });
                line_nos.push(l.line_no);
            }
        }
        let request = ReturnRequest {
            channel: self.channel.clone(),
            currency: self.currency,
            delivered_at_ms: self.delivered_at_ms,
            shipped_at_ms: self.shipped_at_ms,
            lines,
            reason,
            condition: ask.condition,
        };
        Ok((request, line_nos))
    }
}

impl OrderForReturn {
    /// Units of order line `line_no` that may still come back (0 for a
    /// line the order does not have).
    pub fn returnable(&self, line_no: i64) -> i64 {
        self.lines.iter().find(|l| l.line_no == line_no).map_or(0, returnable)
    }
}

fn returnable(l: &ReturnableLine) -> i64 {
    l.quantity_shipped.min(l.quantity_ordered).saturating_sub(l.quantity_returned).max(0)
}

/// A line of a return waiting for goods: units still expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLine {
    pub line_no: i64,
    pub sku: Sku,
    /// Units authorized and not yet received.
    pub expected: i64,
}

/// Units of one return line received in one grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedUnits {
    pub line_no: i64,
    pub sku: Sku,
    pub grade: ReturnGrade,
    pub units: i64,
}

/// Which return line each received unit belongs to: each receipt line
/// spread over the return's lines of its SKU in line order. A SKU not on
/// the return, or more units than the return still expects, is refused —
/// nothing is received that was not authorized.
pub fn assign_receipt(expected: &[ExpectedLine], receipt: &Receipt) -> Result<Vec<ReceivedUnits>, ReturnInputError> {
    let mut room: Vec<i64> = expected.iter().map(|l| l.expected.max(0)).collect();
    let mut out = Vec::new();
    for (sku, quantity, grade) in &receipt.lines {
        let lines: Vec<usize> = (0..expected.len()).filter(|i| &expected[*i].sku == sku).collect();
        if lines.is_empty() {
            return Err(ReturnInputError::NotOnReturn { sku: sku.clone() });
        }
        let (takes, left) = spread(quantity.as_i64(), lines.iter().map(|i| (*i, room[*i])));
        if left > 0 {
            let expected = lines.iter().map(|i| room[*i]).sum();
            return Err(ReturnInputError::TooManyReceived { sku: sku.clone(), received: quantity.as_i64(), expected });
        }
        for (i, units) in takes {
            room[i] -= units;
            out.push(ReceivedUnits { line_no: expected[i].line_no, sku: sku.clone(), grade: *grade, units });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::parse("USD").expect("usd"))
    }

    fn draft(lines: &[(&str, i64)]) -> ReturnDraft {
        ReturnDraft {
            order_id: "o1".into(),
            lines: lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect(),
            reason: "wrong_size".into(),
            condition: None,
            note: String::new(),
            by: "customer".into(),
        }
    }

    fn line(line_no: i64, s: &str, ordered: i64, shipped: i64, returned: i64) -> ReturnableLine {
        ReturnableLine {
            line_no,
            sku: sku(s),
            tags: vec!["tee".into()],
            quantity_ordered: ordered,
            quantity_shipped: shipped,
            quantity_returned: returned,
            unit_price: usd(1000 * line_no),
        }
    }

    fn order(lines: Vec<ReturnableLine>) -> OrderForReturn {
        OrderForReturn {
            channel: ChannelName::parse("web").expect("channel"),
            currency: Currency::parse("USD").expect("usd"),
            shipped_at_ms: Some(5),
            delivered_at_ms: None,
            lines,
        }
    }

    #[test]
    fn a_request_is_parsed_with_repeats_added_up() {
        let r = NewReturn::parse(draft(&[("TEE", 1), ("MUG", 2), ("TEE", 2)])).expect("valid");
        assert_eq!(
            r.lines,
            vec![(sku("TEE"), Quantity::new(3).expect("q")), (sku("MUG"), Quantity::new(2).expect("q"))]
        );
        assert_eq!(r.condition, None);
        let with = NewReturn::parse(ReturnDraft { condition: Some("like_new".into()), ..draft(&[("TEE", 1)]) });
        assert_eq!(with.expect("valid").condition, Some(ItemCondition::LikeNew));
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let code = |d: ReturnDraft| NewReturn::parse(d).map(|_| ()).map_err(|e| (e.code(), e.to_string()));
        assert_eq!(code(draft(&[])), Err(("invalid_body", "a return needs at least one line".into())));
        assert_eq!(code(draft(&[("TEE", 0)])).map_err(|e| e.0), Err("invalid_quantity"));
        assert_eq!(code(draft(&[("T E E", 1)])).map_err(|e| e.0), Err("invalid_identifier"));
        let reason = ReturnDraft { reason: "  ".into(), ..draft(&[("TEE", 1)]) };
        assert_eq!(code(reason).map_err(|e| e.0), Err("invalid_body"));
        let hostile = ReturnDraft { reason: "x\u{0}y".into(), ..draft(&[("TEE", 1)]) };
        assert_eq!(code(hostile).map_err(|e| e.0), Err("invalid_body"));
        let condition = ReturnDraft { condition: Some("mint".into()), ..draft(&[("TEE", 1)]) };
        assert_eq!(code(condition).map_err(|e| e.0), Err("invalid_body"));
        let nobody = ReturnDraft { by: String::new(), ..draft(&[("TEE", 1)]) };
        assert_eq!(code(nobody).map_err(|e| e.0), Err("invalid_body"));
        let many: Vec<(String, i64)> = (0..=MAX_RETURN_LINES).map(|i| (format!("S{i}"), 1)).collect();
        let many = ReturnDraft { lines: many, ..draft(&[]) };
        assert!(matches!(NewReturn::parse(many), Err(ReturnInputError::TooManyLines { count: 201 })));
    }

    #[test]
    fn units_spread_over_the_lines_of_a_sku_up_to_what_each_may_return() {
        // TEE on lines 1 (3 shipped, 1 returned before) and 2 (2 shipped).
        let o = order(vec![line(1, "TEE", 3, 3, 1), line(2, "TEE", 2, 2, 0), line(3, "MUG", 1, 0, 0)]);
        let ask = NewReturn::parse(draft(&[("TEE", 3)])).expect("valid");
        let (request, line_nos) = o.request(&ask, ReturnReason::WrongSize).expect("within what shipped");
        assert_eq!(line_nos, vec![1, 2]);
        let units: Vec<i64> = request.lines.iter().map(|l| l.quantity.as_i64()).collect();
        assert_eq!(units, vec![2, 1]);
        assert_eq!(request.lines[1].unit_price, usd(2000));
        assert_eq!(
            (request.reason, request.shipped_at_ms, request.delivered_at_ms),
            (ReturnReason::WrongSize, Some(5), None)
        );

        let ask = NewReturn::parse(draft(&[("TEE", 5)])).expect("valid");
        let too_many = ReturnRequestError::TooMany { sku: sku("TEE"), requested: 5, returnable: 4 };
        assert_eq!(o.request(&ask, ReturnReason::WrongSize), Err(ReturnInputError::Request(too_many)));
        let err = o.request(&ask, ReturnReason::WrongSize).expect_err("too many");
        assert_eq!(err.code(), "exceeds_returnable");
        let unshipped = NewReturn::parse(draft(&[("MUG", 1)])).expect("valid");
        assert!(matches!(o.request(&unshipped, ReturnReason::Other), Err(ReturnInputError::Request(_))));
        assert_eq!((o.returnable(1), o.returnable(2), o.returnable(3), o.returnable(9)), (2, 2, 0, 0));
        let elsewhere = NewReturn::parse(draft(&[("HAT", 1)])).expect("valid");
        assert_eq!(o.request(&elsewhere, ReturnReason::Other), Err(ReturnInputError::NotOnOrder { sku: sku("HAT") }));
    }

    fn receipt(lines: &[(&str, i64, &str)]) -> Result<Receipt, ReturnInputError> {
        Receipt::parse(ReceiptDraft {
            lines: lines.iter().map(|(s, q, g)| ((*s).to_owned(), *q, (*g).to_owned())).collect(),
            note: String::new(),
            by: "dock".into(),
        })
    }

    #[test]
    fn a_receipt_is_graded_and_assigned_to_the_return_lines() {
        let expected = [
            ExpectedLine { line_no: 1, sku: sku("TEE"), expected: 1 },
            ExpectedLine { line_no: 4, sku: sku("TEE"), expected: 2 },
        ];
        let r = receipt(&[("TEE", 2, "resellable"), ("TEE", 1, "damaged")]).expect("valid");
        let got = assign_receipt(&expected, &r).expect("fits");
        let view: Vec<(i64, ReturnGrade, i64)> = got.iter().map(|u| (u.line_no, u.grade, u.units)).collect();
        assert_eq!(
            view,
            vec![(1, ReturnGrade::Resellable, 1), (4, ReturnGrade::Resellable, 1), (4, ReturnGrade::Damaged, 1)]
        );
        let over = receipt(&[("TEE", 2, "resellable"), ("TEE", 2, "damaged")]).expect("valid");
        let err = assign_receipt(&expected, &over).expect_err("4 of 3");
        assert_eq!(err, ReturnInputError::TooManyReceived { sku: sku("TEE"), received: 2, expected: 1 });
        assert_eq!(err.code(), "exceeds_returnable");
        let other = receipt(&[("MUG", 1, "resellable")]).expect("valid");
        assert_eq!(assign_receipt(&expected, &other), Err(ReturnInputError::NotOnReturn { sku: sku("MUG") }));
        assert!(matches!(receipt(&[("TEE", 1, "mint")]), Err(ReturnInputError::UnknownGrade { line: 1, .. })));
        let twice = receipt(&[("TEE", 1, "damaged"), ("TEE", 1, "damaged")]).expect("valid");
        assert_eq!(twice.lines, vec![(sku("TEE"), Quantity::new(2).expect("q"), ReturnGrade::Damaged)]);
    }
}
