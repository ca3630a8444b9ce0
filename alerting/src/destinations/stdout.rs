//! Standard output: one line per alert (text, or the JSON or OCSF body).

use std::io::Write;
use vigil_detect::Finding;

use crate::config::DestinationConfig;
use crate::retry::SendError;

#[derive(Debug)]
pub struct Stdout {
    json: bool,
}

impl Stdout {
    pub fn new(config: &DestinationConfig) -> Stdout {
        Stdout {
            json: matches!(config.format.as_deref(), Some("json" | "ocsf")),
        }
    }

    pub fn send(&self, f: &Finding, body: &[u8]) -> Result<(), SendError> {
        let mut out = std::io::stdout().lock();
        let result = if self.json {
            out.write_all(body).and_then(|_| out.write_all(b"\n"))
        } else {
            let context = f
                .context
                .summary()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            writeln!(
                out,
                "ALERT {:<8} {} {} ({} events){context}",
                f.severity.as_str().to_uppercase(),
                f.rule_id,
                f.title,
                f.event_count
            )
        };
        result.map_err(|e| SendError::Permanent {
            message: format!("stdout: {e}"),
        })
    }
}
