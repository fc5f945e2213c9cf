//! Notification templates: the defaults built into the binary, the merchant's
//! edits (checked before they are stored), and rendering with minijinja —
//! subject and text body as plain text, the optional HTML body with HTML
//! autoescaping. Every event renders against a context of the same shape
//! (absent facts are empty strings), so a template is checked once against a
//! sample and a variable that does not exist is refused when saved
//! (`SemiStrict`: printing an undefined value is an error, testing it in an
//! `if` is not). A template that fails to render when a notification goes out
//! is a delivery failure, never a panic.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{json, Value};
use switchyard_core::notification::{return_status_words, status_words, NotificationEvent};
use switchyard_core::outbox::Message;
use switchyard_core::{Text, TextRule};
use switchyard_store::notifications::{self, TemplateRow};

use crate::notify::Prepared;
use crate::{Engine, Error};

/// The longest subject template, in characters.
pub const MAX_SUBJECT_CHARS: usize = 500;
/// The longest body template, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One event's template: subject, text body, optional HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText {
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
}

/// A template as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    pub event: NotificationEvent,
    pub template: TemplateText,
    /// False: the built-in default.
    pub customized: bool,
    pub updated_by: Option<String>,
    pub updated_at: Option<i64>,
}

/// What a template produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

const FOOTER: &str = "\n\nSee where your order stands at any time: {{ status_url }}\n\n{{ shop.name }}\n";

/// The built-in template of an event.
pub fn default_template(event: NotificationEvent) -> TemplateText {
    let (subject, body): (&str, &str) = match event {
        NotificationEvent::OrderAccepted => (
            "We have your order {{ order.number }}",
            "Hello {{ customer.name }},\n\nthank you: we received your order {{ order.number }} and are \
             preparing it.\n\n{% for line in order.lines %}  {{ line.quantity }} x {{ line.sku }}\n{% endfor %}",
        ),
        NotificationEvent::OrderDelayed => (
            "Your order {{ order.number }} is delayed",
            "Hello {{ customer.name }},\n\npart of your order {{ order.number }} is waiting for stock. We will \
             send it as soon as it arrives and tell you when it ships.",
        ),
        NotificationEvent::OrderShipped => (
            "Your order {{ order.number }} has shipped",
            "Hello {{ customer.name }},\n\nyour order {{ order.number }} is on its way\
             {% if shipment.carrier %} with {{ shipment.carrier }}{% endif %}.\
             {% if shipment.tracking %}\nTracking number: {{ shipment.tracking }}{% endif %}\
             {% if shipment.tracking_url %}\nFollow the parcel: {{ shipment.tracking_url }}{% endif %}",
        ),
        NotificationEvent::ReadyForPickup => (
            "Your order {{ order.number }} is ready for pickup",
            "Hello {{ customer.name }},\n\nyour order {{ order.number }} is ready for pickup at \
             {{ pickup.name }} ({{ pickup.address }}).",
        ),
        NotificationEvent::OrderCancelled => (
            "Your order {{ order.number }} was cancelled",
            "Hello {{ customer.name }},\n\nyour order {{ order.number }} was cancelled. Anything you paid for it \
             will be refunded.",
        ),
        NotificationEvent::ReturnAuthorized => (
            "Your return {{ return.rma }} is authorized",
            "Hello {{ customer.name }},\n\nyour return {{ return.rma }} for order {{ order.number }} is \
             authorized. Please write {{ return.rma }} on the parcel and send it back to us.",
        ),
        NotificationEvent::ReturnReceived => (
            "We received your return {{ return.rma }}",
            "Hello {{ customer.name }},\n\nyour return {{ return.rma }} arrived. We will let you know when the \
             refund is issued.",
        ),
        NotificationEvent::RefundIssued => (
            "Your refund for return {{ return.rma }}",
            "Hello {{ customer.name }},\n\nwe issued a refund of {{ return.refunded }} for your return \
             {{ return.rma }}.",
        ),
        // For staff: no customer's words, no status link.
        NotificationEvent::ExceptionEscalated => {
            return TemplateText {
                subject: "Escalated: {{ exception.kind }} on order {{ order.number }} ({{ exception.severity }})"
                    .to_owned(),
                text_body: "The {{ exception.kind }} exception on {{ order.channel }} order {{ order.number }} is \
                            past its SLA: escalated to level {{ exception.level }} ({{ exception.severity }}), for \
                            the {{ exception.owner }}.\n\nException {{ exception.id }}, \
                            order {{ order.id }} (status {{ order.status }}).\n\n{{ shop.name }}\n"
                    .to_owned(),
                html_body: None,
            };
        }
    };
    TemplateText { subject: subject.to_owned(), text_body: format!("{body}{FOOTER}"), html_body: None }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
    env
}

