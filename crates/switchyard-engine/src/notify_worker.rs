//! The notifier: each round turns queued notices into deliveries
//! ([`Engine::fan_out_notifications`]), then claims due deliveries, renders
//! and sends each — e-mail over SMTP (lettre: STARTTLS, implicit TLS or plain;
//! credentials optional) or a signed webhook POST (reqwest) — and finishes it
//! ([`Engine::finish_delivery`]): acknowledged, retried with backoff through
//! the outbox, or dead-lettered into a `notification_failed` exception.
//!
//! A webhook call is `POST <url>` with a JSON body and the headers
//! `X-Switchyard-Event`, `X-Switchyard-Delivery`, `X-Switchyard-Timestamp`
//! (Unix seconds, also in the body as `sent_at`, so it is signed) and
//! `X-Switchyard-Signature: sha256=<hex HMAC-SHA256 of the body with the
//! webhook's secret>`. Any 2xx is delivered; anything else is retried.
//!
//! Each round also sends dropship vendors their purchase orders' notices
//! (`vendor_notice` messages, [`crate::dropship`]): an e-mail to the
//! vendor's address with the purchase order as CSV and PDF attachments and
//! a link to confirm and ship it (`{public_url}/vendor/po/{token}`), and a
//! webhook call to the vendor's URL signed the same way with the vendor's
//! own secret (event `purchase_order_issued` or `purchase_order_cancelled`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::json;
use sha2::Sha256;
use switchyard_core::dropship::PoEvent;
use switchyard_core::notification::{DeliveryChannel, DeliveryStatus, NotificationEvent};
use switchyard_core::outbox::Message;
use switchyard_store::outbox::Claimed;

use crate::dropship::VendorNotice;
use crate::notify::{Attempt, Destinations, Prepared, WebhookRoute};
use crate::notify_render::{context, render, template_of};
use crate::outbox::RetryPolicy;
use crate::{Engine, Error};

/// The consumer deliveries are claimed under.
const CONSUMER: &str = "notifier";
/// How long a delivery's claim is held while it is being sent.
const LEASE_MS: i64 = 120_000;

/// A secret from the settings: never printed by `Debug`.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// STARTTLS, required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a relay on this machine or a test server.
    Plain,
}

impl SmtpSecurity {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }
}

/// The mail server and the sender.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `Shop <orders@shop.example>` or a bare address.
    pub from: String,
    pub timeout_secs: u64,
}

/// A webhook endpoint.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// How deliveries name it (`recipient`).
    pub name: String,
    pub url: String,
    /// The HMAC key of `X-Switchyard-Signature`.
    pub secret: Secret,
    /// The events it wants; empty: all.
    pub events: Vec<NotificationEvent>,
}

/// The notifier's settings.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Where customers reach this server: links are `{public_url}/status/{token}`.
    pub public_url: String,
    /// Signs the e-mails (`shop.name` in templates).
    pub shop_name: String,
    pub smtp: Option<SmtpConfig>,
    /// Where staff are e-mailed when an exception escalates (needs `smtp`).
    pub staff_email: Option<String>,
    pub webhooks: Vec<WebhookConfig>,
    pub retry: RetryPolicy,
    /// Pause between rounds.
    pub tick: Duration,
    /// Deliveries claimed per round.
    pub batch: i64,
}

