//! The `[notify]` settings: customer notifications by e-mail (SMTP) and
//! webhooks, layered like every other setting (file, then
//! `SWITCHYARD_NOTIFY_*` / `SWITCHYARD_SMTP_*` variables). Secrets (the SMTP
//! password, webhook secrets) are never printed: `Debug` hides them and
//! errors never repeat them.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchyard_core::NotificationEvent;
use switchyard_engine::{NotifyConfig, RetryPolicy, Secret, SmtpConfig, SmtpSecurity, WebhookConfig};

/// A secret read from the settings.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Never written back out (the defaults are serialized for figment).
impl Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// Where customers reach this server (links are `{public_url}/status/{token}`);
    /// default `http://<listen>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The shop's name in e-mails and on the status page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpSettings>,
    /// Staff's address: told when an exception escalates past its SLA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_email: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<WebhookSettings>,
    /// Tries per delivery before it is dead-lettered (default 8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i64>,
    /// First retry delay; it doubles up to an hour (default 30).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_retry_secs: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    /// Default: 587 for `starttls`, 465 for `tls`, 25 for `plain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `plain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretString>,
    /// The sender, `Shop <orders@shop.example>` or a bare address.
    pub from: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub name: String,
    pub url: String,
    pub secret: SecretString,
    /// Event codes; empty or left out: every event.
    #[serde(default)]
    pub events: Vec<String>,
}

impl NotifySettings {
    /// The notifier's configuration, checked; `None` when nothing is
    /// configured to deliver to. A `public_url` alone runs the notifier too:
    /// dropship vendors' webhooks (set per location) need it and its links.
    pub fn config(&self, listen: &str) -> anyhow::Result<Option<NotifyConfig>> {
        if self.smtp.is_none() && self.webhooks.is_empty() && self.public_url.is_none() {
            return Ok(None);
        }
        let public_url = self.public_url.clone().unwrap_or_else(|| format!("http://{listen}"));
        let mut c = NotifyConfig::new(public_url);
        if let Some(name) = &self.shop_name {
            c.shop_name = name.clone();
        }
        c.staff_email = self.staff_email.clone();
        if let Some(s) = &self.smtp {
            let security = match s.security.as_deref() {
                None => SmtpSecurity::StartTls,
                Some(raw) => SmtpSecurity::parse(raw)
                    .ok_or_else(|| anyhow::anyhow!("notify.smtp.security must be starttls, tls or plain"))?,
            };
            let port = s.port.unwrap_or(match security {
                SmtpSecurity::StartTls => 587,
                SmtpSecurity::Tls => 465,
                SmtpSecurity::Plain => 25,
            });
            c.smtp = Some(SmtpConfig {
                host: s.host.clone(),
                port,
                security,
                username: s.username.clone(),
                password: s.password.as_ref().map(|p| Secret::new(p.0.clone())),
                from: s.from.clone(),
                timeout_secs: 30,
            });
        }
        for w in &self.webhooks {
            let mut events = Vec::new();
            for e in &w.events {
                events.push(NotificationEvent::parse(e).ok_or_else(|| {
                    anyhow::anyhow!("webhook {}: unknown event {e:?} in notify.webhooks.events", w.name)
                })?);
            }
            c.webhooks.push(WebhookConfig {
                name: w.name.clone(),
                url: w.url.clone(),
                secret: Secret::new(w.secret.0.clone()),
                events,
            });
        }
        let first = self.first_retry_secs.unwrap_or(30).clamp(1, 3_600) * 1_000;
        let max_attempts = self.max_attempts.unwrap_or(8).clamp(1, 100);
        c.retry = RetryPolicy { first_retry_ms: first, max_retry_ms: 3_600_000.max(first), max_attempts };
        c.tick = Duration::from_secs(2);
        c.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Some(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_and_smtp_become_the_notifier_config_without_showing_secrets() {
        use figment::providers::{Format, Toml};
        let s: NotifySettings = figment::Figment::from(Toml::string(
            r#"
            public_url = "https://shop.example.com/"
            shop_name = "Acme"
            [smtp]
            host = "mail.example.com"
            username = "acme"
            password = "very-secret-password"
            from = "Acme <orders@acme.example>"
            [[webhooks]]
            name = "crm"
            url = "https://crm.example.com/hook"
            secret = "another-very-secret-value"
            events = ["order_shipped"]
            "#,
        ))
        .extract()
        .expect("parses");
        assert!(!format!("{s:?}").contains("very-secret"));
        let c = s.config("127.0.0.1:8080").expect("valid").expect("enabled");
        assert!(!format!("{c:?}").contains("very-secret"));
        let smtp = c.smtp.as_ref().expect("smtp");
        assert_eq!((smtp.port, smtp.security), (587, SmtpSecurity::StartTls));
        assert_eq!(c.webhooks[0].events, vec![NotificationEvent::OrderShipped]);
        let mut bad = s.clone();
        bad.webhooks[0].events = vec!["order_exploded".into()];
        assert!(bad.config("x").is_err());
        assert!(NotifySettings::default().config("x").expect("ok").is_none());
    }
}
