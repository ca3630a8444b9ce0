//! The delivery dead-letter: deliveries that still failed, kept until redriven,
//! in a JSON Lines file (local) or an SQS queue (in AWS).

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use vigil_detect::Finding;

use crate::config::AlertingConfig;
use crate::error::AlertError;

/// One failed delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadDelivery {
    pub destination: String,
    pub error: String,
    pub attempts: u32,
    pub dead_lettered_at: String,
    pub finding: Finding,
}

/// A JSON Lines dead-letter file.
#[derive(Debug)]
pub struct DeadLetterFile {
    path: PathBuf,
    lock: Mutex<()>,
}

impl DeadLetterFile {
    pub fn new(path: &Path) -> Self {
        DeadLetterFile {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> AlertError {
        AlertError::DeadLetter {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one failed delivery (one write per line).
    pub fn append(&self, entry: &DeadDelivery) -> Result<(), AlertError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| self.io(std::io::Error::other("lock poisoned")))?;
        let mut line = serde_json::to_vec(entry).map_err(|e| self.io(e.into()))?;
        line.push(b'\n');
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(&line).and_then(|_| f.sync_data()))
            .map_err(|e| self.io(e))
    }

    /// Every entry (none when the file does not exist).
    pub fn read(&self) -> Result<Vec<DeadDelivery>, AlertError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| self.io(e.into())))
            .collect()
    }

    /// Replaces the file's entries (a temporary file renamed over it).
    pub fn replace(&self, entries: &[DeadDelivery]) -> Result<(), AlertError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| self.io(std::io::Error::other("lock poisoned")))?;
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut out = Vec::new();
        for e in entries {
            out.extend(serde_json::to_vec(e).map_err(|e| self.io(e.into()))?);
            out.push(b'\n');
        }
        std::fs::write(&tmp, out)
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|e| self.io(e))
    }
}

/// Where failed deliveries are kept.
#[derive(Debug)]
pub enum DeadLetter {
    File(DeadLetterFile),
    Sqs(SqsDeadLetter),
}

/// Entries taken for a redrive, with what is needed to remove them afterwards.
#[derive(Debug)]
pub struct Taken {
    pub entries: Vec<DeadDelivery>,
    receipts: Vec<String>,
}

impl DeadLetter {
    /// An SQS queue when `dead_letter_queue_url` is set, else the file.
    pub async fn new(config: &AlertingConfig) -> DeadLetter {
        match &config.dead_letter_queue_url {
            Some(url) => DeadLetter::Sqs(
                SqsDeadLetter::new(url, config.dead_letter_endpoint_url.as_deref()).await,
            ),
            None => DeadLetter::File(DeadLetterFile::new(&config.dead_letter)),
        }
    }

    /// Where it is, for messages.
    pub fn location(&self) -> String {
        match self {
            DeadLetter::File(f) => f.path().display().to_string(),
            DeadLetter::Sqs(q) => q.queue_url.clone(),
        }
    }

    pub async fn append(&self, entry: &DeadDelivery) -> Result<(), AlertError> {
        match self {
            DeadLetter::File(f) => f.append(entry),
            DeadLetter::Sqs(q) => q.send(entry).await,
        }
    }

    /// Every entry, left in place.
    pub async fn read(&self) -> Result<Vec<DeadDelivery>, AlertError> {
        match self {
            DeadLetter::File(f) => f.read(),
            DeadLetter::Sqs(q) => Ok(q.receive(0).await?.0),
        }
    }

    /// Every entry, for a redrive; nothing is removed until [`DeadLetter::settle`].
    pub async fn take(&self) -> Result<Taken, AlertError> {
        match self {
            DeadLetter::File(f) => Ok(Taken {
                entries: f.read()?,
                receipts: Vec::new(),
            }),
            DeadLetter::Sqs(q) => {
                // Hidden from other readers while the redrive runs.
                let (entries, receipts) = q.receive(900).await?;
                Ok(Taken { entries, receipts })
            }
        }
    }

    /// After a redrive: `keep` (what failed again, what has no destination)
    /// is stored first, then what was taken is removed.
    pub async fn settle(&self, taken: Taken, keep: &[DeadDelivery]) -> Result<(), AlertError> {
        match self {
            DeadLetter::File(f) => f.replace(keep),
            DeadLetter::Sqs(q) => {
                for e in keep {
                    q.send(e).await?;
                }
                for r in &taken.receipts {
                    q.delete(r).await?;
                }
                Ok(())
            }
        }
    }
}

/// An SQS queue of failed deliveries (one JSON message each).
#[derive(Debug)]
pub struct SqsDeadLetter {
    queue_url: String,
    client: aws_sdk_sqs::Client,
}

impl SqsDeadLetter {
    pub async fn new(queue_url: &str, endpoint: Option<&str>) -> SqsDeadLetter {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(e) = endpoint {
            loader = loader.endpoint_url(e);
        }
        SqsDeadLetter {
            queue_url: queue_url.to_string(),
            client: aws_sdk_sqs::Client::new(&loader.load().await),
        }
    }

    fn error(&self, e: impl std::fmt::Display) -> AlertError {
        AlertError::DeadLetter {
            path: PathBuf::from(&self.queue_url),
            source: std::io::Error::other(e.to_string()),
        }
    }

    async fn send(&self, entry: &DeadDelivery) -> Result<(), AlertError> {
        let body = serde_json::to_string(entry).map_err(|e| self.error(e))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| self.error(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    /// Everything visible (at most 10,000 messages), with receipt handles.
    async fn receive(
        &self,
        visibility_secs: i32,
    ) -> Result<(Vec<DeadDelivery>, Vec<String>), AlertError> {
        let mut entries = Vec::new();
        let mut receipts = Vec::new();
        while entries.len() < 10_000 {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(visibility_secs)
                .send()
                .await
                .map_err(|e| self.error(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            let before = entries.len();
            for m in messages {
                let entry: DeadDelivery = serde_json::from_str(m.body().unwrap_or_default())
                    .map_err(|e| self.error(e))?;
                if visibility_secs == 0
                    && receipts.contains(&m.message_id().unwrap_or_default().to_string())
                {
                    continue;
                }
                receipts.push(if visibility_secs == 0 {
                    m.message_id().unwrap_or_default().to_string()
                } else {
                    m.receipt_handle().unwrap_or_default().to_string()
                });
                entries.push(entry);
            }
            // With visibility 0 the same messages come back: stop when nothing is new.
            if entries.len() == before {
                break;
            }
        }
        Ok((entries, receipts))
    }

    async fn delete(&self, receipt: &str) -> Result<(), AlertError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| self.error(aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        Ok(())
    }
}