impl NotifyConfig {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            shop_name: "Switchyard".into(),
            smtp: None,
            staff_email: None,
            webhooks: Vec::new(),
            retry: RetryPolicy { first_retry_ms: 30_000, max_retry_ms: 3_600_000, max_attempts: 8 },
            tick: Duration::from_secs(2),
            batch: 50,
        }
    }

    /// Whether anything is configured to deliver to.
    pub fn is_enabled(&self) -> bool {
        self.smtp.is_some() || !self.webhooks.is_empty()
    }

    /// Checks what can be checked before the first send; the message never
    /// repeats a secret.
    pub fn validate(&self) -> Result<(), String> {
        let url = self.public_url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("notify.public_url must start with http:// or https:// (got {url:?})"));
        }
        if let Some(staff) = &self.staff_email {
            switchyard_core::EmailAddress::parse(staff).map_err(|e| format!("notify.staff_email {staff:?}: {e}"))?;
            if self.smtp.is_none() {
                return Err("notify.staff_email needs notify.smtp to send through".into());
            }
        }
        if let Some(s) = &self.smtp {
            s.from.parse::<Mailbox>().map_err(|e| format!("notify.smtp.from {:?}: {e}", s.from))?;
            if s.host.trim().is_empty() {
                return Err("notify.smtp.host is empty".into());
            }
            if s.username.is_some() != s.password.is_some() {
                return Err("notify.smtp.username and notify.smtp.password go together".into());
            }
        }
        for w in &self.webhooks {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(format!("webhook {}: url must start with http:// or https://", w.name));
            }
            if w.secret.expose().len() < 16 {
                return Err(format!("webhook {}: the secret must have at least 16 characters", w.name));
            }
        }
        let mut names: Vec<&str> = self.webhooks.iter().map(|w| w.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err("two webhooks have the same name".into());
        }
        Ok(())
    }

    fn destinations(&self) -> Destinations {
        Destinations {
            email: self.smtp.is_some(),
            staff_email: self.staff_email.as_ref().map(|a| a.trim().to_owned()),
            webhooks: self
                .webhooks
                .iter()
                .map(|w| WebhookRoute { name: w.name.clone(), events: w.events.clone() })
                .collect(),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyRound {
    /// Deliveries made from notices.
    pub fanned_out: usize,
    pub sent: usize,
    pub failed: usize,
    /// Dead-lettered this round.
    pub dead: usize,
}

impl NotifyRound {
    /// Counts one attempt and where it left its message.
    fn count(&mut self, attempt: &Attempt, status: DeliveryStatus) {
        match (attempt, status) {
            (Attempt::Sent, _) => self.sent += 1,
            (_, DeliveryStatus::Dead) => {
                self.failed += 1;
                self.dead += 1;
            }
            _ => self.failed += 1,
        }
    }
}

/// The notifier worker (one per process; several processes may run one on
/// the same PostgreSQL database: claims never overlap).
pub struct Notifier {
    engine: Arc<Engine>,
    config: NotifyConfig,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Option<Mailbox>,
    http: reqwest::Client,
}

type HmacSha256 = Hmac<Sha256>;

/// Where and how one signed webhook is posted.
struct Hook<'a> {
    url: &'a str,
    secret: &'a str,
    event: &'a str,
    delivery: &'a str,
    now_secs: i64,
}

/// Sends a built message: a permanent refusal is not retried.
async fn send_mail(
    smtp: &AsyncSmtpTransport<Tokio1Executor>,
    mail: Result<lettre::Message, lettre::error::Error>,
) -> Attempt {
    let mail = match mail {
        Ok(m) => m,
        Err(e) => return Attempt::Refused(format!("cannot build the message: {e}")),
    };
    match smtp.send(mail).await {
        Ok(_) => Attempt::Sent,
        Err(e) if e.is_permanent() => Attempt::Refused(format!("the mail server refused it: {e}")),
        Err(e) => Attempt::Failed(format!("mail server: {e}")),
    }
}

/// `sha256=<hex>` of `body` under `secret` (an HMAC takes a key of any
/// length: `None` never happens in practice).
pub fn signature(secret: &str, body: &[u8]) -> Option<String> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(body);
    Some(format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
}

impl Notifier {
    pub fn new(engine: Arc<Engine>, config: NotifyConfig) -> Result<Self, Error> {
        config.validate().map_err(Error::Invalid)?;
        let (smtp, from) = match &config.smtp {
            Some(s) => {
                (Some(transport(s)?), Some(s.from.parse::<Mailbox>().map_err(|e| Error::Invalid(e.to_string()))?))
            }
            None => (None, None),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Invalid(format!("webhook client: {e}")))?;
        Ok(Self { engine, config, smtp, from, http })
    }

    /// One round: fan out, then deliver what is due.
    pub async fn round(&self) -> Result<NotifyRound, Error> {
        let mut r = NotifyRound {
            fanned_out: self.engine.fan_out_notifications(&self.config.destinations(), 500).await?,
            ..NotifyRound::default()
        };
        let claimed = self.engine.claim_outbox("notification_delivery", CONSUMER, self.config.batch, LEASE_MS).await?;
        for c in claimed {
            self.deliver(c, &mut r).await?;
        }
        let claimed = self.engine.claim_outbox("vendor_notice", CONSUMER, self.config.batch, LEASE_MS).await?;
        for c in claimed {
            self.deliver_vendor(c, &mut r).await?;
        }
        Ok(r)
    }

    async fn deliver_vendor(&self, c: Claimed, r: &mut NotifyRound) -> Result<(), Error> {
        let Some(n) = self.engine.prepare_vendor_notice(&c.message).await? else {
            self.engine.ack_outbox(c.id, CONSUMER).await?;
            return Ok(());
        };
        let token = self.engine.mint_vendor_link(&n.po.id).await?;
        let link = format!("{}/vendor/po/{token}", self.config.public_url.trim_end_matches('/'));
        let attempt = match n.channel {
            DeliveryChannel::Email => self.vendor_email(&n, &link).await,
            DeliveryChannel::Webhook => self.vendor_webhook(&n, &c, &link).await,
        };
        let status = self.engine.finish_vendor_notice(&c, CONSUMER, attempt.clone(), &self.config.retry).await?;
        r.count(&attempt, status);
        Ok(())
    }

    async fn vendor_email(&self, n: &VendorNotice, link: &str) -> Attempt {
        let (Some(smtp), Some(from)) = (&self.smtp, &self.from) else {
            return Attempt::Failed("no mail server is configured".into());
        };
        let Some(address) = &n.vendor.email else {
            return Attempt::Refused(format!("the vendor at {} has no e-mail address any more", n.po.location));
        };
        let to = match address.as_str().parse::<Mailbox>() {
            Ok(to) => to,
            Err(e) => return Attempt::Refused(format!("bad address {:?}: {e}", address.as_str())),
        };
        let shop = &self.config.shop_name;
        let items = n.text.join("\n");
        let (subject, text) = match n.event {
            PoEvent::Issued => (
                format!("Purchase order {} from {shop}", n.po.number),
                format!(
                    "Hello {},\n\nPlease ship this order to our customer.\n\n{items}\n\nConfirm it, and send the \
                     carrier and tracking number once it ships, here:\n{link}\n\nThe attached CSV and PDF hold the \
                     same purchase order.\n\n{shop}\n",
                    n.vendor_name
                ),
            ),
            PoEvent::Cancelled => (
                format!("CANCELLED: purchase order {} from {shop}", n.po.number),
                format!(
                    "Hello {},\n\nPurchase order {} is cancelled: please do not ship it.\n\n{items}\n\n{shop}\n",
                    n.vendor_name, n.po.number
                ),
            ),
        };
        let Ok(csv_type) = ContentType::parse("text/csv; charset=utf-8") else {
            return Attempt::Refused("the CSV content type does not parse".into());
        };
        let mut parts = MultiPart::mixed()
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
            .singlepart(Attachment::new(format!("{}.csv", n.po.number)).body(n.csv.clone(), csv_type));
        if let (Some(pdf), Ok(pdf_type)) = (&n.pdf, ContentType::parse("application/pdf")) {
            parts = parts.singlepart(Attachment::new(format!("{}.pdf", n.po.number)).body(pdf.clone(), pdf_type));
        }
        let mail = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .date(UNIX_EPOCH + Duration::from_millis(u64::try_from(self.engine.now_ms()).unwrap_or(0)))
            .multipart(parts);
        send_mail(smtp, mail).await
    }

    async fn vendor_webhook(&self, n: &VendorNotice, c: &Claimed, link: &str) -> Attempt {
        let (Some(url), Some(secret)) = (&n.vendor.webhook_url, &n.vendor.webhook_secret) else {
            return Attempt::Refused(format!("the vendor at {} has no webhook any more", n.po.location));
        };
        let now_secs = self.engine.now_ms().div_euclid(1000);
        let body = json!({
            "event": n.event.as_str(),
            "delivery_id": c.id.to_string(),
            "sent_at": now_secs,
            "purchase_order": n.po,
            "vendor_url": link,
            "csv": n.csv,
        });
        let delivery = c.id.to_string();
        let hook = Hook { url, secret, event: n.event.as_str(), delivery: &delivery, now_secs };
        self.post_signed(&hook, &body, "the vendor's webhook").await
    }

    async fn deliver(&self, c: Claimed, r: &mut NotifyRound) -> Result<(), Error> {
        let Message::NotificationDelivery { delivery_id, .. } = &c.message else {
            self.engine.ack_outbox(c.id, CONSUMER).await?;
            return Ok(());
        };
        let Some(p) = self.engine.prepare_delivery(delivery_id).await? else {
            self.engine.ack_outbox(c.id, CONSUMER).await?;
            return Ok(());
        };
        // Staff's news carries no customer's status link.
        let status_url = if p.delivery.event.is_for_staff() {
            String::new()
        } else {
            let token = self.engine.mint_status_link(&p.delivery.order_id, p.delivery.return_id.as_deref()).await?;
            format!("{}/status/{token}", self.config.public_url.trim_end_matches('/'))
        };
        let attempt = match p.delivery.channel {
            DeliveryChannel::Email => self.email(&p, &status_url).await,
            DeliveryChannel::Webhook => self.webhook(&p, &status_url).await,
        };
        let status =
            self.engine.finish_delivery(&c, CONSUMER, &p.delivery, attempt.clone(), &self.config.retry).await?;
        r.count(&attempt, status);
        Ok(())
    }

    async fn email(&self, p: &Prepared, status_url: &str) -> Attempt {
        let (Some(smtp), Some(from)) = (&self.smtp, &self.from) else {
            return Attempt::Failed("no mail server is configured".into());
        };
        let rendered = match render(&template_of(p), &context(p, &self.config.shop_name, status_url)) {
            Ok(r) => r,
            // Fixing the template makes the next try work: retried.
            Err(e) => {
                return Attempt::Failed(format!("the {} template does not render: {e}", p.delivery.event.as_str()))
            }
        };
        let to = match p.delivery.recipient.parse::<Mailbox>() {
            Ok(to) => to,
            Err(e) => return Attempt::Refused(format!("bad address {:?}: {e}", p.delivery.recipient)),
        };
        let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(rendered.text);
        let builder = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(rendered.subject)
            // The Date header from the injected clock, not the system's.
            .date(UNIX_EPOCH + Duration::from_millis(u64::try_from(self.engine.now_ms()).unwrap_or(0)));
        let mail = match rendered.html {
            Some(html) => builder.multipart(
                MultiPart::alternative()
                    .singlepart(text)
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
            ),
            None => builder.singlepart(text),
        };
        send_mail(smtp, mail).await
    }

    async fn webhook(&self, p: &Prepared, status_url: &str) -> Attempt {
        let Some(w) = self.config.webhooks.iter().find(|w| w.name == p.delivery.recipient) else {
            return Attempt::Refused(format!("webhook {} is no longer configured", p.delivery.recipient));
        };
        let now_secs = self.engine.now_ms().div_euclid(1000);
        let ctx = context(p, &self.config.shop_name, status_url);
        let body = json!({
            "event": p.delivery.event.as_str(),
            "delivery_id": p.delivery.id,
            "sent_at": now_secs,
            "order": ctx["order"],
            "shipment": ctx["shipment"],
            "pickup": ctx["pickup"],
            "return": ctx["return"],
            "exception": ctx["exception"],
            "status_url": status_url,
        });
        let hook = Hook {
            url: &w.url,
            secret: w.secret.expose(),
            event: p.delivery.event.as_str(),
            delivery: &p.delivery.id,
            now_secs,
        };
        self.post_signed(&hook, &body, &w.name).await
    }

    /// Posts `body` as JSON, signed with the hook's secret (HMAC-SHA256 of
    /// the exact bytes), with the event, delivery id and time as headers.
    /// `who` names the receiver in the attempt's message.
    async fn post_signed(&self, hook: &Hook<'_>, body: &serde_json::Value, who: &str) -> Attempt {
        let body = match serde_json::to_vec(body) {
            Ok(b) => b,
            Err(e) => return Attempt::Refused(format!("cannot write the body: {e}")),
        };
        let Some(signed) = signature(hook.secret, &body) else {
            return Attempt::Refused(format!("{who}: the secret cannot key an HMAC"));
        };
        let answer = self
            .http
            .post(hook.url)
            .header("content-type", "application/json")
            .header("x-switchyard-event", hook.event)
            .header("x-switchyard-delivery", hook.delivery)
            .header("x-switchyard-timestamp", hook.now_secs.to_string())
            .header("x-switchyard-signature", signed)
            .body(body)
            .send()
            .await;
        match answer {
            Ok(res) if res.status().is_success() => Attempt::Sent,
            Ok(res) => Attempt::Failed(format!("{who} answered {}", res.status())),
            Err(e) => Attempt::Failed(format!("{who}: {}", e.without_url())),
        }
    }

    /// Runs a round every `tick` until the runtime stops.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.config.tick);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match self.round().await {
                    Ok(r) if r != NotifyRound::default() => tracing::info!(?r, "notifications"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "notification round failed"),
                }
            }
        })
    }
}