/// Renders a template against a context; the error says which part failed
/// and why (with the line, as minijinja reports it).
pub fn render(t: &TemplateText, ctx: &Value) -> Result<Rendered, String> {
    let env = environment();
    let part = |name: &str, source: &str| {
        env.render_named_str(name, source, ctx).map_err(|e| {
            let mut msg = format!("{name}: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            msg
        })
    };
    // One line: a header never carries a line break from a template.
    let subject = part("subject", &t.subject)?.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = part("text_body", &t.text_body)?;
    let html = t.html_body.as_deref().map(|h| part("html_body.html", h)).transpose()?;
    Ok(Rendered { subject, text, html })
}

/// Checks a template for an event: sizes, no control characters in the
/// subject, and that every part parses and renders against a sample of the
/// event's context with a non-empty subject.
pub fn check(event: NotificationEvent, t: &TemplateText) -> Result<(), Error> {
    Text::parse("subject", &t.subject, TextRule::line(MAX_SUBJECT_CHARS).required())?;
    for (name, body) in [("text_body", Some(&t.text_body)), ("html_body", t.html_body.as_ref())] {
        if let Some(b) = body {
            if b.len() > MAX_BODY_BYTES {
                return Err(Error::InvalidTemplate(format!("{name} is over {MAX_BODY_BYTES} bytes")));
            }
        }
    }
    if t.text_body.trim().is_empty() {
        return Err(Error::InvalidTemplate("text_body must not be empty".into()));
    }
    let r = render(t, &sample_context(event)).map_err(Error::InvalidTemplate)?;
    if r.subject.is_empty() {
        return Err(Error::InvalidTemplate("subject renders empty".into()));
    }
    Ok(())
}

/// The context every event renders against, with sample values: what
/// `check` renders and the README documents.
pub fn sample_context(event: NotificationEvent) -> Value {
    json!({
        "event": event.as_str(),
        "shop": {"name": "Switchyard Demo Shop"},
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "order": {
            "id": "0190f2a4-0000-7000-8000-000000000000",
            "number": "1001",
            "channel": "shopify",
            "status": "shipped",
            "status_words": "Shipped",
            "placed_at": "2026-11-30T12:00:00.000Z",
            "lines": [{"sku": "TEE-RED-M", "quantity": 2}],
        },
        "shipment": {"carrier": "UPS", "tracking": "1Z999AA10123456784", "shipped_at": "2026-12-01T09:00:00.000Z",
                     "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"},
        "pickup": {"location": "FLAGSHIP", "name": "Flagship store", "address": "1 Main St, Portland OR 97209"},
        "cancel_reason": "out of stock",
        "return": {
            "id": "0190f2a4-0000-7000-8000-000000000001",
            "rma": "RMA-261201-0001",
            "status": "authorized",
            "status_words": "Authorized: send the items back",
            "refund": "45.00 USD",
            "refunded": "45.00 USD",
        },
        "exception": {"id": "0190f2a4-0000-7000-8000-000000000002", "kind": "backordered", "level": 1,
                      "severity": "high", "owner": "merchandiser"},
        "status_url": "https://shop.example.com/status/0123456789abcdef",
        "label_url": "https://shop.example.com/status/0123456789abcdef/label.pdf",
    })
}

/// The context of a real delivery: the same keys as [`sample_context`],
/// empty strings for facts the event does not have.
pub fn context(p: &Prepared, shop_name: &str, status_url: &str) -> Value {
    let o = &p.order;
    let shipment = match &p.notice {
        Message::OrderShipped { shipment_id, .. } => {
            o.shipments.iter().flatten().find(|s| &s.id == shipment_id).map(|s| {
                // Only a web address is ever offered as a link (checked again here).
                let url = s.tracking_url.as_deref().and_then(switchyard_core::web_link).unwrap_or("");
                json!({"carrier": s.carrier.clone().unwrap_or_else(String::new),
                       "tracking": s.tracking.clone().unwrap_or_else(String::new), "shipped_at": s.shipped_at,
                       "tracking_url": url})
            })
        }
        _ => None,
    };
    let (location, name, address) = match (&p.notice, &p.pickup) {
        (Message::ReadyForPickup { location, .. }, Some((name, address))) => {
            (location.clone(), name.clone(), address.clone())
        }
        (Message::ReadyForPickup { location, .. }, None) => (location.clone(), location.clone(), String::new()),
        _ => Default::default(),
    };
    let exception = match &p.notice {
        Message::ExceptionEscalated { exception_id, exception_kind, level, severity, owner_role, .. } => {
            json!({"id": exception_id, "kind": exception_kind, "level": level, "severity": severity,
                   "owner": owner_role})
        }
        _ => json!({"id": "", "kind": "", "level": "", "severity": "", "owner": ""}),
    };
    let cancel_reason = match &p.notice {
        Message::OrderCancelled { reason, .. } => reason.replace('_', " "),
        _ => String::new(),
    };
    let ret = p.ret.as_ref().map(|r| {
        let money = |minor: i64| {
            switchyard_core::Currency::parse(&r.currency)
                .map(|c| switchyard_core::Money::new(minor, c).to_string())
                .unwrap_or_else(|_| format!("{minor} {}", r.currency))
        };
        json!({"id": r.id, "rma": r.rma.clone().unwrap_or_else(|| r.id.clone()), "status": r.status,
               "status_words": return_status_words(&r.status), "refund": money(r.refund),
               "refunded": r.refunded.map(money).unwrap_or_else(String::new)})
    });
    let status_words =
        switchyard_core::OrderStatus::parse(&o.status).map(status_words).unwrap_or("In progress").to_owned();
    let label_url = if p.ret.is_some() { format!("{status_url}/label.pdf") } else { String::new() };
    let customer_email = match p.delivery.channel {
        switchyard_core::notification::DeliveryChannel::Email => p.delivery.recipient.clone(),
        switchyard_core::notification::DeliveryChannel::Webhook => String::new(),
    };
    json!({
        "event": p.delivery.event.as_str(),
        "shop": {"name": shop_name},
        "customer": {"name": o.ship_to.name, "email": customer_email},
        "order": {
            "id": o.id, "number": o.external_id, "channel": o.channel, "status": o.status,
            "status_words": status_words, "placed_at": o.created_at,
            "lines": o.lines.iter().map(|l| json!({"sku": l.sku, "quantity": l.quantity})).collect::<Vec<_>>(),
        },
        "shipment": shipment
            .unwrap_or_else(|| json!({"carrier": "", "tracking": "", "shipped_at": "", "tracking_url": ""})),
        "pickup": {"location": location, "name": name, "address": address},
        "cancel_reason": cancel_reason,
        "return": ret.unwrap_or_else(|| json!({"id": "", "rma": "", "status": "", "status_words": "",
                                               "refund": "", "refunded": ""})),
        "exception": exception,
        "status_url": status_url,
        "label_url": label_url,
    })
}

/// The template in force for a delivery: the merchant's, else the default.
pub fn template_of(p: &Prepared) -> TemplateText {
    match &p.template {
        Some(t) => {
            TemplateText { subject: t.subject.clone(), text_body: t.text_body.clone(), html_body: t.html_body.clone() }
        }
        None => default_template(p.delivery.event),
    }
}

impl Engine {
    /// The template in force for an event.
    pub async fn get_template(&self, event: NotificationEvent) -> Result<TemplateRecord, Error> {
        let mut tx = self.read().await?;
        let row = notifications::get_template(&mut tx, event).await?;
        tx.rollback().await?;
        Ok(match row {
            Some(r) => TemplateRecord {
                event,
                template: TemplateText { subject: r.subject, text_body: r.text_body, html_body: r.html_body },
                customized: true,
                updated_by: Some(r.updated_by),
                updated_at: Some(r.updated_at),
            },
            None => TemplateRecord {
                event,
                template: default_template(event),
                customized: false,
                updated_by: None,
                updated_at: None,
            },
        })
    }

    /// Replaces an event's template after checking it parses and renders
    /// (an invalid one changes nothing: [`Error::InvalidTemplate`]).
    pub async fn put_template(
        &self,
        event: NotificationEvent,
        t: &TemplateText,
        by: &str,
    ) -> Result<TemplateRecord, Error> {
        check(event, t)?;
        let by = crate::actor(by)?;
        let row = TemplateRow {
            event,
            subject: t.subject.clone(),
            text_body: t.text_body.clone(),
            html_body: t.html_body.clone().filter(|h| !h.trim().is_empty()),
            updated_by: by,
            updated_at: self.now_ms(),
        };
        self.run(move |tx, _| Box::pin(async move { Ok(notifications::put_template(tx, &row).await?) })).await?;
        self.get_template(event).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_checks() {
        for e in NotificationEvent::ALL {
            check(e, &default_template(e)).unwrap_or_else(|err| panic!("{e:?}: {err}"));
        }
        let r = render(
            &default_template(NotificationEvent::OrderShipped),
            &sample_context(NotificationEvent::OrderShipped),
        )
        .expect("renders");
        assert_eq!(r.subject, "Your order 1001 has shipped");
        assert!(r.text.contains("with UPS.\nTracking number: 1Z999AA10123456784"), "{}", r.text);
        assert!(r.text.contains("https://shop.example.com/status/0123456789abcdef"), "{}", r.text);
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let t = TemplateText {
            subject: "Hi {{ customer.name }}\r\nBcc: x@example.com".into(),
            text_body: "{{ customer.name }}".into(),
            html_body: Some("<p>{{ customer.name }}</p>".into()),
        };
        let mut ctx = sample_context(NotificationEvent::OrderAccepted);
        ctx["customer"]["name"] = json!("<b>Ada</b> & co");
        let r = render(&t, &ctx).expect("renders");
        assert_eq!(r.subject, "Hi <b>Ada</b> & co Bcc: x@example.com");
        assert_eq!(r.text, "<b>Ada</b> & co");
        assert_eq!(r.html.as_deref(), Some("<p>&lt;b&gt;Ada&lt;&#x2f;b&gt; &amp; co</p>"));
    }

    #[test]
    fn broken_templates_are_refused_with_the_reason() {
        let e = NotificationEvent::OrderShipped;
        let base = default_template(e);
        let cases = [
            (TemplateText { text_body: "{% if %}".into(), ..base.clone() }, "text_body"),
            (TemplateText { subject: "{{ order.numbr }}".into(), ..base.clone() }, "subject"),
            (TemplateText { text_body: "{{ order.number | nosuchfilter }}".into(), ..base.clone() }, "text_body"),
            (TemplateText { html_body: Some("{% for x in %}".into()), ..base.clone() }, "html_body"),
            (TemplateText { subject: "   ".into(), ..base.clone() }, "subject"),
            (TemplateText { text_body: " ".into(), ..base.clone() }, "text_body"),
        ];
        for (t, part) in cases {
            let err = check(e, &t).expect_err(part).to_string();
            assert!(err.contains(part), "{part}: {err}");
        }
        // An `if` on a fact an event may lack is fine.
        let t = TemplateText { text_body: "{% if shipment.nothing %}x{% endif %}ok".into(), ..base };
        check(e, &t).expect("if on undefined is allowed");
    }
}