fn transport(s: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, Error> {
    let bad = |e: lettre::transport::smtp::Error| Error::Invalid(format!("notify.smtp: {e}"));
    let builder = match s.security {
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host).map_err(bad)?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).map_err(bad)?,
        SmtpSecurity::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
    };
    let mut builder = builder.port(s.port).timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
    if let (Some(user), Some(password)) = (&s.username, &s.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig.as_deref(), Some("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    }

    #[test]
    fn secrets_never_print_and_bad_settings_are_refused() {
        let s = Secret::new("hunter2-hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let mut c = NotifyConfig::new("https://shop.example.com");
        c.webhooks.push(WebhookConfig {
            name: "crm".into(),
            url: "http://127.0.0.1:9/hook".into(),
            secret: s.clone(),
            events: vec![],
        });
        assert!(c.validate().is_ok());
        assert!(!format!("{c:?}").contains("hunter2"));
        let mut dup = c.clone();
        dup.webhooks.push(dup.webhooks[0].clone());
        assert!(dup.validate().is_err());
        let mut short = c.clone();
        short.webhooks[0].secret = Secret::new("short");
        let err = short.validate().expect_err("short secret");
        assert!(!err.contains("short\""), "{err}");
        assert!(NotifyConfig::new("ftp://x").validate().is_err());
    }
}
